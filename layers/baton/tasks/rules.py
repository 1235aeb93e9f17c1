"""The task rules of API.md as pure functions of a task, a caller and the caller's groups.

The service checks them on the state it read, and the repository's condition re-asserts the same
state (status, type, assignee, version) at write time, so a concurrent change turns into a
failed condition rather than a lost update. The claim rule is declared once (`CLAIMABLE`,
`DIRECT_CLAIM`): the Python checks below and the one-request claim's ConditionExpression
(tasks.repository.claim_direct) are both rendered from it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from baton.domain import Caller, require_role
from baton.errors import BadRequest, Conflict, Forbidden
from baton.storage.conditions import Param, absent, contains, eq, rule, size
from baton.tasks.domain import Task

OPEN = eq("status", "open")
MANUAL = eq("type", "manual")
FREE = absent("assignee")
# A task anyone eligible may claim: open, manual, held by nobody.
CLAIMABLE = rule(OPEN, MANUAL, FREE)
# The one-request claim (no read first): a claimable task whose only candidate is the caller
# (`me`), offered to no group, without a lease to set, a pending claim event to write out or an
# escalation ladder to re-arm (tasks.escalations). Its
# condition is this rule rendered; anything else takes the read-and-decide path.
DIRECT_CLAIM = CLAIMABLE & rule(contains("candidateUsers", Param("me")), size("candidateUsers", 1),
                                size("candidateGroups", 0), absent("lastEvent"), absent("leaseSeconds"),
                                absent("escalations"))
# A write at the version the client expects (If-Match).
AT_VERSION = eq("version", Param("version"))


def fields(task: Task) -> Mapping[str, Any]:
    """The task's fields as the declared rules read them (every field, None where unset; an empty
    ladder is not stored, so it reads as unset)."""
    return {**dict(task), "escalations": task.escalations or None}


def may_claim_directly(task: Task, user_id: str) -> bool:
    return DIRECT_CLAIM.holds(fields(task), me=user_id)


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


def check_claim(task: Task, caller: Caller, groups: Iterable[str]) -> bool:
    """Raise why the caller may not claim; return False when the caller already holds it."""
    require_role(caller)
    require_open(task)
    require_manual(task)
    if task.assignee == caller.user_id:
        return False
    if not may_work_on(task, caller, groups):
        raise Forbidden(f"User {caller.username} may not work on task {task.id}", reason="accessDenied")
    if not FREE.holds(fields(task), {}):
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
    if task.assignee is not None and task.assignee != caller.user_id and not caller.is_admin:
        # the holder may pass its own task on; someone else's only admin
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


def require_group_task(task: Task) -> None:
    if not task.is_group_task:
        raise BadRequest(f"Task {task.id} is not a group task", reason="notGroupTask")


def check_unassign(task: Task, caller: Caller, groups: Iterable[str]) -> bool:
    """Journey Manager unassign: back to the group queue. False when nobody holds it."""
    require_role(caller)
    require_open(task)
    require_manual(task)
    require_group_task(task)
    if not may_work_on(task, caller, groups):
        raise Forbidden(f"User {caller.username} has no access to task {task.id}", reason="accessDenied")
    return task.assignee is not None


def check_group_assign(task: Task, caller: Caller, target: str, target_groups: Iterable[str] | None) -> bool:
    """Journey Manager assign: a group task to the caller, or (admin only) to another member.
    `target_groups` None: the target is not a user of the tenant."""
    require_role(caller)
    require_open(task)
    require_manual(task)
    require_group_task(task)
    if target != caller.user_id and not caller.is_admin:
        raise Forbidden("Only admin may assign a task to someone else", reason="accessDenied")
    if target_groups is None or not set(target_groups) & set(task.candidateGroups):
        raise Forbidden(f"User {target} is not a member of the groups of task {task.id}", reason="accessDenied")
    if task.assignee == target:
        return False
    if task.assignee is not None:
        raise Conflict(f"Task {task.id} is already assigned to {task.assignee}; unassign it first",
                       reason="txnAlreadyAssigned", holder=task.assignee)
    return True


def check_reassign(task: Task, caller: Caller, groups: Iterable[str], targets: list[str],
                   known: Iterable[str], comment: str | None) -> None:
    """ConductorOne reassign: the holder, a candidate of an unassigned task, or admin, within
    the task's reassignment policy."""
    require_role(caller)
    require_open(task)
    require_manual(task)
    me = caller.user_id
    if not (task.assignee == me or caller.is_admin
            or (task.assignee is None and is_candidate(task, me, groups))):
        raise Forbidden(f"User {caller.username} may not reassign task {task.id}", reason="accessDenied")
    if not task.policy.allowReassignment:
        raise Forbidden(f"Task {task.id} does not allow reassignment", reason="reassignmentNotAllowed")
    if not targets:
        raise BadRequest("newStepUserIds must name at least one user", reason="invalidRequest")
    unknown = [u for u in targets if u not in set(known)]
    if unknown:
        raise BadRequest(f"Unknown user: {', '.join(unknown)}", reason="invalidRequest")
    allowed = set(task.policy.allowedReassignees)
    if allowed and not set(targets) <= allowed:
        refused = [u for u in targets if u not in allowed]
        raise BadRequest(f"Not an allowed reassignee: {', '.join(refused)}", reason="invalidRequest")
    if task.policy.requireReassignmentReason and not (comment or "").strip():
        raise BadRequest("A comment is required to reassign this task", reason="invalidRequest")


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
