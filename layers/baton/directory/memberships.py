"""What a group write changes on its users' items: each member's `groups` and each lead's `leads`
(the groups it leads), as one update per user item (a user both member and lead, one). And what an
absence write changes on its delegates' items: `standsInFor`, the users whose absence names the
user as `delegateTo` (the reverse lookup by which a delegate acts for them: tasks.standins
`principals`). Pure: the repository (directory.repository `put_group`, `set_absence`) writes them
in the group's or the absence's transaction."""

from __future__ import annotations

from typing import Any

from baton.directory.absence import Absence
from baton.directory.domain import Group


def moves(group: Group, old_members: list[str], old_leads: list[str] | None) -> dict[str, dict[str, str]]:
    """By user, by attribute (`groups`, `leads`): ADD or DELETE the group (`old_leads` None: unchanged)."""
    found: dict[str, dict[str, str]] = {}
    for attr, now, was in (("groups", group.members, old_members),
                           ("leads", group.leads, group.leads if old_leads is None else old_leads)):
        for u in now:
            if u not in was:
                found.setdefault(u, {})[attr] = "ADD"
        for u in was:
            if u not in now:
                found.setdefault(u, {})[attr] = "DELETE"
    return found


def update_expression(ops: dict[str, str]) -> str:
    """One user item's UpdateExpression for its moves (`#groups`, `#leads`; the group id `:g`)."""
    return " ".join(f"{op} " + ", ".join(f"#{a} :g" for a, o in ops.items() if o == op)
                    for op in ("ADD", "DELETE") if op in ops.values())


def stand_in_moves(user: str, before: Absence | None, after: Absence | None) -> dict[str, str]:
    """By delegate: ADD `user` to its `standsInFor` (the new absence's delegate) or DELETE it (the old
    one's, when it changes or the absence ends). An absence that ended by itself keeps its entry
    until the next write: a reader confirms each entry against the absent user's own absence."""
    was = before.delegateTo if before is not None else None
    now = after.delegateTo if after is not None else None
    return {u: op for u, op in ((was, "DELETE"), (now, "ADD")) if u is not None and (was != now or op == "ADD")}


def delegate_op(key: dict[str, Any], check: str, values: dict[str, Any], move: str | None, user: str
                ) -> dict[str, Any]:
    """The transaction's operation on a delegate's user item: a ConditionCheck pinning its absence
    as read, or, with a `move`, the same condition on an Update of its `standsInFor`."""
    body: dict[str, Any] = {"Key": key, "ConditionExpression": check}
    if move is None:
        return {"ConditionCheck": {**body, **({"ExpressionAttributeValues": values} if values else {})}}
    return {"Update": {**body, "UpdateExpression": f"{move} #sif :me",
                       "ExpressionAttributeNames": {"#sif": "standsInFor"},
                       "ExpressionAttributeValues": {**values, ":me": {"SS": [user]}}}}
