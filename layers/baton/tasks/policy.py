"""A task's reassignment policy (API.md: `allowReassignment`, `allowedReassignees`,
`requireReassignmentReason`), checked by tasks.eligibility (`_pass_on`) whenever a held task passes
to someone else, on every path and in every dialect. Pure."""

from __future__ import annotations

from baton.errors import BadRequest, Forbidden
from baton.tasks.change import Groups
from baton.tasks.domain import Task


def check_policy(task: Task, targets: tuple[str, ...], known: Groups, reason: str | None) -> None:
    """Raise why `task` may not pass to `targets` (`known`: the users read, by id; None: not read,
    so none is known); `reason`: the comment given."""
    if not task.policy.allowReassignment:
        raise Forbidden(f"Task {task.id} does not allow reassignment", reason="reassignmentNotAllowed")
    if not targets:
        raise BadRequest("newStepUserIds must name at least one user", reason="invalidRequest")
    unknown = [u for u in targets if known is None or u not in known]
    if unknown:
        raise BadRequest(f"Unknown user: {', '.join(unknown)}", reason="invalidRequest")
    allowed = set(task.policy.allowedReassignees)
    if allowed and not set(targets) <= allowed:
        refused = [u for u in targets if u not in allowed]
        raise BadRequest(f"Not an allowed reassignee: {', '.join(refused)}", reason="invalidRequest")
    if task.policy.requireReassignmentReason and not (reason or "").strip():
        raise BadRequest("A comment is required to reassign this task", reason="invalidRequest")
