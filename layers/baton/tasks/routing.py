"""The router (API.md "People"): pushes a group's free tasks to its members, off the table's
stream (`baton serve`'s stream reader locally; a function fed by the stream in AWS:
functions/router.py).

`tasks.stream.routing_triggers` says, from stream records alone, what may need routing: a task that is free in a
group's queue (created, released, unassigned, reassigned to several, its lease passed and taken
back), or a user who may take work again (presence back to `available`, load down, capacity up).
`Router` then reads and decides: for a task, the first of its candidate groups with a push
strategy picks a member (directory.routing.pick: available, under capacity, holding the skills)
and the task is given to them by the same path as an assign (tasks.service: eligibility, one
conditional transaction moving the member's load with its capacity asserted), reason
`routing:<strategy>`. A refused pick (full or away meanwhile, taken by a claim) is picked again
without that member; nobody eligible leaves the task in the queue until someone becomes eligible.
Routing is idempotent (it decides on the state it reads), so a record seen twice costs a read."""

from __future__ import annotations

import time
from collections.abc import Iterable

from baton import clock
from baton.directory.domain import Group, User
from baton.directory.repository import DirectoryRepository
from baton.directory.routing import PUSH_STRATEGIES, pick
from baton.domain import ROLE_ADMIN, Caller
from baton.errors import BatonError, Conflict
from baton.storage.dynamo import Dynamo
from baton.tasks import eligibility, reasons
from baton.tasks.algorithm import Action
from baton.tasks.change import Change, Seen
from baton.tasks.domain import Person
from baton.tasks.listings import TaskListings
from baton.tasks.offers import OfferService
from baton.tasks.service import TaskService
from baton.tasks.stream import Trigger

ROUTER = "baton-router"  # the actor of a routed assignment
MAX_PICKS = 8  # members tried for one task before it waits for the next trigger
GROUP_TTL = 2.0  # seconds a group's routing is cached by one router process
QUEUE_BATCH = 10


def routed(action: Action, reason: str) -> Action:
    """`action` as the router runs it: only on a task nobody holds (as decided on its latest read:
    a claim that won meanwhile is never taken over, which an admin's assign would do) and with its
    event's ledger `reason` set (tasks.reasons; the hash chain covers it, as it is stamped when the
    change is written)."""
    def decide(seen: Seen) -> Change | None:
        task = seen.view
        if task.status != "open":
            raise Conflict(f"Task {task.id} is {task.status}", reason="txnAlreadyFinished")
        if task.assignee is not None:
            raise Conflict(f"Task {task.id} is held by {task.assignee}", reason="txnAlreadyAssigned")
        change = action.decide(seen)
        if change is not None and change.event.onBehalfOf is None:  # an absence's reason stays (tasks.standins)
            change.event.reason = reason
        return change
    return action._replace(decide=decide)


def _user(person: Person) -> User:
    """A member as the strategies read it."""
    return User(id=person.id, username=person.id, presence=person.presence,  # type: ignore[arg-type]
                capacity=person.capacity, skills=sorted(person.skills), load=person.load,
                lastAssignedAt=person.lastAssignedAt, active=person.active, absence=person.absence)


