"""Offboarding (API.md "Absence, delegation, offboarding"): `POST /api/v1/users/{id}/offboard
{"to"?, "dryRun"?}`, by admin. Someone leaves: the user becomes inactive, leaves every group (as a
member and as a lead), and every open task naming it moves, each by its own conditional transaction
with its history event (reason `offboarding`):

- a task it holds goes back to its owner when it holds it as a delegate, else to `to` when `to`
  may hold it (tasks.eligibility decides, as for an admin's reassign: the task's policy,
  separation of duties, active, skills, capacity, and absence: an absent `to`'s work goes to who
  stands in, redirected or shared, reason `absence:<mode>` and `onBehalfOf`), else back to its queues;
- a task it delegated (its owner): the ownership goes to `to` when `to` may hold it on its
  return, else the delegation ends and the delegate holds it outright;
- a task offered to it is offered to nobody (back to its queues);
- it leaves the task's candidate users (whoever holds it, whether manual or automatic). A task it
  leaves without any candidate gets `to` (or who stands in for it) instead, so no work falls out
  of every queue.

In that order: the user is made inactive first (one transaction: its user item and its load
item, whose `active` every write that gives or offers a task asserts: tasks.repository), so from
then on nothing can be given to it; then its groups (one conditional write each:
directory.repository.put_group); then its tasks, found by three Queries, never a Scan (held: gsi2;
its own queue: gsi3; the rest naming it, `Keys.named` in gsi2: tasks.layout `named_users`), found
again (at most PASSES times) while its load item, read consistently, says it still bears a task
the eventually consistent indexes had not shown yet. The cost is O(its tasks and memberships).

Resumable: each step decides on the state it reads, so a call that failed half way (a crash, a
timeout) is finished by the next one; a task already moved is no longer the user's (and a stale
index entry is read again and left alone), so no task moves twice. A dry run reads the same and
answers the same results without writing anything (the loads of `to` counted as it goes).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from baton.directory.domain import GroupChanged, User
from baton.directory.repository import DirectoryRepository
from baton.domain import ROLE_ADMIN, Caller, require_role
from baton.errors import BadRequest, BatonError, Conflict, NotFound
from baton.storage.dynamo import Dynamo, TransactionConflict
from baton.tasks import eligibility, standins
from baton.tasks.algorithm import MAX_ATTEMPTS, Action
from baton.tasks.change import Change, Seen
from baton.tasks.domain import Task
from baton.tasks.eligibility import Handover
from baton.tasks.leases import takeover
from baton.tasks.listings import TaskListings
from baton.tasks.offers import OFFER
from baton.tasks.reasons import OFFBOARDING
from baton.tasks.repository import TaskRepository
from baton.tasks.service import TaskService

ADMIN_ONLY = frozenset({ROLE_ADMIN})
# Listings of the user's tasks while it still bears some (its load): a task it took just before it
# became inactive may reach the indexes after the first listing.
PASSES = 3
# What happened to a task (a result's `outcome`)
REASSIGNED, RETURNED, QUEUED, OFFER_WITHDRAWN, CANDIDATE_REMOVED = (
    "reassigned", "returnedToOwner", "queued", "offerWithdrawn", "candidateRemoved")
# `to` was absent and shares its work: the task is offered to `to` and who stands in (tasks.standins)
OFFERED = "offered"
# A task the user delegated: its ownership went to `to`, or (no `to` may have it) the delegation ended
OWNER_CHANGED, DELEGATION_ENDED = "ownerChanged", "delegationEnded"


@dataclass
class Moved:
    """One task's result: the status its move answered, what happened (or would, on a dry run),
    who holds it after, the task as written (not on a dry run), or the error."""

    task_id: str
    status: int = 200
    outcome: str | None = None
    to: str | None = None
    task: Task | None = None
    error: BatonError | None = None


@dataclass
class Report:
    user: User
    dry_run: bool
    groups: list[str]
    results: list[Moved] = field(default_factory=list)


class Offboarding:
    def __init__(self, db: Dynamo, caller: Caller) -> None:
        self.db = db
        self.caller = caller
        self.directory = DirectoryRepository(db)

    def run(self, user_id: str, to: str | None = None, dry_run: bool = False) -> Report:
        require_role(self.caller, ADMIN_ONLY)
        tenant = self.caller.tenant
        if to == user_id:
            raise BadRequest("`to` must be another user than the one who leaves", reason="invalidRequest")
        found = self.directory.users(tenant, [user_id, *([to] if to else [])])
        user = found.get(user_id)
        if user is None:
            raise NotFound(f"User {user_id} not found", reason="userNotFound")
        if to is not None and to not in found:
            raise BadRequest(f"User {to} not found", reason="userNotFound")
        if to is not None and not found[to].active:
            raise Conflict(f"User {to} is inactive: the work cannot go to them", reason="userInactive")
        if dry_run:
            report = Report(user.model_copy(update={"active": False, "groups": [], "leads": []}), True,
                            sorted({*user.groups, *user.leads}))
        else:
            user = self._deactivate(user)
            report = Report(user, False, self._leave_groups(user))
        reads = tuple(dict.fromkeys(u for u in (user_id, to) if u and u != self.caller.user_id))
        seen: set[str] = set()
        for _ in range(PASSES):
            # the indexes as they are now; a task it took just before it became inactive may reach
            # them late (a GSI is eventually consistent), which its load item (read consistently) shows
            task_ids = [t for t in TaskListings(self.db).involving(tenant, user_id) if t not in seen]
            seen.update(task_ids)
            repo = TaskRepository(self.db)
            repo.prefetch(tenant, task_ids, (self.caller.user_id, *reads))
            service = TaskService(self.db, self.caller, repo)
            for task_id in task_ids:
                moved = self._one(service, task_id, user_id, to, reads, dry_run)
                if moved is not None:
                    report.results.append(moved)
            if dry_run:
                break
            # as it now is: inactive, in no group, its load what it still bears (0 when all moved)
            report.user = self.directory.users(tenant, [user_id]).get(user_id, report.user)
            if report.user.load == 0 or not task_ids:
                break
        return report

    # ---- the user and its groups ------------------------------------------------------------
    def _deactivate(self, user: User) -> User:
        """The user item and its load item inactive, in one transaction (put_user: its assignment
        rows to activities move to the inactive rank with it); nothing to do when it is already."""
        if not user.active:
            return user
        return self.directory.put_user(self.caller.tenant, user.model_copy(update={"active": False}))[1]

    def _leave_groups(self, user: User) -> list[str]:
        """Leave each group the user is a member or a lead of (one conditional write each: the
        group item at the version read, and the user item); the groups it left."""
        left: list[str] = []
        for group_id in sorted({*user.groups, *user.leads}):
            for _ in range(MAX_ATTEMPTS):
                group, version = self.directory.get_group(self.caller.tenant, group_id)
                if group is None or (user.id not in group.members and user.id not in group.leads):
                    self.directory.drop_membership(self.caller.tenant, user.id, group_id)
                    break
                kept = {"members": [m for m in group.members if m != user.id],
                        "leads": [u for u in group.leads if u != user.id]}
                try:
                    self.directory.put_group(self.caller.tenant, group.model_copy(update=kept),
                                             group.members, version, old_leads=group.leads)
                    break
                except (GroupChanged, TransactionConflict):
                    continue
            else:
                raise Conflict(f"Group {group_id} is changing too fast; try again", reason="busy")
            left.append(group_id)
        return left

    # ---- one task ---------------------------------------------------------------------------
    def _one(self, service: TaskService, task_id: str, user: str, to: str | None, reads: tuple[str, ...],
             dry_run: bool) -> Moved | None:
        """Move one task (or say how it would move); None when the user is no longer part of it."""
        planned: dict[str, str | None] = {}

        def decide(seen: Seen) -> Change | None:
            change, outcome = self._plan(service, seen, user, to)
            planned.update(outcome=outcome, to=change.after.assignee if change else None)
            return change

        try:
            if dry_run:
                tenant = self.caller.tenant
                task, groups = service.tasks.read_task_and_users(tenant, task_id, (self.caller.user_id, *reads))
                if task is None:
                    return None
                view, expired = takeover(task, self.caller.user_id, False)
                change = decide(Seen(task, view, expired, groups, False))
                if change is None:
                    return None
                for who, delta in zip(change.holders(), (-1, 1), strict=True):  # the loads as it would leave them
                    if who is not None and who in service.tasks.people:
                        person = service.tasks.people[who]
                        service.tasks.people[who] = person._replace(load=person.load + delta)
                return Moved(task_id, outcome=planned["outcome"], to=planned["to"])
            after, written = service.apply(task_id, Action("offboard", decide, reads), None)
        except BatonError as err:
            return Moved(task_id, err.status, error=err)
        if written is None:
            return None
        return Moved(task_id, outcome=planned["outcome"], to=planned["to"], task=after)

    def _plan(self, service: TaskService, seen: Seen, user: str, to: str | None) -> tuple[Change | None, str]:
        """The change that takes `user` out of the task (as the rules see it), and what it does."""
        task = seen.view
        held = task.assignee == user
        offered = task.assignee is None and task.offeredTo == user
        owns = task.owner == user and task.assignee not in (None, user) and task.delegationState == "pending"
        if task.status != "open" or not (held or offered or owns or user in task.candidateUsers):
            return None, ""
        users = [u for u in task.candidateUsers if u != user]
        fallback = standins.Cover(())
        if not users and not task.candidateGroups and to is not None and task.type == "manual":
            # no candidate left: `to` stands in (or who stands in for `to`), so the work stays in a queue
            fallback = standins.cover((to,), service.read_stand_ins((to,)), self.caller.user_id, dead_ends=True)
            users = list(fallback.users)
        plan = _Plan(service, seen, task.model_copy(update={"candidateUsers": users}), fallback)
        if held:
            return self._hand_over(plan, to)
        if owns:
            return self._disown(plan, to)
        if offered:
            after = service.next(task, candidateUsers=users,
                                 offerTried=list(dict.fromkeys([*task.offerTried, user])))
            return plan.change(after, OFFER, user, None), OFFER_WITHDRAWN
        after = service.next(task, candidateUsers=users, leaseExpiresAt=task.leaseExpiresAt,
                             offeredTo=task.offeredTo, offerExpiresAt=task.offerExpiresAt)
        return plan.change(after, "update", None, None), CANDIDATE_REMOVED

    def _grant(self, plan: _Plan, via: str, target: str, task: Task | None = None) -> eligibility.Grant | None:
        """Eligibility's grant of the task (`plan.kept`, or `task`) to `target` on path `via` (absence
        applied: who stands in for an absent `target` gets it, tasks.standins), or None when it may not."""
        try:
            grant = eligibility.decide(Handover(task or plan.kept, self.caller, via, (target,), plan.seen.groups,
                                                OFFBOARDING, plan.service.read_stand_ins((target,))))
        except BatonError:
            return None  # may not hold it: the next one, or the queue
        return grant if grant is not None and (grant.holder is not None or grant.offered) else None

    def _hand_over(self, plan: _Plan, to: str | None) -> tuple[Change, str]:
        """A held task: to its owner (held as a delegate), else to `to`, each if eligibility grants
        it (to who stands in when they are absent: redirected, or offered to both when shared); else
        back to its queues."""
        task, service, users = plan.seen.view, plan.service, plan.kept.candidateUsers
        tries: list[tuple[str, str, str]] = []
        if task.delegationState == "pending" and task.owner not in (None, task.assignee):
            tries.append((eligibility.RESOLVE, task.owner or "", RETURNED))
        if to is not None:
            tries.append((eligibility.REASSIGN, to, REASSIGNED))
        for via, target, outcome in tries:
            grant = self._grant(plan, via, target)
            if grant is None:
                continue
            if grant.holder is None:  # shared: offered to the absent `to` and who stands in (its candidates)
                after = service.next(task, candidateUsers=list(grant.offered), assignee=None, owner=None,
                                     delegationState=None)
                return plan.change(after, "reassign", task.assignee, None, grant), OFFERED
            if via == eligibility.RESOLVE:
                after = service.next(task, candidateUsers=users, assignee=grant.holder, delegationState="resolved")
                return plan.change(after, "resolve", task.assignee, grant.holder, grant), outcome
            after = service.next(task, candidateUsers=users, assignee=grant.holder, owner=None, delegationState=None)
            return plan.change(after, "reassign", task.assignee, grant.holder, grant), outcome
        after = service.next(task, candidateUsers=users, assignee=None, owner=None, delegationState=None)
        return plan.change(after, "unassign", task.assignee, None), QUEUED

    def _disown(self, plan: _Plan, to: str | None) -> tuple[Change, str]:
        """A task the user delegated (its owner while the delegate holds it): its ownership goes to
        `to` when `to` may hold it when it comes back (as a resolution would give it: eligibility,
        absence applied); else the delegation ends and the delegate holds it outright."""
        task, service, users = plan.seen.view, plan.service, plan.kept.candidateUsers
        heir = plan.kept.model_copy(update={"owner": to})  # as if `to` had delegated it: may it come back to them?
        grant = self._grant(plan, eligibility.RESOLVE, to, heir) if to is not None else None
        if grant is not None and grant.holder is not None:
            after = service.next(task, candidateUsers=users, owner=grant.holder, leaseExpiresAt=task.leaseExpiresAt)
            return plan.change(after, "update", None, None, grant._replace(ledger=None)), OWNER_CHANGED
        after = service.next(task, candidateUsers=users, owner=None, delegationState=None,
                             leaseExpiresAt=task.leaseExpiresAt)
        return plan.change(after, "update", None, None), DELEGATION_ENDED


class _Plan(NamedTuple):
    """One task's move as planned: the service, the task as seen, the task without the user among
    its candidates (`kept`), and who stands in for `to` when `to` became its only candidate."""

    service: TaskService
    seen: Seen
    kept: Task
    fallback: standins.Cover

    def change(self, after: Task, verb: str, from_: str | None, to: str | None,
               grant: eligibility.Grant | None = None) -> Change:
        """The change and its event: reason `offboarding`, or, when the work went to who stands in
        for an absent user, that absence's reason and `onBehalfOf` (the comment then says it is an
        offboarding); the write pins every absence looked at and what the grant asserts."""
        behalf = grant if grant is not None and grant.reason else None
        if behalf is None and self.fallback.reason:
            behalf = eligibility.Grant(None, on_behalf_of=self.fallback.on_behalf_of, reason=self.fallback.reason)
        event = self.service.event(self.seen.view, verb, from_, to, OFFBOARDING if behalf else None,
                                   list(grant.offered) if grant is not None and grant.offered else None, behalf)
        if behalf is None:
            event.reason = OFFBOARDING
        members = standins.pinned(grant.members if grant is not None else (), self.fallback.pins)
        return self.seen.change(after, event, members, grant.ledger if grant is not None else None)
