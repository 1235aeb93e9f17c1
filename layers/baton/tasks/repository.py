"""The task repository: read a task (with the memberships a decision needs) and write its changes.
It takes and returns `Task`, `HistoryEvent` and `Change` and answers a refused write with a
domain outcome (TaskChanged, TaskExists, MembershipLost, HistoryRaced); no item, key or
transaction index leaves it. The items' layout is tasks.layout, listings tasks.listings, the
schema migration tasks.migration.

Every change is one transaction whose conditions are the change's own (tasks.change: rules of
storage.conditions, rendered here), made through a unit of work (tasks.unit_of_work: at once, or
staged for a bulk atomic request); a failed condition carries the item as it was (ALL_OLD), so
the outcome says why without a second read."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence
from typing import Any

from baton import ledger
from baton.errors import BadRequest
from baton.storage.conditions import Rule, absent, contains, either, eq, lacks, present, rule
from baton.storage.dynamo import MAX_TRANSACTION_ITEMS, ConditionFailed, Dynamo, deserialize, serialize
from baton.storage.keys import PERSON_SK, Keys
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
    TaskExists,
)
from baton.tasks.holders import person_from
from baton.tasks.layout import (
    MAX_CANDIDATES,
    entry_ops,
    event_item,
    held_event,
    is_task,
    pending_event,
    record_changes,
    stamp_chain,
    task_from_item,
    task_item,
)
from baton.tasks.queuecopy import left_free
from baton.tasks.separation import Held, LedgerEntry, Separation
from baton.tasks.separation import refusal as separation_refusal
from baton.tasks.stream import DEFERRED
from baton.tasks.unit_of_work import Op, UnitOfWork

NEW = rule(absent("pk"))  # a Put that must not replace an item
EXISTS = rule(present("pk"))  # an Update that must not create an item
NO_USER = rule(absent("pk"))  # a holder without a load item (no user of the directory)
# Who is to bear or hold a task is active (offboarding sets `active` false on the load item first).
ACTIVE = EXISTS & either(absent("active"), eq("active", True))


class _UserUnknown(Exception):
    """A write took a user for a directory user, or for none, wrongly: write it again."""


class TaskRepository:
    hold_claims = False  # a claim's event held in its task item (a bulk request's: tasks.bulk_chunks)

    def __init__(self, db: Dynamo, uow: UnitOfWork | None = None) -> None:
        self.db = db
        self.uow = uow or UnitOfWork(db)
        self._first: dict[str, Task | None] = {}  # prefetched tasks, each answering its next read
        self._groups: dict[str, list[str]] = {}
        # The users read so far, as the rules see them (kept up to date with the loads this
        # repository's writes change), and the ids found not to be users of the tenant.
        self.people: dict[str, Person] = {}
        self.absent: set[str] = set()

    # ---- reads -----------------------------------------------------------------------------
    def prefetch(self, tenant: str, task_ids: Sequence[str], user_ids: Iterable[str]) -> None:
        """Read these tasks and users now, in one consistent BatchGetItem; each task's next read
        (`read_task_and_users`) is answered from it (a bulk request's reads)."""
        user_ids = list(user_ids)
        keys = [*(Keys.task(tenant, t) for t in task_ids), *self._user_keys(tenant, user_ids)]
        tasks, self._groups = self._tasks_and_users(self.db.batch_get(keys), user_ids)
        self._first = {t: tasks.get(t) for t in task_ids}

    def read_task_and_users(self, tenant: str, task_id: str, user_ids: Iterable[str]
                            ) -> tuple[Task | None, dict[str, list[str]]]:
        """One consistent round trip: the task, and the given users' group memberships
        (a user absent from the answer does not exist in the tenant)."""
        if task_id in self._first:  # prefetched: this first read is made already
            return self._first.pop(task_id), {u: self._groups[u] for u in user_ids if u in self._groups}
        user_ids = list(user_ids)
        keys = [Keys.task(tenant, task_id), *self._user_keys(tenant, user_ids)]
        tasks, users = self._tasks_and_users(self.db.batch_get(keys), user_ids)
        return tasks.get(task_id), users

    def read_people(self, tenant: str, user_ids: Iterable[str]) -> dict[str, Person]:
        """The users of these ids that exist (one consistent BatchGetItem), remembered."""
        user_ids = list(user_ids)
        self._tasks_and_users(self.db.batch_get(self._user_keys(tenant, user_ids)), user_ids)
        return {u: self.people[u] for u in user_ids if u in self.people}

    @staticmethod
    def _user_keys(tenant: str, user_ids: Iterable[str]) -> list[dict[str, str]]:
        """The user items and the load items of these users (read together: one BatchGetItem)."""
        return [k for u in user_ids for k in (Keys.user(tenant, u), Keys.person(tenant, u))]

    def _tasks_and_users(self, items: list[dict[str, Any]], user_ids: Iterable[str]
                         ) -> tuple[dict[str, Task], dict[str, list[str]]]:
        tasks: dict[str, Task] = {}
        users: dict[str, dict[str, Any]] = {}
        loads: dict[str, dict[str, Any]] = {}
        for item in items:
            if is_task(item):
                task = task_from_item(item)
                tasks[task.id] = task
            elif item["sk"]["S"] == PERSON_SK:
                data = deserialize(item)
                loads[data["userId"]] = data
            else:
                data = deserialize(item)
                users[data["userId"]] = data
        for uid, data in users.items():
            self.people[uid] = person_from(data, loads.get(uid))
        for uid in user_ids:  # a user without a load item: its load is not kept (no directory user)
            (self.absent.discard if uid in loads else self.absent.add)(uid)
        return tasks, {uid: list(data.get("groups", [])) for uid, data in users.items()}

    def get_task(self, tenant: str, task_id: str) -> Task | None:
        item = self.db.get(Keys.task(tenant, task_id))
        return task_from_item(item) if item else None

    # ---- writes ----------------------------------------------------------------------------
    def create_task(self, tenant: str, task: Task, event: HistoryEvent) -> None:
        """Put the task if its id is free, with its first history event (its changes and the first
        hash of its chain); TaskExists otherwise."""
        if not event.changes:
            event.changes = ledger.changes(None, dict(task))
        stamp_chain(None, task, [event])
        try:
            self.uow.write([Op("Put", task_item(tenant, task), NEW), Op("Put", event_item(tenant, event)),
                            *entry_ops(tenant, None, task)], task.id)
        except ConditionFailed as failed:
            raise TaskExists(task_from_item(failed.item) if failed.item else None) from None

    def write(self, tenant: str, change: Change) -> None:
        """Write the change as one transaction: the task if still as read (`Change.task_rule`), its
        events (a takeover's `lease-expired` first), the memberships (and absences: tasks.standins)
        it relies on, the load items of who bore it and who now bears it (API.md "People": capacity,
        skills and `active` asserted at write time; no directory user: asserted to have none), a
        pending direct-claim event, the queue entries it moves. Refused: TaskChanged (as it now is),
        MembershipLost, StandInChanged, HolderRefused, SeparationRefused, HistoryRaced."""
        for _ in range(3):
            with contextlib.suppress(_UserUnknown):  # a holder turned out not to be (or to be) a directory user
                self._write(tenant, change)
                return left_free(self.db.table, tenant, change.after)  # claim-next's copies: tasks.queuecopy
        raise HistoryRaced()

    def _write(self, tenant: str, change: Change) -> None:
        old, new = change.before, change.after
        # The ledger: what each event changed, the chain (a pending claim event written out, a takeover's,
        # the change's own) and its last hash on the task; a claim's event held in the task (`hold_claims`).
        record_changes(old, new, change.event, change.expired)
        pending = pending_event(old)
        held = self.hold_claims and pending is None and change.expired is None and change.event.action == "claim"
        stamp_chain(old, new, [] if held else [e for e in (pending, change.expired, change.event) if e is not None])
        item = {**task_item(tenant, new), **(serialize(held_event(tenant, change.event)) if held else {})}
        ops = [Op("Put", item, change.task_rule())]
        ops += [] if held else [Op("Put", event_item(tenant, change.event), NEW)]
        checked: dict[int, str] = {}  # op index -> the user whose item it changes or checks
        loads: dict[int, int] = {}  # op index -> the load change it makes
        was, now = change.holders()
        for user, delta in ((was, -1), (now, 1)):
            if user is None:
                continue
            checked[len(ops)] = user
            key = serialize(Keys.person(tenant, user))
            if user in self.absent:
                ops.append(Op("ConditionCheck", key, NO_USER))
                continue
            condition = EXISTS if delta < 0 else rule(*ACTIVE.clauses,
                                                      *(contains("skills", s) for s in new.requiredSkills))
            person = self.people.get(user)
            loads[len(ops)] = delta
            ops.append(Op("Update", key, condition, delta=delta, at=change.event.at if delta > 0 else None,
                          limit=person.capacity if person else None))
        taker = new.assignee if new.status == "open" and new.assignee != now else None  # an offer taken, a lease
        if taker and taker not in self.absent and (taker != old.assignee or change.expired):  # retaken: active?
            checked[len(ops)] = taker
            ops.append(Op("ConditionCheck", serialize(Keys.person(tenant, taker)), ACTIVE))
        members: dict[int, tuple[str, str]] = {}  # one check per user item: its memberships and leads
        for user, (kind, asserted) in change.assertions().items():
            members[len(ops)] = (user, kind)
            ops.append(Op("ConditionCheck", serialize(Keys.user(tenant, user)), asserted))
        if pending is not None:  # a direct claim's event, written out now; `deferred`: published at the claim
            ops.append(Op("Put", {**event_item(tenant, pending), DEFERRED: {"BOOL": True}}))
        if change.expired is not None:
            ops.append(Op("Put", event_item(tenant, change.expired), NEW))
        held_at = len(ops) if change.ledger is not None else -1
        ops += [self._holds(tenant, change.ledger)] if change.ledger is not None else []
        ops += entry_ops(tenant, old, new)
        if len(ops) > MAX_TRANSACTION_ITEMS:
            raise BadRequest(f"Too many candidates to change at once (at most {MAX_CANDIDATES} per task)")
        try:
            ledger = change.ledger  # a staged write's refusal by the case ledger names its rule (tasks.unit_of_work)
            self.uow.write(ops, old.id, {held_at: lambda item: self._refused_rule(ledger, item)} if ledger else None)
        except ConditionFailed as failed:
            if failed.index == 0:
                raise TaskChanged(task_from_item(failed.item) if failed.item else None) from None
            if failed.index in members:  # its absence changed (decide again), or it left the groups (or its lead)
                user, kind = members[failed.index]
                mine = [m for m in change.members if m.user == user]
                if mine and all(m.in_groups.holds(deserialize(failed.item or {})) for m in mine):
                    raise StandInChanged(user) from None
                raise MembershipLost(user, kind) from None
            if failed.index in checked:
                self._refused(change, checked[failed.index], loads.get(failed.index, 0), failed.item)
            if failed.index == held_at and change.ledger is not None:
                raise SeparationRefused(self._refused_rule(change.ledger, failed.item)) from None
            raise HistoryRaced() from None
        for user, delta in ((was, -1), (now, 1)):  # the loads as this write left them
            if user is not None and user in self.people:
                self.people[user] = self.people[user]._replace(load=self.people[user].load + delta)

    def _refused(self, change: Change, user: str, delta: int, item: dict[str, Any] | None) -> None:
        """Why the operation on `user`'s load item (its load changed by `delta`; 0: the check that
        it has none) refused the change: raises the outcome."""
        if item is None:  # no load item: not a user of the directory, its load not kept
            self.absent.add(user)
            raise _UserUnknown()
        if delta >= 0 and deserialize(item).get("active") is False:  # offboarded (tasks.offboarding)
            raise HolderRefused(user, "inactive", None)
        if not delta:  # taken for no user, and it is one now
            self.absent.discard(user)
            raise _UserUnknown()
        if delta < 0:
            raise HistoryRaced()
        data = deserialize(item)
        known = self.people.get(user)
        person = person_from({"userId": user, "groups": list(known.groups) if known else [],
                              "presence": known.presence if known else "available"}, data)
        self.people[user] = person
        if not set(change.after.requiredSkills) <= person.skills:
            raise HolderRefused(user, "skills", person)
        raise HolderRefused(user, "capacity", person)

    @staticmethod
    def _holds(tenant: str, entry: LedgerEntry) -> Op:
        """Add the task (and its activity) to the holder's holds in the case, on condition that the
        holds include none of the tasks and activities it is separated from (tasks.separation)."""
        forbid = rule(*(lacks("tasks", t) for t in entry.forbid_tasks),
                      *(lacks("activities", a) for a in entry.forbid_activities))
        sets = ["#ht :ht"] + (["#ha :ha"] if entry.activity_id else [])
        values = {":ht": {"SS": [entry.task_id]}, **({":ha": {"SS": [entry.activity_id]}} if entry.activity_id else {})}
        return Op("Update", serialize(Keys.case_holds(tenant, entry.case_id, entry.user)),
                  forbid if forbid.clauses else None,
                  update=("ADD " + ", ".join(sets), {"#ht": "tasks", "#ha": "activities"} if entry.activity_id
                          else {"#ht": "tasks"}, values), ledger=(entry,))

    @staticmethod
    def _refused_rule(entry: LedgerEntry, item: dict[str, Any] | None) -> str:
        data = deserialize(item or {})
        held = Held(frozenset(data.get("tasks", [])), frozenset(data.get("activities", [])))
        return separation_refusal(Separation(tasks=list(entry.forbid_tasks),
                                             activities=list(entry.forbid_activities)), None, entry.user, held) \
            or "Separation of duties"

    def claim_direct(self, tenant: str, task_id: str, user: str, event: HistoryEvent,
                     condition: tuple[Rule, dict[str, Any]]) -> Task:
        """The claim's fast path: one conditional UpdateItem (one round trip) whose condition is
        the claim rule of tasks.eligibility (`direct_claim`). Its history event goes into the same
        item (`lastEvent`, numbered by the task's new version) and is written out as its history
        item by the next change. TaskChanged (the task as it is, or None) otherwise."""
        claim, params = condition
        rendered = claim.condition(**params)
        held = held_event(tenant, event)  # `lastEvent`, in the tenant audit while the task item holds it
        values: dict[str, Any] = {":me": user, ":one": 1, ":now": event.at, ":ev": held.pop("lastEvent"),
                                  ":g2": Keys.assignee_index(tenant, user, "open"), ":g3": Keys.inbox(tenant, user),
                                  **{f":{k}": v for k, v in held.items()}}
        # The caller is the only candidate: the task item is then its only queue entry, and
        # moving it from that queue to the caller's inbox (gsi3pk) is part of this one write.
        try:
            out = self.db.call(
                "update_item", TableName=self.db.table, Key=serialize(Keys.task(tenant, task_id)),
                UpdateExpression="SET assignee = :me, version = version + :one, updatedAt = :now, gsi2pk = :g2, "
                                 "gsi2sk = gsi1sk, gsi3pk = :g3, gsi7pk = :g3, gsi8pk = :g3, lastEvent = :ev, "
                                 "gsi4pk = :gsi4pk, gsi4sk = :gsi4sk",
                ConditionExpression=rendered.expression, ExpressionAttributeNames=rendered.names,
                ExpressionAttributeValues={**serialize(values), **rendered.values}, ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD")
        except ConditionFailed as failed:
            raise TaskChanged(task_from_item(failed.item) if failed.item else None) from None
        return task_from_item(out["Attributes"])
