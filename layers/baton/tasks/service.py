"""Task actions: Baton's verbs (claim, assign, reassign, unassign, release, heartbeat, complete and
abandon, claim-next), over the task repository. The handlers map each vendor's semantics onto
them; who may hold a task is tasks.eligibility, on every path that gives one.

Every action is an `Action` (its verb and how it decides a `Change`) run by the one algorithm of
tasks.algorithm (read, decide, write the change with what it asserts, decide again on a refusal).
The claim has a named fast path (`_fast_claim`): a direct candidate's claim is first tried as one
conditional write without a read; a refused one's image of the task is the algorithm's read.
Delegate and resolve: tasks.delegation."""

from __future__ import annotations

import builtins
import hashlib
import json
from functools import cached_property
from typing import TYPE_CHECKING, Any

from baton.domain import WRITE_ROLES, Caller, require_role
from baton.errors import BadRequest, Conflict, NotFound
from baton.storage.dynamo import Dynamo
from baton.tasks import claimnext, eligibility, escalations, rules
from baton.tasks.algorithm import Action, State, new_id, now
from baton.tasks.change import Change, Seen
from baton.tasks.claimnext import CLAIM_BATCH, CLAIM_SPREAD, _pick  # noqa: F401 - named here too
from baton.tasks.delegation import Delegation
from baton.tasks.domain import HistoryEvent, Task, TaskChanged, TaskExists
from baton.tasks.eligibility import Handover
from baton.tasks.layout import MAX_CANDIDATES
from baton.tasks.leases import lease_until
from baton.tasks.listings import TaskListings
from baton.tasks.oversight import oversight
from baton.tasks.queuecopy import left_free
from baton.tasks.reads import TaskReads
from baton.tasks.repository import TaskRepository

if TYPE_CHECKING:
    from baton.activities.repository import ActivityRepository
    from baton.directory.domain import User
    from baton.directory.repository import DirectoryRepository

