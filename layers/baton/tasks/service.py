"""Task actions, over the task repository.

Each task action reads the task and the caller (one consistent BatchGetItem), checks the
rules, then writes the new state and its history event in one transaction whose condition
asserts the state it was checked on. If the condition fails, the task as it was at that moment
(TaskChanged) tells why (409, 412, ...); a change that merely raced (the action is still
allowed) is retried a bounded number of times.
"""

from __future__ import annotations

import builtins
import hashlib
import json
import random
import uuid
from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING, Any

from baton import clock
from baton.domain import WRITE_ROLES, Caller, require_role
from baton.errors import BadRequest, Conflict, Forbidden, NotFound, PreconditionFailed
from baton.storage.dynamo import Dynamo, TransactionConflict
from baton.tasks import escalations as ladder
from baton.tasks import rules
from baton.tasks.domain import HistoryEvent, HistoryRaced, MembershipLost, Task, TaskChanged, TaskExists
from baton.tasks.leases import lease_until, takeover
from baton.tasks.repository import MAX_CANDIDATES, TaskRepository

if TYPE_CHECKING:
    from baton.activities.repository import ActivityRepository
    from baton.directory.domain import User
    from baton.directory.repository import DirectoryRepository

MAX_ATTEMPTS = 8
# claim-next reads the queue CLAIM_BATCH tasks at a time and picks at random among the first
# CLAIM_SPREAD of them; each collision (the pick was taken meanwhile) doubles the spread, up to
# the whole batch: alone a worker takes the queue nearly in order, in a crowd it spreads out.
CLAIM_BATCH = 32
CLAIM_SPREAD = 4


def now() -> str:
    return clock.stamp()


def new_id() -> str:
    return uuid.uuid4().hex


def _pick(n: int) -> int:
    return random.randrange(n)  # noqa: S311 - spreading load, not security


# The result of a rule check: the new task state and the event, or None for "nothing to do".
Plan = tuple[Task, HistoryEvent, tuple[str, str] | None] | None
# A planner sees the task and the group memberships of the users read with it (the caller first).
Planner = Callable[[Task, dict[str, list[str]]], Plan]


