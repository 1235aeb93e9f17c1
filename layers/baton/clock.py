"""Baton's one source of "now": the wall clock, or in tests a controlled time (no sleeps).

Leases compare these timestamps as strings: every one is in the fixed-width UTC form Baton
stores (`2026-01-02T03:04:05.000000Z`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

_offset = timedelta(0)
_frozen: datetime | None = None


def current() -> datetime:
    return (_frozen or datetime.now(UTC)) + _offset


def stamp(at: datetime | None = None) -> str:
    at = at or current()
    return at.isoformat(timespec="microseconds").replace("+00:00", "Z")


def after(seconds: int) -> str:
    """The timestamp `seconds` from now."""
    return stamp(current() + timedelta(seconds=seconds))


def advance(seconds: float) -> None:
    """Move this process's clock forward (tests)."""
    global _offset  # noqa: PLW0603 - the process's one controllable clock
    _offset += timedelta(seconds=seconds)


def freeze() -> None:
    """Stop this process's clock at the current time: only `advance` moves it (tests, so that a
    slow machine can't let a lease run out between two steps)."""
    global _frozen  # noqa: PLW0603
    _frozen = current()


def reset() -> None:
    global _offset, _frozen  # noqa: PLW0603
    _offset, _frozen = timedelta(0), None
