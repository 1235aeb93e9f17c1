"""The rules of API.md as pure functions of a task, a caller and the caller's groups.

The service checks them on the state it read, and the store's condition expression
re-asserts the same state (status, type, assignee, version) at write time, so a
concurrent change turns into a failed condition rather than a lost update.
"""

from __future__ import annotations

from collections.abc import Iterable

from baton.domain import WORK_ROLES, Caller, Task
from baton.errors import BadRequest, Conflict, Forbidden


def is_candidate(task: Task, user_id: str, groups: Iterable[str]) -> bool:
    return user_id in task.candidateUsers or bool(set(groups) & set(task.candidateGroups))


def may_work_on(task: Task, caller: Caller, groups: Iterable[str]) -> bool:
    """Open, manual, and the caller holds it, is a candidate, or is admin."""
    if task.status != "open" or task.type != "manual":
        return False
    return task.assignee == caller.user_id or caller.is_admin or is_candidate(task, caller.user_id, groups)


def require_role(caller: Caller, roles: frozenset[str] = WORK_ROLES) -> None:
    if not caller.has_any(roles):
        raise Forbidden(f"Requires one of the roles: {', '.join(sorted(roles))}", reason="accessDenied")


def require_open(task: Task) -> None:
    if task.status != "open":
        raise BadRequest(f"Task {task.id} is already {task.status}", reason="txnAlreadyFinished")


def require_manual(task: Task) -> None:
    if task.type != "manual":
        raise BadRequest(f"Task {task.id} is automatic and cannot be assigned", reason="txnNotTask")


def check_claim(task: Task, caller: Caller, groups: Iterable[str]) -> bool:
    """Raise why the caller may not claim; return False when the caller already holds it."""
    require_role(caller)
    require_open(task)
    require_manual(task)
    if task.assignee == caller.user_id:
        return False
    if not may_work_on(task, caller, groups):
        raise Forbidden(f"User {caller.username} may not work on task {task.id}", reason="accessDenied")
    if task.assignee is not None:
        raise Conflict(f"Task {task.id} is already claimed by {task.assignee}",
                       reason="txnAlreadyAssigned", holder=task.assignee)
    return True


def check_release(task: Task, caller: Caller) -> None:
    require_role(caller)
    require_open(task)
    if task.assignee is None:
        raise Conflict(f"Task {task.id} is not assigned", reason="notAssigned")
    if task.assignee != caller.user_id and not caller.is_admin:
        raise Forbidden(f"Task {task.id} is held by {task.assignee}", reason="accessDenied")


def check_assign(task: Task, caller: Caller, target: str, target_groups: Iterable[str]) -> bool:
    """Raise why `caller` may not give the task to `target`; False when target already holds it."""
    require_role(caller)
    require_open(task)
    require_manual(task)
    if task.assignee == target:
        return False
    if not is_candidate(task, target, target_groups):
        raise BadRequest(f"User {target} may not work on task {task.id}", reason="accessDenied")
    if task.assignee is not None and not caller.is_admin:
        raise Conflict(f"Task {task.id} is already assigned to {task.assignee}",
                       reason="txnAlreadyAssigned", holder=task.assignee)
    return True


def check_finish(task: Task, caller: Caller) -> None:
    """Complete and abandon: the holder, or admin."""
    require_role(caller)
    require_open(task)
    if task.assignee != caller.user_id and not caller.is_admin:
        holder = task.assignee or "nobody"
        raise Forbidden(f"Task {task.id} is held by {holder}", reason="accessDenied")
