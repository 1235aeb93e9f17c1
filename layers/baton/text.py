"""What counts as text where tenants, ids and bodies enter (shared kernel, pure).

A JSON string may hold a lone surrogate (`"\\ud800"` parses to one): it is no Unicode text, and
neither UTF-8, a URL, a log line nor an event can carry it. Baton refuses it where it enters
(claims: 401; ids, queries and bodies: 400), so that nothing downstream (the event feed, above
all) ever meets one."""

from __future__ import annotations

from typing import Any

# Ids that are names of path segments themselves: a URL built from them points elsewhere.
DOT_SEGMENTS = frozenset({".", ".."})


def is_text(value: str) -> bool:
    """Whether `value` is valid Unicode text (no lone surrogate)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def all_text(value: Any) -> bool:
    """Whether every string in `value` (keys too, at any depth; no recursion) is valid text."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if not is_text(item):
                return False
        elif isinstance(item, dict):
            pending += [*item.keys(), *item.values()]
        elif isinstance(item, list | tuple):
            pending += item
    return True
