"""Baton's one source of "now": the wall clock, or in tests a controlled time (no sleeps).

Leases compare these timestamps as strings: every one is in the fixed-width UTC form Baton
stores (`2026-01-02T03:04:05.000000Z`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

_offset = timedelta(0)


def current() -> datetime:
    return datetime.now(UTC) + _offset


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


def reset() -> None:
    global _offset  # noqa: PLW0603
    _offset = timedelta(0)
