"""The router (API.md "People"): pushes a group's free tasks to its members, off the table's
stream (`baton serve`'s stream reader locally; a function fed by the stream in AWS:
functions/router.py).

`tasks.stream.routing_triggers` says, from stream records alone, what may need routing: a task that is free in a
group's queue (created, released, unassigned, reassigned to several, its lease passed and taken
back), or a user who may take work again (presence back to `available`, load down, capacity up,
absence over). `Router` then reads and decides: for a task, the first of its candidate groups with
a push strategy picks a member (directory.routing.pick: available, under capacity, holding the
skills, not absent) and the task is given to them by the same path as an assign (tasks.service:
eligibility, one conditional transaction moving the member's load with its capacity asserted),
reason `routing:<strategy>`. A refused pick (full or away meanwhile, taken by a claim) is picked
again without that member; nobody eligible leaves the task in the queue until someone becomes
eligible. Routing is idempotent (it decides on the state it reads), so a record seen twice costs a read.

A batch of triggers is routed together (`handle` → `route_tasks`): its tasks are read in one
BatchGetItem, each group and its members once, the picks are made one after another on the
members as read plus the batch's own picks (round-robin goes on from the previous pick,
least-loaded counts the tasks just given), and the writes then run `workers` at a time: each is
still the claim's conditional transaction, so a pick that went stale is refused there and that
task is routed again alone (`route_task`, fresh reads). Triggers naming the same task or the same
group's queue are routed once per batch."""

from __future__ import annotations

import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

from baton import clock
from baton.directory.domain import Group, User
from baton.directory.repository import DirectoryRepository
from baton.directory.routing import PUSH_STRATEGIES, pick
from baton.domain import ROLE_ADMIN, Caller
from baton.errors import BatonError, Conflict
from baton.settings import get_settings
from baton.storage.dynamo import Dynamo
from baton.tasks import eligibility, reasons
from baton.tasks.algorithm import Action
from baton.tasks.change import Change, Seen
from baton.tasks.domain import Person, Task
from baton.tasks.listings import TaskListings
from baton.tasks.offers import OfferService
from baton.tasks.repository import TaskRepository
from baton.tasks.service import TaskService
from baton.tasks.stream import Trigger

ROUTER = "baton-router"  # the actor of a routed assignment
MAX_PICKS = 8  # members tried for one task before it waits for the next trigger
GROUP_TTL = 2.0  # seconds a group's routing is cached by one router process
QUEUE_BATCH = 10
GONE = ("txnAlreadyAssigned", "txnAlreadyFinished", "txnNotFound", "offered")  # claimed, finished or gone meanwhile


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


def _free(task: Task | None, now: str) -> bool:
    """A task the router may give: open, manual, in a group's queue, held by nobody (or by a passed
    lease) and offered to nobody now."""
    if task is None or task.status != "open" or task.type != "manual" or task.candidateGroups == []:
        return False
    return not (task.assignee is not None and not task.lease_expired(now) or task.offer_live(now))


def _tried(task: Task) -> set[str]:
    """Who had the task offered and let it go: not again until everyone eligible has been."""
    return {*task.offerTried, *([task.offeredTo] if task.offeredTo else [])}


class Pick(NamedTuple):
    """A task, the group routing it, the member picked and the people as the pick saw them."""

    task: Task
    group: Group
    user: str
    people: dict[str, Person]


