"""The escalation sweeper: reads the due timers and fires each due step of their tasks, once.

The same code runs in AWS (`baton_functions.sweeper`, invoked every minute by EventBridge
Scheduler), under `baton serve` (a thread, every second) and by hand (`baton sweep --once`).
Time comes from baton.clock, so tests move it instead of sleeping.

Firing a step is one conditional write on the task state it was checked on (its version, status
and holder): the step's `firedAt`, what its action changes, and the history event `escalated`
(reason `escalation:<id>`, published as the CloudEvent `baton.task.escalated`). Several sweepers
at once race on that write and exactly one wins; a task that was completed, claimed (`unless:
claimed`) or changed a moment before refuses the write, and the step is decided again on the new
state (where it is no longer due, or no longer pending). A timer read from the index that is no
longer due on the task itself (the index lags the table) is ignored.

Two more timers share the index, for the router's sake (API.md "People"): a task's passed lease,
taken over alone (`Escalator._lease_expiry`: the `lease-expired` event, the holder's load down)
when nothing else has, and a user's absence at its `until`, ended (directory.service
`end_passed_absence`: the `absence-end` event, reason `absence-ended`). Each is one conditional
write on what was read, so it happens once, and the router hears it on the table's stream."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from baton import clock
from baton.directory.service import end_passed_absence
from baton.domain import ROLE_ADMIN, Caller
from baton.errors import BatonError
from baton.settings import get_settings
from baton.storage.dynamo import Dynamo, TransactionConflict, get_dynamo
from baton.tasks import eligibility, standins
from baton.tasks import escalations as ladder
from baton.tasks.algorithm import read_stand_ins
from baton.tasks.change import Change
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
from baton.tasks.eligibility import Grant, Handover
from baton.tasks.leases import takeover
from baton.tasks.timers import ABSENCE_TIMER, TimerRepository, bucket_of, hour_end, hours, next_hour, previous_hour

log = logging.getLogger("baton.sweeper")

SYSTEM = "system"
MAX_ATTEMPTS = 8
# A bucket is closed (no write can still land in it) this long after its hour ended: the timer
# index is eventually consistent (typically well under a second) and clocks differ a little.
CLOSE_AFTER = timedelta(minutes=2)
# A sweep reads a bucket's shards this many at a time, and fires up to `Sweeper.workers` tasks at once.
READERS = 16
# At most this many hour buckets per sweep (a sweep after a long outage catches up over several).
MAX_BUCKETS = 24 * 7


@dataclass
class SweepReport:
    """What one sweep did: buckets read, timers found due, steps fired, timers it failed on (left
    for the next sweep), the checkpoint after it, and the lateness of the most overdue timer."""

    buckets: int = 0
    due: int = 0
    fired: int = 0
    failed: int = 0
    checkpoint: str | None = None
    lag_seconds: float = 0.0
    events: list[HistoryEvent] = field(default_factory=list)

    def public(self) -> dict[str, Any]:
        return {"buckets": self.buckets, "due": self.due, "fired": self.fired, "failed": self.failed,
                "checkpoint": self.checkpoint, "lagSeconds": round(self.lag_seconds, 3)}


def _seconds_between(earlier: str, later: str) -> float:
    return (datetime.fromisoformat(later.replace("Z", "+00:00"))
            - datetime.fromisoformat(earlier.replace("Z", "+00:00"))).total_seconds()


class Escalator:
    """Fires the due steps of one task (`fire_due`). `tasks`: the task repository."""

    def __init__(self, db: Dynamo, tasks: Any | None = None) -> None:
        from baton.tasks.repository import TaskRepository

        self.db = db
        self.tasks = tasks or TaskRepository(db)

    def fire_due(self, tenant: str, task_id: str) -> list[HistoryEvent]:
        """Fire, one write each, every step of the task that is due now; the events written. After
        a write the task is as written (no read needed to see whether another step is due); after a
        refused one it is read again."""
        written: list[HistoryEvent] = []
        known: tuple[Task | None, dict[str, list[str]]] | None = None
        refused: set[str] = set()  # users the write found may not hold it (capacity, skills, separation)
        for _ in range(MAX_ATTEMPTS * ladder.MAX_STEPS):
            task, groups = known if known is not None else self._read(tenant, task_id)
            known = None
            if task is not None and task.lease_expired(clock.stamp()):  # the lease's end first
                expiry = self._lease_expiry(task)
                try:
                    self.tasks.write(tenant, expiry)
                except (TaskChanged, HistoryRaced, TransactionConflict):
                    continue
                written.append(expiry.event)
                known = expiry.after.model_copy(update={"lastEvent": None}), groups
                continue
            step = self._next_step(task)
            named = list(step.to.users) if step and step.action in ("reassign", "offer") and step.to else []
            if named and not set(named) <= set(groups):  # read the users it gives or offers to with it
                task, groups = self._read(tenant, task_id, *named)
                step = self._next_step(task)
            if task is None or step is None:
                return written
            # absent users named: who stands in takes their place (tasks.standins), read first
            people = read_stand_ins(self.tasks, tenant, named)
            step, cover = standins.retarget(step, people, SYSTEM)
            groups = {**{u: list(p.groups) for u, p in people.items()}, **groups}
            now = clock.stamp()
            grants: dict[str, Grant] = {}
            firing = ladder.fire(task, step, now, partial(self.may_hold, tenant, task, groups, grants, people, refused))
            change = self._change(task, firing, now, grants.get(firing.holder_to or ""), cover)
            try:
                self.tasks.write(tenant, change)
            except (TaskChanged, HistoryRaced, TransactionConflict, MembershipLost, StandInChanged) as changed:
                if isinstance(changed, StandInChanged):  # an absence (or `active`) of its chain: read it again
                    self.tasks.people.pop(changed.user, None)
                continue  # the task changed under us: decide again on what it is now
            except (HolderRefused, SeparationRefused):  # the write found the user may not hold it:
                refused.add(firing.holder_to or "")  # decided again, the step offers the task instead
                continue
            written.append(change.event)
            # as stored: a direct claim's pending event was written out by this change
            known = change.after.model_copy(update={"lastEvent": None}), groups
        return written

    @staticmethod
    def _lease_expiry(task: Task) -> Change:
        """A passed lease taken over on its own (tasks.leases.takeover: the `lease-expired` event,
        actor `system`, the holder's load down): the task is free, and in its queues' routers'
        view (tasks.stream), at its lease's end even when nothing else changes it."""
        free, event = takeover(task, SYSTEM, False)
        assert event is not None
        return Change(task, ladder.rearmed(task, free, event.at), event)

    @staticmethod
    def _next_step(task: Task | None) -> ladder.Step | None:
        if task is None:
            return None
        due = ladder.due_steps(task, clock.stamp())
        return due[0] if due else None

    def _read(self, tenant: str, task_id: str, *users: str) -> tuple[Task | None, dict[str, list[str]]]:
        task, groups = self.tasks.read_task_and_users(tenant, task_id, users)
        return task, groups

    @staticmethod
    def may_hold(tenant: str, task: Task, groups: dict[str, list[str]], grants: dict[str, Grant],
                 people: Mapping[str, Person], refused: set[str], user: str) -> bool:
        """Whether an escalation may give the task to `user`: what tasks.eligibility answers for a
        reassignment by the system (admin) to that user (the task's reassignment policy, and the
        rules about who may hold it: separation, skills and capacity, on `people` as read with the
        task). The grant is kept for the write to assert what it relies on (memberships, the load,
        the holds in the task's case). `refused`: users a write found may not hold it."""
        if user in refused:
            return False
        system = Caller(user_id=SYSTEM, username=SYSTEM, tenant=tenant, roles=frozenset({ROLE_ADMIN}))
        try:
            grant = eligibility.decide(Handover(task, system, eligibility.REASSIGN, (user,), groups, None, people))
        except BatonError:
            return False
        if grant is None or grant.holder != user:
            return False
        grants[user] = grant
        return True

    @staticmethod
    def _change(task: Task, firing: ladder.Firing, now: str, grant: Grant | None,
                cover: standins.Cover | None = None) -> Change:
        """The firing's change; `cover`: the absences its step's users were replaced on (pinned,
        and the event's reason `absence:<mode>` and `onBehalfOf` when one was absent)."""
        after = task.model_copy(update={**firing.update, "version": task.version + 1, "updatedAt": now})
        new_claim = firing.holder_to is not None and firing.holder_to != firing.holder_from
        after = after.model_copy(update={"escalations": ladder.arm(task, after, now, new_claim)})
        offered = firing.changes.get("candidateUsers", {}).get("to") if firing.step.action == "reassign" else None
        event = HistoryEvent.model_validate({
            "id": uuid.uuid4().hex, "taskId": task.id, "version": task.version + 1, "at": now, "actor": SYSTEM,
            "action": ladder.ESCALATED, "from": firing.holder_from, "to": firing.holder_to,
            "comment": f"escalation {firing.step.id}: {firing.step.action} ({firing.outcome})",
            "candidates": offered if firing.holder_to is None else None, "reason": firing.reason,
            "changes": firing.changes})
        if cover is not None and cover.reason:
            event.reason, event.onBehalfOf = cover.reason, cover.on_behalf_of
        members = standins.pinned(grant.members if grant is not None else (), cover.pins if cover else ())
        return Change(task, after, event, members=members, ledger=grant.ledger if grant is not None else None)


class Sweeper:
    """One sweep of the timer index (`sweep`): the open hour buckets, shard by shard, each due
    timer's task handed to the Escalator; the checkpoint moves past every bucket that is closed and
    was handled without a failure."""

    def __init__(self, db: Dynamo | None = None, escalator: Escalator | None = None,
                 workers: int | None = None) -> None:
        self.workers = workers or get_settings().sweep_workers
        self.db = db or get_dynamo()
        self.timers = TimerRepository(self.db)
        self.escalator = escalator or Escalator(self.db)

    def sweep(self, on_event: Callable[[HistoryEvent], None] | None = None) -> SweepReport:
        report = SweepReport()
        now = clock.stamp()
        through = self.timers.swept_through()
        if through is None:  # the table's first sweep: nothing is older than the table
            through = previous_hour(self.timers.table_created())
            self.timers.mark_swept(through)
        first = next_hour(through)
        current = bucket_of(now)
        buckets = hours(first, current) if first <= current else []
        if len(buckets) > MAX_BUCKETS:
            buckets = buckets[:MAX_BUCKETS]
        closed_until = clock.stamp(clock.current() - CLOSE_AFTER)
        contiguous = True
        report.checkpoint = through
        seen: set[tuple[str, str, str | None]] = set()
        for bucket in buckets:
            ok = self._sweep_bucket(bucket, now, report, seen, on_event)
            contiguous = contiguous and ok
            if contiguous and hour_end(bucket) <= closed_until:
                self.timers.mark_swept(bucket)
                report.checkpoint = bucket
        report.buckets = len(buckets)
        return report

    def _sweep_bucket(self, bucket: str, now: str, report: SweepReport, seen: set[tuple[str, str, str | None]],
                      on_event: Callable[[HistoryEvent], None] | None) -> bool:
        """Read the bucket's shards (in parallel), then fire the due tasks (`workers` at a time:
        each task is its own conditional writes, so their order does not matter)."""
        shards = range(get_settings().timer_shards)
        with ThreadPoolExecutor(min(len(shards), READERS)) as pool:
            found = list(pool.map(lambda shard: list(self.timers.due(bucket, shard, now)), shards))
        due: list[tuple[str, str, str | None, str]] = []
        timers = sorted((t for part in found for t in part), key=lambda t: (t[0], t[1], t[2], t[3] or ""))
        for at, tenant, item_id, kind in timers:
            if (tenant, item_id, kind) not in seen:
                seen.add((tenant, item_id, kind))
                due.append((tenant, item_id, kind, at))
                report.due += 1
                report.lag_seconds = max(report.lag_seconds, _seconds_between(at, now))
        if not due:
            return True

        def fire(key: tuple[str, str, str | None, str]) -> list[HistoryEvent] | None:
            tenant, item_id, kind, at = key
            try:
                if kind == ABSENCE_TIMER:  # a user's absence passed: ended (the router hears it)
                    end_passed_absence(self.db, tenant, item_id, at, SYSTEM)
                    return []
                return self.escalator.fire_due(tenant, item_id)
            except (BatonError, OSError) as failed:  # left in the index: the next sweep retries it
                log.warning("timer of %s of tenant %s failed: %s", item_id, tenant, failed)
                return None
        with ThreadPoolExecutor(min(self.workers, len(due))) as pool:
            results = list(pool.map(fire, due))
        for events in results:
            if events is None:
                report.failed += 1
                continue
            report.fired += len(events)
            report.events.extend(events)
            if on_event is not None:
                for event in events:
                    on_event(event)
        return all(events is not None for events in results)


def sweep_once(db: Dynamo | None = None) -> SweepReport:
    return Sweeper(db).sweep()
