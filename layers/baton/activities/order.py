"""The order of ProcessMaker's assignee lists: groups by title, then users by first name (ties by
id); inactive users after the end of the list (kept, not listed or counted). The repositories
store an assignment row at `storage.keys.ranked_order(*entry_place(item))`."""

from __future__ import annotations

from typing import Any

RANK_GROUP, RANK_USER, RANK_INACTIVE = "G", "U", "X"
COUNTERS = {RANK_GROUP: "groupCount", RANK_USER: "userCount"}  # the activity's count of each listed rank


def entry_rank(entry: dict[str, Any]) -> str:
    """A directory item's rank in assignee lists: a group, an active user, an inactive user."""
    if "groupId" in entry:
        return RANK_GROUP
    return RANK_USER if entry.get("active", True) else RANK_INACTIVE


def entry_place(entry: dict[str, Any]) -> tuple[str, str, str]:
    """A directory item's place in assignee lists: its rank, the name it sorts by, its id."""
    group = "groupId" in entry
    name = entry.get("name", "") if group else entry.get("firstname", "")
    uid = entry["groupId"] if group else entry["userId"]
    return entry_rank(entry), str(name), str(uid)
