"""What a group write changes on its users' items: each member's `groups` and each lead's `leads`
(the groups it leads), as one update per user item (a user both member and lead, one). Pure: the
repository (directory.repository `put_group`) writes them in the group's transaction."""

from __future__ import annotations

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
