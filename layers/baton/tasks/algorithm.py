"""The one algorithm every task action runs (`Changes.apply`): read the task and the memberships
the action needs (one consistent BatchGetItem), decide on the task as the rules see it (a passed
lease taken over: tasks.leases), and write the resulting `Change` (tasks.change: before, after,
events, what it asserts) as one transaction. If the write is refused, the task as it then was
(TaskChanged) is decided again: raising why (409, 412, ...), or, when the action is still
allowed, going round (at most MAX_ATTEMPTS times). A state already read (claim-next's queue, a
bulk request's read, the claim fast path's refused image) is decided on without reading.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any, NamedTuple

from baton import clock
from baton.domain import Caller
from baton.errors import Conflict, Forbidden, NotFound, PreconditionFailed
from baton.storage.dynamo import TransactionConflict
from baton.tasks import escalations as ladder
from baton.tasks import standins
from baton.tasks.change import Change, Groups, Seen
from baton.tasks.domain import (
    HistoryEvent,
    HistoryRaced,
    HolderRefused,
    MembershipLost,
    Person,
    SeparationRefused,
    StandInChanged,
    Task,
    TaskChanged,
)
from baton.tasks.holders import at_capacity, inactive
from baton.tasks.leases import takeover
from baton.tasks.repository import TaskRepository

MAX_ATTEMPTS = 8


def now() -> str:
    return clock.stamp()


def new_id() -> str:
    return uuid.uuid4().hex


def read_stand_ins(tasks: TaskRepository, tenant: str, users: Iterable[str]) -> Mapping[str, Person]:
    """`Changes.read_stand_ins` for any holder of a task repository (the escalation sweeper)."""
    users, tried = [u for u in users if u], set[str]()
    for _ in range(standins.MAX_HOPS + 2):  # the users, then each hop
        missing = standins.unread(users, tasks.people, now(), tried)
        if not missing:
            break
        tried.update(missing)
        tasks.read_people(tenant, missing)
    return tasks.people


def read_principals(tasks: TaskRepository, tenant: str, me: str) -> Mapping[str, Person]:
    """The users `me` may stand in for (its `standsInFor`, up the chain: tasks.standins
    `principals`), read into what the repository knows (one BatchGetItem per hop, only while the
    reverse lookup names someone not read)."""
    tried: set[str] = set()
    for _ in range(standins.MAX_HOPS + 1):
        missing = standins.unread_principals(me, tasks.people, tried)
        if not missing:
            break
        tried.update(missing)
        tasks.read_people(tenant, missing)
    return tasks.people


class Action(NamedTuple):
    """One action on one task: its verb; how it decides (the task as seen -> the change, or None
    when there is nothing to do); the other users whose memberships it reads; whether it is the
    holder's own action (release, heartbeat, complete, abandon: after its lease has passed it is
    refused, and the write asserts the lease is still running)."""

    verb: str
    decide: Callable[[Seen], Change | None]
    reads: tuple[str, ...] = ()
    by_holder: bool = False


# A state to decide on without reading: the task and the memberships (None: not read).
State = tuple[Task | None, Groups]


class Changes:
    """The algorithm, for one caller over one repository."""

    def __init__(self, tasks: TaskRepository, caller: Caller) -> None:
        self.tasks = tasks
        self.caller = caller

    def apply(self, task_id: str, action: Action, if_match: int | None, first: State | None = None
              ) -> tuple[Task, Change | None]:
        """Decide and write `action`; the task as it now is, and the change written (None: there
        was nothing to change). `first`: a state already read (claim-next's queue, the fast path's
        refused image), decided on instead of reading."""
        state = first
        for _ in range(MAX_ATTEMPTS):
            if state is None:
                state = self.tasks.read_task_and_users(self.caller.tenant, task_id,
                                                       (self.caller.user_id, *action.reads))
            task, groups = state
            state = None
            if task is None:
                raise NotFound(f"Task {task_id} not found", reason="txnNotFound")
            if if_match is not None and task.version != if_match:
                raise PreconditionFailed(f"Task {task_id} is at version {task.version}, not {if_match}")
            view, expired = takeover(task, self.caller.user_id, action.by_holder)
            change = action.decide(Seen(task, view, expired, groups, action.by_holder))
            if change is None:
                return task, None
            try:
                self.tasks.write(self.caller.tenant, change)
                return change.after, change
            except MembershipLost as lost:  # the membership the change relied on is gone
                member = change.membership_of(lost.user)
                if member is not None and member.assumed:
                    raise Forbidden(f"User {self.caller.username} may not work on task {task_id}",
                                    reason="accessDenied") from None
                what = "a lead of the task's groups" if lost.attribute == "leads" else "a member of the task's groups"
                raise Forbidden(f"User {lost.user} is no longer {what}", reason="accessDenied") from None
            except HolderRefused as refused:  # full, inactive or without a required skill, at write time
                if refused.why == "capacity" and refused.person is not None:
                    raise at_capacity(refused.person) from None
                if refused.why == "inactive":
                    raise inactive(refused.user) from None
                raise Forbidden(f"User {refused.user} lacks the skills task {task_id} requires",
                                reason="missingSkills") from None
            except SeparationRefused as refused:  # the holder's holds in the case, as the write found them
                raise Conflict(refused.rule, reason="separation") from None
            except TaskChanged as changed:
                # The task as it was when the write was refused is the next read (memberships not
                # read are taken for granted only while nobody holds it).
                current = changed.current
                if current is None:
                    raise NotFound(f"Task {task_id} not found", reason="txnNotFound") from None
                state = (current, groups) if groups is not None or current.assignee is None else None
            except StandInChanged as changed:  # an absence (or `active`) it was decided on changed: read it again
                self.tasks.people.pop(changed.user, None)
                state = None
            except (HistoryRaced, TransactionConflict):
                pass
        raise Conflict(f"Task {task_id} is changing too fast; try again", reason="busy")

    def read_stand_ins(self, users: Iterable[str]) -> Mapping[str, Person]:
        """The people tasks.standins needs to decide who takes work meant for `users`: the chains
        of their delegates, read (one BatchGetItem per hop, only while someone on it is absent)
        into what the repository knows. The caller taking work for itself is never redirected:
        nothing to read for it; but it may act for the absent users it stands in for (read too)."""
        read_stand_ins(self.tasks, self.caller.tenant, [u for u in users if u != self.caller.user_id])
        # and whom the caller stands in for (a delegate claims on their behalf: tasks.standins `acting_for`)
        return read_principals(self.tasks, self.caller.tenant, self.caller.user_id)

    def event(self, task: Task, action: str, from_: str | None, to: str | None,
              comment: str | None = None, candidates: list[str] | None = None, grant: Any = None) -> HistoryEvent:
        """The change's history event; `grant` (tasks.eligibility): its absence, if one decided
        who took it, is the event's reason and `onBehalfOf`."""
        why = {"reason": grant.reason, "onBehalfOf": grant.on_behalf_of} if grant is not None and grant.reason else {}
        return HistoryEvent.model_validate({
            "id": new_id(), "taskId": task.id, "version": task.version + 1, "at": now(), "actor": self.caller.user_id,
            "action": action, "from": from_, "to": to, "comment": comment, "candidates": candidates, **why})

    def next(self, task: Task, **changes: Any) -> Task:
        """The task's next version. A lease ends with every change but the one that sets it, an
        offer with every change but the one that makes it; a holder ends the round of offers. Its
        escalation steps are armed for the new state (tasks.escalations.arm: a change naming a
        holder is a new claim, re-arming the steps counted from the claim)."""
        ended: dict[str, Any] = {"offeredTo": None, "offerExpiresAt": None}
        if changes.get("assignee"):
            ended["offerTried"] = []
        stamp = now()
        after = task.model_copy(update={"leaseExpiresAt": None, **ended, **changes, "version": task.version + 1,
                                        "updatedAt": stamp})
        if not after.escalations:
            return after
        return after.model_copy(update={"escalations": ladder.arm(task, after, stamp,
                                                                  changes.get("assignee") is not None)})