class Router:
    """Routes within one process; keeps each group's routing for GROUP_TTL seconds. `workers`: how
    many of a batch's writes run at once (1 with moto, which is not thread-safe)."""

    def __init__(self, db: Dynamo, workers: int | None = None) -> None:
        self.db = db
        self.workers = workers or get_settings().route_workers
        self.directory = DirectoryRepository(db)
        self._groups: dict[tuple[str, str], tuple[float, Group | None]] = {}
        self.offers: dict[tuple[str, str], str] = {}  # (tenant, task) -> when its offer expires

    def handle(self, found: Iterable[Trigger]) -> int:
        """Route what the triggers name, each task and each group's queue once; how many tasks
        were given. A fault (DynamoDB unavailable) is raised after everything else was routed."""
        tasks: dict[str, dict[str, None]] = {}  # tenant -> task ids, in stream order
        queues: dict[tuple[str, str], None] = {}
        for trigger in found:
            if trigger.kind == "offer" and trigger.at:
                self.offers[(trigger.tenant, trigger.id)] = trigger.at
            elif trigger.kind == "task":
                self.offers.pop((trigger.tenant, trigger.id), None)
                tasks.setdefault(trigger.tenant, {})[trigger.id] = None
            else:
                groups = trigger.groups or tuple(self.directory.groups_of(trigger.tenant, trigger.id))
                queues.update(dict.fromkeys((trigger.tenant, g) for g in groups))
        given = sum(self.route_tasks(tenant, list(ids)) for tenant, ids in tasks.items())
        return given + sum(self.route_queue(tenant, group_id) for tenant, group_id in queues)

    def sweep(self) -> int:
        """Route the tasks whose offers have expired (to the next member, or back to the queue)."""
        now = clock.stamp()
        due = [key for key, at in self.offers.items() if at <= now]
        for key in due:
            self.offers.pop(key, None)
        by_tenant: dict[str, list[str]] = {}
        for tenant, task_id in due:
            by_tenant.setdefault(tenant, []).append(task_id)
        return sum(self.route_tasks(tenant, ids) for tenant, ids in by_tenant.items())

    def _group(self, tenant: str, group_id: str, fresh: bool = False) -> Group | None:
        cached = self._groups.get((tenant, group_id))
        if not fresh and cached is not None and cached[0] > time.monotonic():
            return cached[1]
        group, _ = self.directory.get_group(tenant, group_id)
        if group is not None and cached is not None and cached[1] is not None and cached[1].routingLast:
            # round-robin's position as this router last moved it (saved after its batch)
            group = group.model_copy(update={"routingLast": cached[1].routingLast})
        self._groups[(tenant, group_id)] = (time.monotonic() + GROUP_TTL, group)
        return group

    def _push_groups(self, tenant: str, task: Task, fresh: bool = False) -> list[Group]:
        groups = (self._group(tenant, g, fresh) for g in task.candidateGroups)
        return [g for g in groups if g is not None and g.routing.strategy in PUSH_STRATEGIES]

    def route_queue(self, tenant: str, group_id: str) -> int:
        """Route the head of a push group's queue (a member may take work again)."""
        group = self._group(tenant, group_id)
        if group is None or group.routing.strategy not in PUSH_STRATEGIES:
            return 0
        tasks, _ = TaskListings(self.db).queue_head(tenant, ("", [group_id]), QUEUE_BATCH, None, own_queue=False)
        return self.route_tasks(tenant, [t.id for t in tasks]) if tasks else 0

    def route_tasks(self, tenant: str, task_ids: list[str]) -> int:
        """Route a batch of a tenant's tasks: one read of the tasks, one of each group's members,
        the picks in turn, the writes `workers` at a time; a write refused for its member (full,
        away, gone meanwhile) routes its task again alone. How many were given."""
        if not task_ids:
            return 0
        reads = TaskRepository(self.db)
        reads.prefetch(tenant, task_ids, ())
        now = clock.stamp()
        picks: list[Pick] = []
        alone: list[str] = []  # tasks another of their push groups may take: routed one by one
        members: dict[str, dict[str, Person]] = {}  # group -> its members as read, plus this batch's picks
        for task_id in dict.fromkeys(task_ids):
            task, _ = reads.read_task_and_users(tenant, task_id, ())
            if task is None or not _free(task, now) or not (groups := self._push_groups(tenant, task)):
                continue
            group = groups[0]
            if group.id not in members:
                members[group.id] = dict(reads.read_people(tenant, group.members))
            people = members[group.id]
            chosen = self._choose(group, people, task, set())
            if chosen is None:
                if len(groups) > 1 or task.offeredTo is not None:
                    alone.append(task_id)  # another group, or an expired offer to withdraw
                continue
            picks.append(Pick(task, group, chosen.id, dict(people)))
            picked = people[chosen.id]
            people[chosen.id] = picked._replace(load=picked.load + 1, lastAssignedAt=now)
            self._remember(tenant, group.model_copy(update={"routingLast": chosen.id}))
        if picks:
            with ThreadPoolExecutor(min(self.workers, len(picks))) as pool:
                outcomes = list(pool.map(lambda p: self._attempt(tenant, p), picks))
        else:
            outcomes = []
        alone += [p.task.id for p, out in zip(picks, outcomes, strict=True) if out == "refused"]
        given = sum(out == "given" for out in outcomes) + sum(self.route_task(tenant, t) for t in alone)
        self._save_round_robin(tenant, picks)
        fault = next((out for out in outcomes if isinstance(out, BaseException)), None)
        if fault is not None:
            raise fault
        return given

    def _remember(self, tenant: str, group: Group) -> None:
        self._groups[(tenant, group.id)] = (time.monotonic() + GROUP_TTL, group)

    def _save_round_robin(self, tenant: str, picks: list[Pick]) -> None:
        """Round-robin's position: the last member picked in each group (one write per group)."""
        last = {p.group.id: p.user for p in picks if p.group.routing.strategy == "round-robin"}
        for group_id, user in last.items():
            self.directory.set_routing_last(tenant, group_id, user)

    def _attempt(self, tenant: str, chosen: Pick) -> str | BaseException:
        """Write one pick: "given", "gone" (claimed, finished or gone meanwhile), "refused" (the
        member may not take it now: picked again), or the fault."""
        try:
            self._give(tenant, chosen.task, chosen.group, chosen.user, chosen.people)
        except BatonError as refused:
            return "gone" if refused.reason in GONE else "refused"
        except Exception as fault:  # noqa: BLE001 - raised by route_tasks once the batch is done
            return fault
        return "given"

    @staticmethod
    def _choose(group: Group, people: dict[str, Person], task: Task, excluded: set[str]) -> User | None:
        """The member the group's strategy picks among `people` (none of `excluded` nor, until
        everyone has been, who had the task offered already)."""
        tried = _tried(task)
        members = [_user(people[m]) for m in group.members if m in people]
        chosen = pick(group.routing.strategy, members, task.requiredSkills, last=group.routingLast,
                      excluded=excluded | tried)
        if chosen is None and tried:  # everyone has been offered it: round again
            chosen = pick(group.routing.strategy, members, task.requiredSkills, last=group.routingLast,
                          excluded=excluded)
        return chosen

    def _give(self, tenant: str, task: Task, group: Group, user: str, people: dict[str, Person]) -> None:
        """Give (or with `offerSeconds` offer) `task` to `user`, decided on `task` and `people` as
        read (the write asserts what it relies on); a refusal raises."""
        service = TaskService(self.db, Caller(ROUTER, ROUTER, tenant, frozenset({ROLE_ADMIN})))
        service.tasks.people.update(people)
        reason = reasons.routing(group.routing.strategy)
        seen = (task, {u: list(p.groups) for u, p in people.items()})
        if group.routing.offerSeconds:
            OfferService(service).offer(task.id, user, group.routing.offerSeconds, reason, seen)
        else:
            given = service.handover(eligibility.ASSIGN, "assign", (user,), reason)
            service.apply(task.id, routed(given, reason), None, seen)

    def route_task(self, tenant: str, task_id: str) -> int:
        """Give a free task of a push group to a member the strategy picks, on fresh reads; 1 if given."""
        service = TaskService(self.db, Caller(ROUTER, ROUTER, tenant, frozenset({ROLE_ADMIN})))
        task = service.tasks.get_task(tenant, task_id)
        if task is None or not _free(task, clock.stamp()):
            return 0
        # the groups read again too: a pick refused on a cached group may have met a membership
        # changed since (the cache would pick the member who left again)
        for group in self._push_groups(tenant, task, fresh=True):
            excluded: set[str] = set()
            for _ in range(MAX_PICKS):
                # the members as the task rules see them (one BatchGetItem), which the write then
                # decides on without reading again
                people = service.tasks.read_people(tenant, group.members)
                chosen = self._choose(group, people, task, excluded)
                if chosen is None:
                    break
                try:
                    self._give(tenant, task, group, chosen.id, people)
                except BatonError as refused:
                    if refused.reason in GONE:
                        return 0
                    excluded.add(chosen.id)  # full, away or gone meanwhile: the next one
                    continue
                if group.routing.strategy == "round-robin":
                    self.directory.set_routing_last(tenant, group.id, chosen.id)
                    self._remember(tenant, group.model_copy(update={"routingLast": chosen.id}))
                return 1
        if task.offeredTo is not None:  # expired, and nobody to offer it to: back to the queue
            OfferService(service).withdraw(task_id)
        return 0
