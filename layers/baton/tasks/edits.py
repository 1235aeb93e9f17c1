"""Edits of a task's own fields (`PATCH /api/v1/tasks/{id}`): priority, dueDate, candidates and
policy, by admin or apiwrite, on an open task; its holder and lease stay. The change is an action
of the one algorithm (tasks.algorithm) like every other, with one `update` event whose `changes`
name what it set; nothing to change (every field as it is) writes nothing."""

from __future__ import annotations

from typing import Any

from baton.domain import WRITE_ROLES, require_role
from baton.errors import BadRequest
from baton.tasks import rules
from baton.tasks.algorithm import Action, Changes, now
from baton.tasks.change import Change, Seen
from baton.tasks.domain import TaskPolicy
from baton.tasks.layout import MAX_CANDIDATES

FIELDS = ("priority", "dueDate", "candidateUsers", "candidateGroups", "policy")


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

    def decide(seen: Seen) -> Change | None:
        task = seen.view
        rules.require_open(task)
        users = updates.get("candidateUsers", task.candidateUsers)
        groups = updates.get("candidateGroups", task.candidateGroups)
        if len(users) + len(groups) > MAX_CANDIDATES:
            raise BadRequest(f"A task may have at most {MAX_CANDIDATES} candidates (users and groups together); "
                             f"this one would have {len(users) + len(groups)}")
        if all(getattr(task, k) == v for k, v in updates.items()):
            return None
        after = task.model_copy(update={**updates, "version": task.version + 1, "updatedAt": now()})
        return seen.change(after, changes.event(task, "update", None, None))
    return Action("update", decide)