class TaskService(Delegation, TaskReads):
    def __init__(self, db: Dynamo, caller: Caller, tasks: TaskRepository | None = None) -> None:
        """`tasks`: the repository to read and write through (a bulk request's: tasks.bulk)."""
        super().__init__(tasks or TaskRepository(db), caller)
        self.db = db
        self.listings = TaskListings(db)

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

    def handover(self, via: str, verb: str, targets: tuple[str, ...], reason: str | None = None,
                  leased: bool = False, lease_seconds: int | None = None) -> Action:
        """The action of a path that gives the task to someone: eligibility grants it (or says why
        not) and names what the write asserts. `leased`: the holder takes the task's lease (a claim,
        or an assign that is one in all but name)."""
        def decide(seen: Seen) -> Change | None:
            task = seen.view
            grant = eligibility.decide(Handover(task, self.caller, via, targets, seen.groups, reason,
                                                self.read_stand_ins(targets)))
            if grant is None:
                return None
            # a hand-over ends a delegation; offered to several, they become its candidate users
            lease = lease_until(task, lease_seconds) if leased and grant.holder else None
            offered = {"candidateUsers": list(grant.offered)} if grant.holder is None else {}
            after = self.next(task, assignee=grant.holder, owner=None, delegationState=None, leaseExpiresAt=lease,
                              **offered)
            event = self.event(task, verb, task.assignee, grant.holder, reason, list(grant.offered) or None, grant)
            return seen.change(after, event, grant.members, grant.ledger)
        me = self.caller.user_id
        return Action(verb, decide, tuple(u for u in dict.fromkeys(targets) if u != me))

    # ---- Baton's verbs ---------------------------------------------------------------------
    def claim(self, task_id: str, if_match: int | None = None, lease_seconds: int | None = None,
              fast_path: bool = True) -> Task:
        """The caller takes the task. `fast_path` (not for a task read already, such as a bulk
        request's): try the one-write claim first (`_fast_claim`)."""
        require_role(self.caller)
        first = self._fast_claim(task_id, if_match) if fast_path and lease_seconds is None else None
        if isinstance(first, Task):
            return first
        action = self.handover(eligibility.CLAIM, "claim", (self.caller.user_id,), leased=True,
                                lease_seconds=lease_seconds)
        return self.apply(task_id, action, if_match, first)[0]

    def _fast_claim(self, task_id: str, if_match: int | None) -> Task | State | None:
        """The claim's fast path: a direct candidate's lease-free claim of a free task is one
        conditional write (one round trip, no read) whose condition is eligibility's claim rule.
        Refused, the write's ALL_OLD image is the read of the algorithm (while nobody holds the
        task: the memberships are then taken for granted and asserted by the write); anything
        else reads."""
        direct = eligibility.direct_claim(self.caller, if_match)
        if direct is None:
            return None
        me = self.caller.user_id
        event = HistoryEvent(id=new_id(), taskId=task_id, version=0, at=now(), actor=me, action="claim", to=me,
                             changes={"assignee": {"from": None, "to": me}})
        try:
            return self.tasks.claim_direct(self.caller.tenant, task_id, me, event, direct)
        except TaskChanged as refused:
            if refused.current is None:
                raise NotFound(f"Task {task_id} not found", reason="txnNotFound") from None
            return (refused.current, None) if refused.current.assignee is None else None

    def claim_next(self, group_id: str | None = None, lease_seconds: int | None = None) -> Task | None:
        """Claim for the caller the first task of its queue (or of one group's queue) that it can
        win; None when there is none (tasks.claimnext)."""
        return claimnext.claim_next(self, group_id, lease_seconds)

    def assign(self, task_id: str, user_id: str | None, if_match: int | None = None, reason: str | None = None,
               within_groups: bool = False) -> Task:
        """Give the task to `user_id` (None: the caller), a candidate of it; the holder passing its
        own on (or admin anyone's) is a reassignment, within the task's policy, `reason` its
        comment. `within_groups`: a group task to a member of its groups (the caller, or anyone by
        admin), under the task's lease, never taken from a holder (Journey Manager's assign)."""
        target = user_id or self.caller.user_id
        via = eligibility.MEMBER_ASSIGN if within_groups else eligibility.ASSIGN
        return self.apply(task_id, self.handover(via, "assign", (target,), reason, leased=within_groups),
                           if_match)[0]

    def reassign(self, task_id: str, user_ids: list[str], reason: str | None,
                 if_match: int | None = None) -> tuple[Task, HistoryEvent]:
        """One user becomes the assignee; several are offered the task (they become its candidate
        users and nobody holds it)."""
        task, change = self.apply(task_id, self.handover(eligibility.REASSIGN, "reassign",
                                                           tuple(dict.fromkeys(user_ids)), reason), if_match)
        assert change is not None  # reassign always writes
        return task, change.event

    def unassign(self, task_id: str, if_match: int | None = None) -> Task:
        """A group task goes back to its groups' queue."""
        me = self.caller.user_id

        def decide(seen: Seen) -> Change | None:
            task, mine = seen.view, (seen.groups or {}).get(me, [])
            worker = rules.may_work_on(task, self.caller, mine)
            over = None if worker else oversight(task, self.caller, self.tasks.people)  # a lead of its groups
            if not rules.check_unassign(task, self.caller, mine, over is not None):
                return None
            if task.delegationState == "pending":  # a delegate's unassign gives it back to the owner
                return self.resolution(seen, "unassign")
            return seen.change(self.next(task, assignee=None), self.event(task, "unassign", task.assignee, None),
                               eligibility.membership(task, self.caller, me, seen.groups) if worker else over or ())
        return self.apply(task_id, Action("unassign", decide), if_match)[0]

    def release(self, task_id: str, if_match: int | None = None) -> Task:
        def decide(seen: Seen) -> Change | None:
            task = seen.view
            over = () if task.assignee == self.caller.user_id else oversight(task, self.caller, self.tasks.people)
            rules.check_release(task, self.caller, over is not None)  # the holder, admin, a lead of its groups
            if task.delegationState == "pending":  # a delegate's release gives it back to the owner
                return self.resolution(seen, "release")
            return seen.change(self.next(task, assignee=None), self.event(task, "release", task.assignee, None),
                               over or ())
        return self.apply(task_id, Action("release", decide, by_holder=True), if_match)[0]

    def heartbeat(self, task_id: str, lease_seconds: int | None = None, if_match: int | None = None) -> Task:
        """The holder extends its lease: `lease_seconds` (else the task's default) from now."""
        def decide(seen: Seen) -> Change:
            task = seen.view
            rules.check_heartbeat(task, self.caller, lease_seconds)
            until = lease_until(task, lease_seconds)
            return seen.change(self.next(task, leaseExpiresAt=until),
                               self.event(task, "heartbeat", task.leaseExpiresAt, until))
        return self.apply(task_id, Action("heartbeat", decide, by_holder=True), if_match)[0]

    def finish(self, task_id: str, status: str, comment: str | None = None, if_match: int | None = None,
               outcome: str | None = None, variables: dict[str, Any] | None = None) -> tuple[Task, Change | None]:
        """Complete (`completed`) or abandon (`abandoned`): the holder, or admin; the task and the
        change written. A completion records how it ended (`outcome`, `variables`), by whom, when."""
        verb = "complete" if status == "completed" else "abandon"

        def decide(seen: Seen) -> Change:
            task = seen.view
            rules.check_finish(task, self.caller)
            ended: dict[str, Any] = {"status": status}
            if status == "completed":
                ended.update(outcome=outcome, variables=variables, completedBy=self.caller.user_id, completedAt=now())
            return seen.change(self.next(task, **ended), self.event(task, verb, task.status, status, comment))
        return self.apply(task_id, Action(verb, decide, by_holder=True), if_match)

    # ---- create (reads: tasks.reads) -------------------------------------------------------
    def create(self, body: dict[str, Any]) -> tuple[Task, bool]:
        """Create a task; True when created, False when an identical create was replayed."""
        require_role(self.caller, WRITE_ROLES)
        tenant = self.caller.tenant
        request_hash = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
        token = (body.get("callback") or {}).get("stepFunctionsTaskToken")
        body = {k: v for k, v in body.items() if k != "callback"}
        if token:
            body = {**body, "callbackToken": token, "callback": Task.callback_view(token)}
        candidate_users = list(dict.fromkeys(body.get("candidateUsers") or []))
        candidate_groups = list(dict.fromkeys(body.get("candidateGroups") or []))
        project_id, activity_id = body.get("projectId"), body.get("activityId")
        if (project_id is None) != (activity_id is None):
            raise BadRequest("projectId and activityId go together")
        if project_id and activity_id:
            activity, _, assignees = self.activities.activity_with_assignees(tenant, project_id, activity_id)
            if activity is None:
                raise BadRequest(f"Activity {activity_id} of project {project_id} not found")
            # the activity's, unless the task's own
            for name in ("leaseSeconds", "requiredSkills", "escalations", "separation"):
                if getattr(activity, name) and body.get(name) is None:
                    body = {**body, name: getattr(activity, name)}
            for kind, uid in assignees:
                target = candidate_users if kind == "user" else candidate_groups
                if uid not in target:
                    target.append(uid)
        if len(candidate_users) + len(candidate_groups) > MAX_CANDIDATES:
            raise BadRequest(f"A task may have at most {MAX_CANDIDATES} candidates (users and groups together); "
                             f"this one would have {len(candidate_users) + len(candidate_groups)}")
        stamp = now()
        steps = escalations.for_new_task(body.get("escalations"), body.get("dueDate"), stamp, self.directory, tenant)
        task = Task.model_validate({
            **body, "id": body.get("id") or new_id(), "candidateUsers": candidate_users, "escalations": steps,
            "requiredSkills": sorted(set(body.get("requiredSkills") or [])),
            "candidateGroups": candidate_groups, "status": "open", "assignee": None, "version": 1,
            "createdBy": self.caller.user_id, "createdAt": stamp, "updatedAt": stamp, "requestHash": request_hash})
        event = HistoryEvent(id=new_id(), taskId=task.id, version=1, at=stamp, actor=self.caller.user_id,
                             action="create", to="open")
        try:
            self.tasks.create_task(tenant, task, event)
            left_free(self.db.table, tenant, task)  # claim-next's copies of its groups' queues: tasks.queuecopy
            return task, True
        except TaskExists as exists:
            existing = exists.existing
            if existing is not None and existing.requestHash == request_hash:
                return existing, False
            raise Conflict(f"Task {task.id} already exists with other content") from None

    def _groups_of(self, user: str) -> builtins.list[str]:
        return self.directory.groups_of(self.caller.tenant, user)

    def users(self, user_ids: builtins.list[str]) -> dict[str, User]:
        """The users of these ids that exist in the caller's tenant, by id."""
        return self.directory.users(self.caller.tenant, user_ids)
