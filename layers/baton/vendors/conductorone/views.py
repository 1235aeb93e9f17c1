"""Baton's task and user as ConductorOne's API shows them (`c1.api.task.v1.Task` inside a `TaskView`,
`c1.api.user.v1.User` in `expanded`), for its reassign and its task get (the native task get
composes this view).

ConductorOne's official SDK parses every answer into its typed models, so the fields it knows
carry their ConductorOne types: `type` is a `TaskType` object, `state` a `TaskState` name,
`policy` a `PolicyInstance` whose current step is an approval carrying the reassignment policy.
Baton's own fields that do not clash (`name`, `status`, `assignee`, `candidateUsers`,
`candidateGroups`, `version`, ...) stay alongside; the two that do (`type`, `policy`) keep their
Baton values under `data`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from baton.directory.domain import User
from baton.tasks.domain import Task

USER_TYPE = "type.googleapis.com/c1.api.user.v1.User"
# the expand-mask paths that ask for the users of the step
EXPAND_USERS = frozenset({"*", "stepApprovers", "step_approver_ids", "users", "newStepUsers"})
STEP_ID = "approval"  # a Baton task has one step: whoever holds or is offered it approves


def step_approvers(task: Task) -> list[str]:
    """Who the current step waits on: the holder, or the users the task is offered to."""
    return [task.assignee] if task.assignee else list(task.candidateUsers)


def task(t: Task) -> dict[str, Any]:
    native = t.model_dump()
    is_open = t.status == "open"
    approvers = step_approvers(t)
    policy = t.policy
    return {
        **{k: v for k, v in native.items() if k not in ("type", "policy")},
        "displayName": t.name,
        "state": "TASK_STATE_OPEN" if is_open else "TASK_STATE_CLOSED",
        "type": {},  # none of ConductorOne's kinds (grant, revoke, certify, ...): a plain work item
        "stepApproverIds": approvers,
        "createdByUserId": t.createdBy or "",
        "policy": {"current": {
            "id": STEP_ID,
            "approval": {"approval": {
                "allowReassignment": policy.allowReassignment,
                "allowedReassignees": list(policy.allowedReassignees),
                "requireReassignmentReason": policy.requireReassignmentReason,
                "users": {"userIds": approvers},
            }},
        }},
        "data": {"type": native["type"], "policy": native["policy"]},
    }


def user(entry: User) -> dict[str, Any]:
    """A directory user as a ConductorOne `User` object (an `expanded` entry)."""
    name = " ".join(p for p in (entry.firstname, entry.lastname) if p) or entry.username
    return {"@type": USER_TYPE, "id": entry.id, "displayName": name, "username": entry.username,
            "email": entry.email, "status": "ENABLED" if entry.active else "DISABLED"}


def task_view(t: Task, expanded: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """ConductorOne's `taskView` of a task and its `expanded` objects (the users of the step)."""
    view: dict[str, Any] = {"task": task(t)}
    if expanded:
        view["stepApproversPath"] = "$.expanded[*]"
    return {"taskView": view, "expanded": expanded or []}


def wants_users(paths: Iterable[str]) -> bool:
    """Whether an expand mask asks for the step's users."""
    return bool(EXPAND_USERS.intersection(paths))


def expanded_users(ids: Iterable[str], users: dict[str, User]) -> list[dict[str, Any]]:
    """The users of `ids` that exist, once each, in order, as `expanded` objects."""
    return [user(users[u]) for u in dict.fromkeys(ids) if u in users]
