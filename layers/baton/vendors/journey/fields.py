"""Journey Manager's names for Baton's: a task is its `submitKey`, a user its `userKey`."""

from __future__ import annotations

from baton.errors import BadRequest


def task_id(submit_key: str | None) -> str:
    """The task a request names by its `submitKey` (which Journey Manager requires)."""
    if not submit_key:
        raise BadRequest("submitKey not specified", reason="submitKeyNotSpecified")
    return submit_key