class TaskService:
    def __init__(self, db: Dynamo, caller: Caller, tasks: TaskRepository | None = None) -> None:
        """`tasks`: another view of the task repository (a bulk request's, tasks.bulk)."""
        self.db = db
        self.tasks = tasks or TaskRepository(db)
        self.caller = caller

    # The directory and the activities are read by some requests only (a group candidate's claim,
    # a task made from an activity): imported when first needed, not by every cold start.
    @cached_property
    def directory(self) -> DirectoryRepository:
        from baton.directory.repository import DirectoryRepository

        return DirectoryRepository(self.db)

    @cached_property
    def activities(self) -> ActivityRepository:
        from baton.activities.repository import ActivityRepository

        return ActivityRepository(self.db)

    # ---- helpers ---------------------------------------------------------------------------
    def _event(self, task: Task, action: str, from_: str | None, to: str | None,
               comment: str | None = None, candidates: list[str] | None = None) -> HistoryEvent:
        return HistoryEvent(id=new_id(), taskId=task.id, version=task.version + 1, at=now(),
                            actor=self.caller.user_id, action=action, **{"from": from_}, to=to,
                            comment=comment, candidates=candidates)

    def _next(self, task: Task, **changes: Any) -> Task:
        """The task's next version. A lease ends with every change but the one that sets it. Its
        escalation steps are armed for the new state (a change naming a holder is a new claim)."""
        stamp = now()
        new = task.model_copy(update={"leaseExpiresAt": None, **changes, "version": task.version + 1,
                                      "updatedAt": stamp})
        if not new.escalations:
            return new
        claimed = changes.get("assignee") is not None
        return new.model_copy(update={"escalations": ladder.arm(task, new, stamp, claimed)})

    def _ladder(self, raw: Any) -> builtins.list[ladder.Step]:
        """A ladder as a request gives it, checked (tasks.escalations.parse_ladder), its users and
        groups known in the tenant: 400 otherwise."""
        steps = ladder.parse_ladder(raw)
        users, groups = ladder.referenced(steps)
        if users:
            unknown = sorted(users - set(self.directory.users(self.caller.tenant, sorted(users))))
            if unknown:
                raise BadRequest(f"escalations: unknown user{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}")
        unknown = sorted(g for g in groups if self.directory.get_group(self.caller.tenant, g)[0] is None)
        if unknown:
            raise BadRequest(f"escalations: unknown group{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}")
        return steps

    def _takeover(self, task: Task, holder_action: bool) -> tuple[Task, HistoryEvent | None]:
        return takeover(task, self.caller.user_id, holder_action)

    def _member_check(self, task: Task, user: str, groups: list[str]) -> tuple[str, str] | None:
        """When `user` may work on the task only through a group, assert that membership too."""
        if user in task.candidateUsers or self.caller.is_admin and user == self.caller.user_id:
            return None
        shared = sorted(set(groups) & set(task.candidateGroups))
        return (user, shared[0]) if shared else None

    def _mutate(self, task_id: str, if_match: int | None, plan: Planner, others: tuple[str, ...] = (),
                seen: tuple[Task, dict[str, list[str]]] | None = None, holder_action: bool = False
                ) -> tuple[Task, HistoryEvent | None]:
        """Read, check, write; returns the task as it now is and the event written (None when
        there was nothing to change). `seen`: the task and memberships already read, used for
        the first attempt instead of reading. A passed lease is taken over in the same
        transaction (see `_takeover`)."""
        for _ in range(MAX_ATTEMPTS):
            task: Task | None
            if seen is not None:
                (task, groups), seen = seen, None
            else:
                task, groups = self.tasks.read_task_and_users(self.caller.tenant, task_id,
                                                              (self.caller.user_id, *others))
            if task is None:
                raise NotFound(f"Task {task_id} not found", reason="txnNotFound")
            if if_match is not None and task.version != if_match:
                raise PreconditionFailed(f"Task {task_id} is at version {task.version}, not {if_match}")
            view, expired = self._takeover(task, holder_action)
            planned = plan(view, groups)
            if planned is None:
                return task, None
            new, event, member_check = planned
            try:
                self.tasks.change_task(self.caller.tenant, task, new, event, member_check, expired,
                                       # a holder's action asserts its lease has not passed meanwhile
                                       event.at if holder_action and expired is None and task.leaseExpiresAt
                                       else None)
                return new, event
            except MembershipLost as lost:  # the membership the change relied on is gone
                raise Forbidden(f"User {lost.user} is no longer a member of the task's groups",
                                reason="accessDenied") from None
            except TaskChanged as changed:
                current = changed.current
                if current is None:
                    raise NotFound(f"Task {task_id} not found", reason="txnNotFound") from None
                if if_match is not None and current.version != if_match:
                    raise PreconditionFailed(
                        f"Task {task_id} is at version {current.version}, not {if_match}") from None
                # Re-check the rules on the state that beat us: raises the right error,
                # or the action is still allowed and we go round again.
                plan(self._takeover(current, holder_action)[0], groups)
            except (HistoryRaced, TransactionConflict):
                pass
        raise Conflict(f"Task {task_id} is changing too fast; try again", reason="busy")

    # ---- task actions ----------------------------------------------------------------------
    def claim(self, task_id: str, if_match: int | None = None, lease_seconds: int | None = None) -> Task:
        """A direct candidate's lease-free claim of a free task is one conditional write (one
        round trip); anything else (a group candidate, admin, a task already held or finished, a
        lease) takes the general path, which reads and decides."""
        require_role(self.caller)
        me = self.caller.user_id
        if lease_seconds is not None:
            return self._claim(task_id, if_match, lease_seconds=lease_seconds)
        event = HistoryEvent(id=new_id(), taskId=task_id, version=0, at=now(), actor=me, action="claim",
                             to=me)
        try:
            return self.tasks.claim_direct(self.caller.tenant, task_id, me, event, if_match)
        except TaskChanged as changed:
            if changed.current is None:
                raise NotFound(f"Task {task_id} not found", reason="txnNotFound") from None
            current = changed.current
        if current.assignee is None and (if_match is None or current.version == if_match):
            # The refused write's ALL_OLD image is the read. The rules run on it with the caller
            # taken for a member of the candidate groups (finished, automatic or not a candidate
            # at all raise here as they would after a read); the transaction asserts that
            # membership, so the claim stays one transaction on exactly the state seen.
            rules.check_claim(current, self.caller, current.candidateGroups)
            direct = self.caller.is_admin or me in current.candidateUsers
            try:
                new = self._next(current, assignee=me, leaseExpiresAt=lease_until(current, None))
                self.tasks.change_task(self.caller.tenant, current, new, self._event(current, "claim", None, me),
                                       None if direct else (me, current.candidateGroups))
                return new
            except MembershipLost:
                raise Forbidden(f"User {self.caller.username} may not work on task {task_id}",
                                reason="accessDenied") from None
            except (TaskChanged, HistoryRaced, TransactionConflict):
                pass
        return self._claim(task_id, if_match)  # held, finished or raced: read and decide

    def claim_after_read(self, task_id: str, if_match: int | None = None) -> Task:
        """A claim on the read-and-decide path only (no blind one-write attempt first): for a
        caller that has read the task already, such as a bulk claim (baton.tasks.bulk)."""
        return self._claim(task_id, if_match)

    def _claim(self, task_id: str, if_match: int | None, seen: tuple[Task, dict[str, list[str]]] | None = None,
               lease_seconds: int | None = None) -> Task:
        me = self.caller.user_id

        def plan(task: Task, groups: dict[str, list[str]]) -> Plan:
            mine = groups.get(me, [])
            if not rules.check_claim(task, self.caller, mine):
                return None
            return (self._next(task, assignee=me, leaseExpiresAt=lease_until(task, lease_seconds)),
                    self._event(task, "claim", None, me),
                    self._member_check(task, me, mine))
        return self._mutate(task_id, if_match, plan, seen=seen)[0]

    def claim_next(self, group_id: str | None = None, lease_seconds: int | None = None) -> Task | None:
        """Claim for the caller the first task of its queue (or of one group's queue) that it can
        win; None when there is none. Concurrent callers read the same head of the queue, so
        each picks at random among the first CLAIM_SPREAD tasks it read (a collision costs one
        refused write, then the next pick); a task is claimed by the claim's own rule and
        conditional write, so it is never given twice."""
        require_role(self.caller)
        me = self.caller.user_id
        groups = self._groups_of(me)
        if group_id is not None:
            if group_id not in groups and not self.caller.is_admin:
                raise Forbidden(f"User {self.caller.username} is not a member of group {group_id}",
                                reason="accessDenied")
            candidate: tuple[str, list[str]] = (me, [group_id])
        else:
            candidate = (me, groups)
        tried: set[str] = set()
        cursor: str | None = None
        spread = CLAIM_SPREAD
        for _ in range(MAX_ATTEMPTS * 4):
            tasks, cursor = self.tasks.queue_head(self.caller.tenant, candidate, CLAIM_BATCH, cursor,
                                                  own_queue=group_id is None)
            fresh = [t for t in tasks if t.id not in tried]
            while fresh:
                task = fresh.pop(_pick(min(spread, len(fresh))))
                tried.add(task.id)
                try:
                    return self._claim(task.id, None, seen=(task, {me: groups}), lease_seconds=lease_seconds)
                except (Conflict, Forbidden, BadRequest, NotFound):
                    spread = min(CLAIM_BATCH, spread * 2)  # taken or changed since read: spread out
            if cursor is None:
                return None
        raise Conflict("The queue is changing too fast; try again", reason="busy")

    def release(self, task_id: str, if_match: int | None = None) -> Task:
        def plan(task: Task, groups: dict[str, list[str]]) -> Plan:
            rules.check_release(task, self.caller)
            return (self._next(task, assignee=None), self._event(task, "release", task.assignee, None),
                    None)
        return self._mutate(task_id, if_match, plan, holder_action=True)[0]

    def heartbeat(self, task_id: str, lease_seconds: int | None = None, if_match: int | None = None) -> Task:
        """The holder extends its lease: `lease_seconds` (else the task's default) from now."""
        def plan(task: Task, groups: dict[str, list[str]]) -> Plan:
            rules.check_heartbeat(task, self.caller, lease_seconds)
            until = lease_until(task, lease_seconds)
            return (self._next(task, leaseExpiresAt=until),
                    self._event(task, "heartbeat", task.leaseExpiresAt, until), None)
        return self._mutate(task_id, if_match, plan, holder_action=True)[0]

    def assign(self, task_id: str, user_id: str, if_match: int | None = None) -> Task:
        """Itential assign: give the task to a user of the tenant who may work on it."""
        def check(task: Task, target_groups: list[str] | None) -> bool:
            if target_groups is None:
                raise BadRequest(f"User {user_id} not found", reason="userNotFound")
            return rules.check_assign(task, self.caller, user_id, target_groups)
        return self._give(task_id, user_id, if_match, "assign", check)

    def txn_assign(self, task_id: str, user_id: str | None, if_match: int | None = None) -> Task:
        """Journey Manager assign: a group task to the caller, or (admin) to a group member."""
        target = user_id or self.caller.user_id

        def check(task: Task, target_groups: list[str] | None) -> bool:
            return rules.check_group_assign(task, self.caller, target, target_groups)
        return self._give(task_id, target, if_match, "assign", check, leased=True)

    def _give(self, task_id: str, target: str, if_match: int | None, action: str,
              check: Callable[[Task, list[str] | None], bool], leased: bool = False) -> Task:
        """`leased`: a claim in all but name (Journey Manager's assign), so it takes the task's lease."""
        def plan(task: Task, groups: dict[str, list[str]]) -> Plan:
            target_groups = groups.get(target)
            if not check(task, target_groups):
                return None
            lease = lease_until(task, None) if leased else None
            return (self._next(task, assignee=target, leaseExpiresAt=lease),
                    self._event(task, action, task.assignee, target),
                    self._member_check(task, target, target_groups or []))
        return self._mutate(task_id, if_match, plan, (target,))[0]

    def unassign(self, task_id: str, if_match: int | None = None) -> Task:
        """Journey Manager unassign: a group task goes back to its groups' queue."""
        me = self.caller.user_id

        def plan(task: Task, groups: dict[str, list[str]]) -> Plan:
            mine = groups.get(me, [])
            if not rules.check_unassign(task, self.caller, mine):
                return None
            return (self._next(task, assignee=None), self._event(task, "unassign", task.assignee, None),
                    self._member_check(task, me, mine))
        return self._mutate(task_id, if_match, plan)[0]

    def reassign(self, task_id: str, user_ids: list[str], comment: str | None,
                 if_match: int | None = None) -> tuple[Task, HistoryEvent]:
        """ConductorOne reassign: one user becomes the assignee; several are offered the task
        (they become its candidate users and nobody holds it)."""
        me = self.caller.user_id
        targets = list(dict.fromkeys(user_ids))

        def plan(task: Task, groups: dict[str, list[str]]) -> Plan:
            rules.check_reassign(task, self.caller, groups.get(me, []), targets, groups, comment)
            if len(targets) == 1:
                new = self._next(task, assignee=targets[0])
                event = self._event(task, "reassign", task.assignee, targets[0], comment)
            else:
                new = self._next(task, assignee=None, candidateUsers=targets)
                event = self._event(task, "reassign", task.assignee, None, comment, candidates=targets)
            member = None if task.assignee == me else self._member_check(task, me, groups.get(me, []))
            return new, event, member
        task, event = self._mutate(task_id, if_match, plan, tuple(t for t in targets if t != me))
        assert event is not None  # reassign always writes
        return task, event

    def finish(self, task_id: str, status: str, comment: str | None = None,
               if_match: int | None = None) -> Task:
        action = "complete" if status == "completed" else "abandon"

        def plan(task: Task, groups: dict[str, list[str]]) -> Plan:
            rules.check_finish(task, self.caller)
            return (self._next(task, status=status),
                    self._event(task, action, task.status, status, comment), None)
        return self._mutate(task_id, if_match, plan, holder_action=True)[0]

    # ---- create and read -------------------------------------------------------------------
    def create(self, body: dict[str, Any]) -> tuple[Task, bool]:
        """Create a task; True when created, False when an identical create was replayed."""
        require_role(self.caller, WRITE_ROLES)
        tenant = self.caller.tenant
        request_hash = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
        candidate_users = list(dict.fromkeys(body.get("candidateUsers") or []))
        candidate_groups = list(dict.fromkeys(body.get("candidateGroups") or []))
        project_id, activity_id = body.get("projectId"), body.get("activityId")
        if (project_id is None) != (activity_id is None):
            raise BadRequest("projectId and activityId go together")
        if project_id and activity_id:
            activity, _, assignees = self.activities.activity_with_assignees(tenant, project_id, activity_id)
            if activity is None:
                raise BadRequest(f"Activity {activity_id} of project {project_id} not found")
            if activity.leaseSeconds and "leaseSeconds" not in body:
                body = {**body, "leaseSeconds": activity.leaseSeconds}
            if activity.requiredSkills and body.get("requiredSkills") is None:
                body = {**body, "requiredSkills": activity.requiredSkills}
            if activity.escalations and "escalations" not in body:
                body = {**body, "escalations": activity.escalations}
            for kind, uid in assignees:
                target = candidate_users if kind == "user" else candidate_groups
                if uid not in target:
                    target.append(uid)
        if len(candidate_users) + len(candidate_groups) > MAX_CANDIDATES:
            raise BadRequest(f"A task may have at most {MAX_CANDIDATES} candidates (users and groups together); "
                             f"this one would have {len(candidate_users) + len(candidate_groups)}")
        steps = self._ladder(body.get("escalations"))
        stamp = now()
        task = Task.model_validate({
            **body, "id": body.get("id") or new_id(), "candidateUsers": candidate_users,
            "requiredSkills": sorted(set(body.get("requiredSkills") or [])),
            "candidateGroups": candidate_groups, "status": "open", "assignee": None, "version": 1,
            "createdBy": self.caller.user_id, "createdAt": stamp, "updatedAt": stamp, "requestHash": request_hash,
            "escalations": steps})
        if steps:
            task = task.model_copy(update={"escalations": ladder.arm(None, task, stamp, False)})
        event = HistoryEvent(id=new_id(), taskId=task.id, version=1, at=stamp, actor=self.caller.user_id,
                             action="create", to="open")
        try:
            self.tasks.create_task(tenant, task, event)
            return task, True
        except TaskExists as exists:
            existing = exists.existing
            if existing is not None and existing.requestHash == request_hash:
                return existing, False
            raise Conflict(f"Task {task.id} already exists with other content") from None

    def get(self, task_id: str) -> Task:
        task = self.tasks.get_task(self.caller.tenant, task_id)
        if task is None:
            raise NotFound(f"Task {task_id} not found", reason="txnNotFound")
        return task

    def history(self, task_id: str, limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        """A page of the history as of one version of the task: the task is read first
        (consistent), then the events after the cursor (a consistent Query). Events a writer
        added after that read are left for a later page, and the direct claim's pending event
        (`lastEvent`, always of the version read) is added only where it is not already written
        out. A Query may see part of a transaction that is still landing (DynamoDB gives Query
        read-committed isolation, not serializable): a page with a gap, or a last page that ends
        before the version read, is read again; if it stays so, it ends before the gap with a
        cursor to continue from. So a page never repeats or skips a version."""
        before = self.tasks.history_cursor_version(cursor)  # the version the cursor follows (0: none)
        for _ in range(MAX_ATTEMPTS - 1):
            events, next_cursor, whole = self._history_read(task_id, limit, cursor, before)
            if whole:
                return events, next_cursor
        events, next_cursor, _ = self._history_read(task_id, limit, cursor, before)
        return events, next_cursor

    def _history_read(self, task_id: str, limit: int, cursor: str | None, before: int
                      ) -> tuple[builtins.list[dict[str, Any]], str | None, bool]:
        """One read of a history page: its events, its cursor, and whether it is whole (when not,
        the cursor stops before the gap)."""
        task = self.get(task_id)
        page = self.tasks.history_page(self.caller.tenant, task_id, limit, cursor)
        events: builtins.list[HistoryEvent] = []
        kept: builtins.list[str] = []  # the cursor after each of `events`
        next_cursor = page.cursor
        for event, after in page.events:
            if event.version > task.version:  # written after the task was read: the snapshot ends
                next_cursor = None
                break
            if event.version != (events[-1].version if events else before) + 1:  # a transaction landing
                next_cursor = kept[-1] if kept else cursor
                break
            events.append(event)
            kept.append(after)
        last = events[-1].version if events else before
        if next_cursor is None and task.lastEvent and last == task.version - 1:
            if len(events) >= limit:  # no room on this page: the next one carries it
                return [e.public() for e in events], kept[-1], True
            events.append(HistoryEvent.model_validate({**task.lastEvent, "version": task.version}))
            last = task.version
        whole = (next_cursor is not None and next_cursor == page.cursor) or last == task.version
        if not whole:  # still landing: stop before the gap, continue from there
            next_cursor = kept[-1] if kept else cursor
        return [e.public() for e in events], next_cursor, whole

    def list(self, *, assignee: str | None, candidate: str | None, status: str | None, limit: int,
             cursor: str | None) -> tuple[list[Task], str | None]:
        me = self.caller.user_id
        who = me if assignee == "me" else assignee
        cand: tuple[str, list[str]] | None = None
        if candidate is not None:
            if candidate != "me":
                raise BadRequest("candidate accepts only 'me'")
            if assignee is not None:
                raise BadRequest("Give assignee or candidate, not both")
            cand = (me, self._groups_of(me))
        return self.tasks.tasks_page(self.caller.tenant, assignee=who, candidate=cand, status=status,
                                     limit=limit, cursor=cursor)

    def _groups_of(self, user: str) -> builtins.list[str]:
        return self.directory.groups_of(self.caller.tenant, user)

    def users(self, user_ids: builtins.list[str]) -> dict[str, User]:
        """The users of these ids that exist in the caller's tenant, by id."""
        return self.directory.users(self.caller.tenant, user_ids)
