"""Edits of a task's own fields (`PATCH /api/v1/tasks/{id}`): priority, dueDate, candidates,
policy and the escalation ladder, by admin or apiwrite, on an open task; its holder and lease stay.
The change is an action of the one algorithm (tasks.algorithm) like every other, with one `update`
event whose `changes` name what it set; nothing to change (every field as it is) writes nothing."""

from __future__ import annotations

from typing import Any

from baton.domain import WRITE_ROLES, require_role
from baton.errors import BadRequest
from baton.tasks import escalations, rules
from baton.tasks.algorithm import Action, Changes, now
from baton.tasks.change import Change, Seen
from baton.tasks.domain import TaskPolicy
from baton.tasks.layout import MAX_CANDIDATES

FIELDS = ("priority", "dueDate", "candidateUsers", "candidateGroups", "policy", "escalations")


def update(changes: Changes, fields: dict[str, Any]) -> Action:
    """The action that sets `fields` (a field absent stays; `dueDate: None` clears it)."""
    require_role(changes.caller, WRITE_ROLES)
    if not fields:
        raise BadRequest(f"Give at least one of {', '.join(FIELDS)}")
    unknown = sorted(set(fields) - set(FIELDS))
    if unknown:
        raise BadRequest(f"Not a field an update sets: {', '.join(unknown)}")
    updates = dict(fields)
    for name in ("candidateUsers", "candidateGroups"):
        if name in updates:
            updates[name] = list(dict.fromkeys(updates[name] or []))
    if "priority" in updates and updates["priority"] is None:
        raise BadRequest("priority: an integer from 0 to 100 (it cannot be cleared)")
    if "policy" in updates:
        updates["policy"] = TaskPolicy.model_validate(updates["policy"] or {})
    ladder: list[escalations.Step] | None = None
    if "escalations" in updates:  # checked like a create's; the task's users and groups known in the tenant
        ladder = escalations.parse_ladder(updates.pop("escalations"))
        directory, tenant = getattr(changes, "directory"), changes.caller.tenant  # noqa: B009 - the service's
        escalations.check_known(ladder, lambda us, gs: (
            sorted(us - set(directory.users(tenant, sorted(us)))),
            sorted(g for g in gs if directory.get_group(tenant, g)[0] is None)))

    def decide(seen: Seen) -> Change | None:
        task = seen.view
        rules.require_open(task)
        users = updates.get("candidateUsers", task.candidateUsers)
        groups = updates.get("candidateGroups", task.candidateGroups)
        if len(users) + len(groups) > MAX_CANDIDATES:
            raise BadRequest(f"A task may have at most {MAX_CANDIDATES} candidates (users and groups together); "
                             f"this one would have {len(users) + len(groups)}")
        steps = {} if ladder is None else {"escalations": escalations.edited(task.escalations, ladder)}
        if all(getattr(task, k) == v for k, v in updates.items()) and (
                ladder is None or [s.definition() for s in task.escalations] == [s.definition() for s in ladder]):
            return None
        stamp = now()
        after = task.model_copy(update={**updates, **steps, "version": task.version + 1, "updatedAt": stamp})
        # what changed is armed afresh (a new or changed step, a due step following a new dueDate)
        return seen.change(escalations.rearmed(task, after, stamp), changes.event(task, "update", None, None))
    return Action("update", decide)
