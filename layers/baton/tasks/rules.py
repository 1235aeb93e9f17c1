"""The task rules of API.md as pure functions of a task, a caller and the caller's groups: what a
task is (open, manual, free), and the actions that give a task to nobody (release, unassign,
heartbeat, complete, abandon). Who may hold a task, on every path that gives one, is
tasks.eligibility.

The service checks them on the state it read, and the write re-asserts that state (tasks.change),
so a concurrent change turns into a failed condition rather than a lost update. The basic clauses
(`OPEN`, `MANUAL`, `FREE`) are declared once through storage.conditions: a Python check and a
DynamoDB condition.
"""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Iterable, Mapping
from typing import Any

from baton.domain import Caller, require_role
from baton.errors import BadRequest, Conflict, Forbidden
from baton.storage.conditions import absent, eq
from baton.tasks.domain import Task

OPEN = eq("status", "open")
MANUAL = eq("type", "manual")
FREE = absent("assignee")


def fields(task: Task) -> Mapping[str, Any]:
    """The task's fields as the declared rules read them (every field, None where unset; an empty
    ladder is not stored, so it reads as unset): a view of the model's values, not a copy (a copy
    of every field, five times a task, was a tenth of a bulk request's CPU)."""
    return ChainMap({"escalations": task.escalations or None}, vars(task))


def is_candidate(task: Task, user_id: str, groups: Iterable[str]) -> bool:
    return user_id in task.candidateUsers or bool(set(groups) & set(task.candidateGroups))


def may_work_on(task: Task, caller: Caller, groups: Iterable[str]) -> bool:
    """Open, manual, and the caller holds it, is a candidate, or is admin."""
    if not (OPEN.holds(fields(task), {}) and MANUAL.holds(fields(task), {})):
        return False
    return task.assignee == caller.user_id or caller.is_admin or is_candidate(task, caller.user_id, groups)


def require_open(task: Task) -> None:
    if not OPEN.holds(fields(task), {}):
        raise BadRequest(f"Task {task.id} is already {task.status}", reason="txnAlreadyFinished")


def require_manual(task: Task) -> None:
    if not MANUAL.holds(fields(task), {}):
        raise BadRequest(f"Task {task.id} is automatic and cannot be assigned", reason="txnNotTask")


def check_release(task: Task, caller: Caller, overseen: bool = False) -> None:
    """The holder, or who oversees the task (admin, a lead of its groups: tasks.oversight)."""
    require_role(caller)
    require_open(task)
    if task.assignee is None:
        raise Conflict(f"Task {task.id} is not assigned", reason="notAssigned")
    if task.assignee != caller.user_id and not (caller.is_admin or overseen):
        raise Forbidden(f"Task {task.id} is held by {task.assignee}", reason="accessDenied")


def check_finish(task: Task, caller: Caller) -> None:
    """Complete and abandon: the holder, or admin; a delegated task (pending): its owner, or admin."""
    require_role(caller)
    require_open(task)
    if task.delegationState == "pending" and not caller.is_admin:
        if task.owner != caller.user_id:
            raise Forbidden(f"Task {task.id} is delegated: only its owner {task.owner} completes it",
                            reason="accessDenied")
        return
    if task.assignee != caller.user_id and not caller.is_admin:
        holder = task.assignee or "nobody"
        raise Forbidden(f"Task {task.id} is held by {holder}", reason="accessDenied")


def require_group_task(task: Task) -> None:
    if not task.is_group_task:
        raise BadRequest(f"Task {task.id} is not a group task", reason="notGroupTask")


def check_unassign(task: Task, caller: Caller, groups: Iterable[str], overseen: bool = False) -> bool:
    """Journey Manager unassign: back to the group queue (who may work on it, or a lead of its
    groups: `overseen`). False when nobody holds it."""
    require_role(caller)
    require_open(task)
    require_manual(task)
    require_group_task(task)
    if not (may_work_on(task, caller, groups) or overseen):
        raise Forbidden(f"User {caller.username} has no access to task {task.id}", reason="accessDenied")
    return task.assignee is not None


def check_heartbeat(task: Task, caller: Caller, lease_seconds: int | None) -> None:
    """Extend a lease: the holder only (a passed lease is refused before this: tasks.leases.takeover)."""
    require_role(caller)
    require_open(task)
    if task.assignee is None:
        raise Conflict(f"Task {task.id} is not assigned", reason="notAssigned")
    if task.assignee != caller.user_id:
        raise Forbidden(f"Task {task.id} is held by {task.assignee}", reason="accessDenied")
    if not (lease_seconds or task.leaseSeconds):
        raise BadRequest(f"Task {task.id} has no lease to extend: give leaseSeconds", reason="invalidRequest")