class Router:
    """Routes within one process; keeps each group's routing for GROUP_TTL seconds."""

    def __init__(self, db: Dynamo) -> None:
        self.db = db
        self.directory = DirectoryRepository(db)
        self._groups: dict[tuple[str, str], tuple[float, Group | None]] = {}
        self.offers: dict[tuple[str, str], str] = {}  # (tenant, task) -> when its offer expires

    def handle(self, found: Iterable[Trigger]) -> int:
        """Route what the triggers name; how many tasks were given."""
        given = 0
        for trigger in found:
            if trigger.kind == "offer" and trigger.at:
                self.offers[(trigger.tenant, trigger.id)] = trigger.at
            elif trigger.kind == "task":
                self.offers.pop((trigger.tenant, trigger.id), None)
                given += self.route_task(trigger.tenant, trigger.id)
            else:
                groups = trigger.groups or tuple(self.directory.groups_of(trigger.tenant, trigger.id))
                for group_id in groups:
                    given += self.route_queue(trigger.tenant, group_id)
        return given

    def sweep(self) -> int:
        """Route the tasks whose offers have expired (to the next member, or back to the queue)."""
        now = clock.stamp()
        due = [key for key, at in self.offers.items() if at <= now]
        given = 0
        for tenant, task_id in due:
            self.offers.pop((tenant, task_id), None)
            given += self.route_task(tenant, task_id)
        return given

    def _group(self, tenant: str, group_id: str) -> Group | None:
        cached = self._groups.get((tenant, group_id))
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        group, _ = self.directory.get_group(tenant, group_id)
        self._groups[(tenant, group_id)] = (time.monotonic() + GROUP_TTL, group)
        return group

    def route_queue(self, tenant: str, group_id: str) -> int:
        """Route the head of a push group's queue (a member may take work again)."""
        group = self._group(tenant, group_id)
        if group is None or group.routing.strategy not in PUSH_STRATEGIES:
            return 0
        tasks, _ = TaskListings(self.db).queue_head(tenant, ("", [group_id]), QUEUE_BATCH, None, own_queue=False)
        given = 0
        for task in tasks:
            routed = self.route_task(tenant, task.id)
            if not routed:
                break  # nobody eligible for the head: the rest waits too
            given += routed
        return given

    def route_task(self, tenant: str, task_id: str) -> int:
        """Give a free task of a push group to a member the strategy picks; 1 if given."""
        service = TaskService(self.db, Caller(ROUTER, ROUTER, tenant, frozenset({ROLE_ADMIN})))
        task = service.tasks.get_task(tenant, task_id)
        if task is None or task.status != "open" or task.type != "manual" or task.candidateGroups == []:
            return 0
        now = clock.stamp()
        if task.assignee is not None and not task.lease_expired(now) or task.offer_live(now):
            return 0
        for group_id in task.candidateGroups:
            group = self._group(tenant, group_id)
            if group is None or group.routing.strategy not in PUSH_STRATEGIES:
                continue
            # who had the task offered and let it go: not again until everyone eligible has been
            tried = {*task.offerTried, *([task.offeredTo] if task.offeredTo else [])}
            excluded: set[str] = set(tried)
            for _ in range(MAX_PICKS):
                # the members as the task rules see them (one BatchGetItem), which the write then
                # decides on without reading again
                people = service.tasks.read_people(tenant, group.members)
                members = [_user(people[m]) for m in group.members if m in people]
                chosen = pick(group.routing.strategy, members, task.requiredSkills, last=group.routingLast,
                              excluded=excluded)
                if chosen is None and tried and excluded == tried:  # everyone has been offered it: again
                    excluded = set()
                    continue
                if chosen is None:
                    break
                reason = reasons.routing(group.routing.strategy)
                seen = (task, {u: list(p.groups) for u, p in people.items()})
                try:
                    if group.routing.offerSeconds:
                        OfferService(service).offer(task_id, chosen.id, group.routing.offerSeconds, reason, seen)
                    else:
                        given = service.handover(eligibility.ASSIGN, "assign", (chosen.id,), reason)
                        service.apply(task_id, routed(given, reason), None, seen)
                except BatonError as refused:
                    if refused.reason in ("txnAlreadyAssigned", "txnAlreadyFinished", "txnNotFound", "offered"):
                        return 0  # claimed, finished or gone meanwhile
                    excluded.add(chosen.id)  # full, away or gone meanwhile: the next one
                    continue
                if group.routing.strategy == "round-robin":
                    self.directory.set_routing_last(tenant, group_id, chosen.id)
                    self._groups[(tenant, group_id)] = (time.monotonic() + GROUP_TTL,
                                                        group.model_copy(update={"routingLast": chosen.id}))
                return 1
        if task.offeredTo is not None:  # expired, and nobody to offer it to: back to the queue
            OfferService(service).withdraw(task_id)
        return 0
