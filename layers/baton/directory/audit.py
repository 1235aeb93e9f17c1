"""A user's ledger (API.md "Audit"): the directory events of changes to a user that decide who gets
work, today its absence being set or ended (`absence-set`, `absence-end`). Each is written in the
transaction of its change, numbered and hash-chained after the user's last one (`ledgerVersion`
and `lastHash` on the user item, as an activity keeps them), and indexed in the tenant audit like
every ledger event (`kind: "directory"`, served by baton.ledger). Pure, no I/O."""

from __future__ import annotations

import uuid
from typing import Any

from baton import clock, ledger
from baton.directory.absence import Absence

ABSENCE_SET, ABSENCE_END = "absence-set", "absence-end"
ABSENCE_ENDED = "absence-ended"  # the reason of an absence ended by the sweep at its `until`


def absence_event(user_id: str, actor: str, before: Absence | None, after: Absence | None, version: int,
                  last_hash: str | None, expired: bool = False) -> dict[str, Any]:
    """The event of `user_id`'s absence going from `before` to `after` (None: none), by `actor`
    (on behalf of the user when someone else, an admin, set it), numbered `version` + 1 and hashed
    after `last_hash`. `to` names who stands in. `expired`: the sweep ended it at its `until`
    (reason `absence-ended`)."""
    event: dict[str, Any] = {
        "id": uuid.uuid4().hex, "kind": ledger.DIRECTORY_KIND, "projectId": None, "activityId": None,
        "userId": user_id, "version": version + 1, "at": clock.stamp(), "actor": actor,
        "action": ABSENCE_SET if after is not None else ABSENCE_END,
        "from": before.delegateTo if before is not None else None,
        "to": after.delegateTo if after is not None else None, "comment": None,
        "changes": {"absence": {"from": before.public() if before else None, "to": after.public() if after else None}},
        "reason": ABSENCE_ENDED if expired else "request",
        "onBehalfOf": user_id if actor != user_id and not expired else None}
    event["hash"] = ledger.event_hash(last_hash, event)
    return event
