"""The task repository: tasks, their history and their queue entries in the table. It takes
and returns `Task` and `HistoryEvent` and answers a refused write with a domain outcome
(TaskChanged, TaskExists, MembershipLost, HistoryRaced, AtomicRefused); no item, key or
transaction index leaves it.

Every change is one TransactWriteItems whose condition re-asserts the state the rules were
checked on; a failed condition carries the item as it was (ALL_OLD), so the outcome says why
without a second read."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from baton import clock
from baton.errors import BadRequest
from baton.settings import get_settings
from baton.storage.cursors import (
    cursor_after,
    decode_position,
    encode_position,
    fingerprint,
    sort_key_of,
)
from baton.storage.dynamo import (
    MAX_TRANSACTION_ITEMS,
    ConditionFailed,
    Dynamo,
    deserialize,
    serialize,
)
from baton.storage.keys import (
    HISTORY,
    QUEUED,
    SCHEMA_MARKER,
    SCHEMA_VERSION,
    TASK_SK,
    Keys,
    newest_order,
    queue_order,
    unesc,
)
from baton.table import GSI_ASSIGNEE, GSI_QUEUE, GSI_TASKS, INDEXES, SK
from baton.tasks.domain import (
    MAX_PRIORITY,
    STATUSES,
    AtomicRefused,
    HistoryEvent,
    HistoryRaced,
    MembershipLost,
    Task,
    TaskChanged,
    TaskExists,
)
from baton.tasks.leases import LEASE, SHOW_IN_INBOX, SHOW_IN_QUEUE
from baton.tasks.rules import AT_VERSION, DIRECT_CLAIM
from baton.tasks.stream import DEFERRED
from baton.tasks.timers import timer_attributes

# A task's queue entries (one per candidate user and group) change in the same transaction as
# the task, next to the task, its history event, a membership check and a pending event.
MAX_CANDIDATES = MAX_TRANSACTION_ITEMS - 3
ITEMS_PER_TASK = 3  # task, history event, a direct claim's pending event written out
MAX_ATOMIC_TASKS = (MAX_TRANSACTION_ITEMS - 2) // ITEMS_PER_TASK  # 32: room for two membership checks


# ---- the task's items ----------------------------------------------------------------------------

def _queue_order(task: Task) -> str:
    return queue_order(MAX_PRIORITY - task.priority, task.dueDate, task.createdAt, task.id)


def queue_partitions(tenant: str, task: Task) -> list[str]:
    """The queues a task is in: one per candidate user and group while it is open, manual and
    free or held under a lease (shown by the queues once the lease has passed); none otherwise.
    A free task's first queue is carried by the task item itself, the others by entry items next
    to it (see `queue_entries`); a leased task's item is in its holder's inbox, so every queue
    takes an entry item."""
    if task.status != "open" or task.type != "manual" or (task.assignee is not None and not task.leaseExpiresAt):
        return []
    parts = [Keys.user_queue(tenant, u) for u in task.candidateUsers]
    parts += [Keys.group_queue(tenant, g) for g in task.candidateGroups]
    return list(dict.fromkeys(parts))


def queue_entries(tenant: str, task: Task) -> dict[str, dict[str, Any]]:
    """The entry items of a task's other queues (all but the first), by sort key. They live in
    the task's partition (`Q#U#{user}`, `Q#G#{group}`) and carry only what the queue index
    needs; a queue page reads their tasks."""
    pk = Keys.task(tenant, task.id)["pk"]
    order = _queue_order(task)
    out: dict[str, dict[str, Any]] = {}
    parts = queue_partitions(tenant, task)
    for part in parts if task.assignee is not None else parts[1:]:
        sk = Keys.queue_entry_sk(tenant, part)
        out[sk] = {"pk": pk, "sk": sk, "gsi3pk": part, "gsi3sk": order, "taskId": task.id,
                   LEASE: task.leaseExpiresAt}
    return out


def task_item(tenant: str, task: Task) -> dict[str, Any]:
    data = task.model_dump()
    data.update(Keys.task(tenant, task.id))
    data["gsi1pk"] = Keys.tasks_index(tenant, task.status, Keys.shard(task.id, get_settings().list_shards))
    data["gsi1sk"] = newest_order(task.createdAt, task.id)
    if task.assignee is not None:
        data["gsi2pk"] = Keys.assignee_index(tenant, task.assignee, task.status)
        data["gsi2sk"] = data["gsi1sk"]
    queues = queue_partitions(tenant, task)
    if queues and task.assignee is None:
        data["gsi3pk"], data["gsi3sk"] = queues[0], _queue_order(task)
    elif task.assignee is not None and task.status == "open":
        data["gsi3pk"], data["gsi3sk"] = Keys.inbox(tenant, task.assignee), _queue_order(task)
    if task.requestHash:
        data["requestHash"] = task.requestHash
    if not task.escalations:
        data.pop("escalations", None)  # absent, not empty: the direct claim's rule asks for it absent
    data.update(timer_attributes(tenant, task))
    return serialize(data)


def entry_actions(tenant: str, old: Task | None, new: Task) -> list[dict[str, Any]]:
    """The writes that move a task's queue entries from `old`'s state to `new`'s."""
    before = queue_entries(tenant, old) if old is not None else {}
    after = queue_entries(tenant, new)
    actions: list[dict[str, Any]] = []
    for sk, item in after.items():
        if before.get(sk) != item:
            actions.append({"Put": {"Item": serialize(item)}})
    for sk, item in before.items():
        if sk not in after:
            actions.append({"Delete": {"Key": serialize({"pk": item["pk"], "sk": sk})}})
    return actions


def task_from_item(item: dict[str, Any]) -> Task:
    return Task.model_validate(deserialize(item))


def _is_task(item: dict[str, Any]) -> bool:
    return bool(item[SK]["S"] == TASK_SK)


def event_item(tenant: str, event: HistoryEvent) -> dict[str, Any]:
    data = event.model_dump(by_alias=True)
    data["pk"] = Keys.task(tenant, event.taskId)["pk"]
    data["sk"] = Keys.history_sk(event.version)
    return serialize(data)


@dataclass
class HistoryPage:
    """Events in version order, each with the cursor that resumes right after it, and the
    page's own cursor (None on the last page)."""

    events: list[tuple[HistoryEvent, str]]
    cursor: str | None


class TaskRepository:
    def __init__(self, db: Dynamo) -> None:
        self.db = db

    def _write(self, actions: Sequence[dict[str, Any]]) -> None:
        self.db.transact(actions)

    # ---- reads -----------------------------------------------------------------------------
    def read_task_and_users(self, tenant: str, task_id: str, user_ids: Iterable[str]
                            ) -> tuple[Task | None, dict[str, list[str]]]:
        """One consistent round trip: the task, and the given users' group memberships
        (a user absent from the answer does not exist in the tenant)."""
        keys = [Keys.task(tenant, task_id), *(Keys.user(tenant, u) for u in user_ids)]
        tasks, users = self._tasks_and_users(self.db.batch_get(keys))
        return tasks.get(task_id), users

    @staticmethod
    def _tasks_and_users(items: list[dict[str, Any]]) -> tuple[dict[str, Task], dict[str, list[str]]]:
        tasks: dict[str, Task] = {}
        users: dict[str, list[str]] = {}
        for item in items:
            if _is_task(item):
                task = task_from_item(item)
                tasks[task.id] = task
            else:
                data = deserialize(item)
                users[data["userId"]] = list(data.get("groups", []))
        return tasks, users

    def get_task(self, tenant: str, task_id: str) -> Task | None:
        item = self.db.get(Keys.task(tenant, task_id))
        return task_from_item(item) if item else None

    # ---- writes ----------------------------------------------------------------------------
    def create_task(self, tenant: str, task: Task, event: HistoryEvent) -> None:
        """Put the task if its id is free, with its first history event; TaskExists otherwise."""
        try:
            self._write([
                {"Put": {"Item": task_item(tenant, task), "ConditionExpression": "attribute_not_exists(pk)"}},
                {"Put": {"Item": event_item(tenant, event)}},
                *entry_actions(tenant, None, task),
            ])
        except ConditionFailed as failed:
            raise TaskExists(task_from_item(failed.item) if failed.item else None) from None

    def change_task(self, tenant: str, old: Task, new: Task, event: HistoryEvent,
                    member_check: tuple[str, str | list[str]] | None = None,
                    expired: HistoryEvent | None = None, lease_live_at: str | None = None) -> None:
        """Replace the task if it is still exactly as read (version, status, assignee), writing
        the history event with it. `member_check` (user, group or groups) also asserts that the
        user is a member of one of them. `expired`: the `lease-expired` event of a takeover
        (numbered before `event`); the condition then also admits the old holder's lease only if
        it has passed; `lease_live_at` (a heartbeat): only if the lease has not passed at that
        time. Refused: TaskChanged (the task as it now is), MembershipLost, HistoryRaced."""
        values: dict[str, Any] = {":v": old.version, ":st": old.status}
        cond = "version = :v AND #st = :st AND "
        if old.assignee is None:
            cond += "attribute_not_exists(assignee)"
        else:
            cond += "assignee = :a"
            values[":a"] = old.assignee
        if expired is not None:
            cond += f" AND {LEASE} <= :now"
            values[":now"] = expired.at
        if lease_live_at is not None:
            cond += f" AND (attribute_not_exists({LEASE}) OR {LEASE} > :live)"
            values[":live"] = lease_live_at
        actions: list[dict[str, Any]] = [
            {"Put": {"Item": task_item(tenant, new), "ConditionExpression": cond,
                     "ExpressionAttributeNames": {"#st": "status"},
                     "ExpressionAttributeValues": serialize(values)}},
            {"Put": {"Item": event_item(tenant, event),
                     "ConditionExpression": "attribute_not_exists(pk)"}},
        ]
        member_at = None
        if member_check:
            user, group = member_check
            groups = [group] if isinstance(group, str) else group  # a member of any of them
            member_at = len(actions)
            actions.append({"ConditionCheck": {
                "Key": serialize(Keys.user(tenant, user)),
                "ConditionExpression": " OR ".join(f"contains(#g, :g{i})" for i in range(len(groups))),
                "ExpressionAttributeNames": {"#g": "groups"},
                "ExpressionAttributeValues": serialize({f":g{i}": g for i, g in enumerate(groups)})}})
        if old.lastEvent:  # a direct claim's event, written out now (the Put above drops it)
            pending = HistoryEvent.model_validate({**old.lastEvent, "version": old.version})
            # `deferred`: its event was published when the claim was made (tasks.events).
            actions.append({"Put": {"Item": {**event_item(tenant, pending), DEFERRED: {"BOOL": True}}}})
        if expired is not None:
            actions.append({"Put": {"Item": event_item(tenant, expired),
                                    "ConditionExpression": "attribute_not_exists(pk)"}})
        actions += entry_actions(tenant, old, new)
        if len(actions) > MAX_TRANSACTION_ITEMS:
            raise BadRequest(f"Too many candidates to change at once (at most {MAX_CANDIDATES} per task)")
        try:
            self._write(actions)
        except ConditionFailed as failed:
            if failed.index == 0:
                raise TaskChanged(task_from_item(failed.item) if failed.item else None) from None
            if failed.index == member_at and member_check:
                raise MembershipLost(member_check[0]) from None
            raise HistoryRaced() from None

    def claim_direct(self, tenant: str, task_id: str, user: str, event: HistoryEvent,
                     if_match: int | None) -> Task:
        """Claim for the only candidate of a task in one round trip: one conditional UpdateItem
        whose condition is the claim rule `tasks.rules.DIRECT_CLAIM` (and the expected version if
        one is given). Its history event goes into the same item (`lastEvent`, numbered by the
        task's new version) and is written out as its history item by the next change.
        TaskChanged (the task as it is, or None) otherwise."""
        claim = DIRECT_CLAIM & AT_VERSION if if_match is not None else DIRECT_CLAIM
        condition = claim.condition(me=user, version=if_match)
        values: dict[str, Any] = {":me": user, ":one": 1, ":now": event.at,
                                  ":g2": Keys.assignee_index(tenant, user, "open"), ":g3": Keys.inbox(tenant, user),
                                  ":ev": event.model_dump(by_alias=True, exclude={"version"}, exclude_none=True)}
        # The caller is the only candidate: the task item is then its only queue entry, and
        # moving it from that queue to the caller's inbox (gsi3pk) is part of this one write.
        try:
            out = self.db.call(
                "update_item", TableName=self.db.table, Key=serialize(Keys.task(tenant, task_id)),
                UpdateExpression="SET assignee = :me, version = version + :one, updatedAt = :now, gsi2pk = :g2, "
                                 "gsi2sk = gsi1sk, gsi3pk = :g3, lastEvent = :ev",
                ConditionExpression=condition.expression, ExpressionAttributeNames=condition.names,
                ExpressionAttributeValues={**serialize(values), **condition.values}, ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD")
        except ConditionFailed as failed:
            raise TaskChanged(task_from_item(failed.item) if failed.item else None) from None
        return task_from_item(out["Attributes"])

    # ---- history ---------------------------------------------------------------------------
    def history_page(self, tenant: str, task_id: str, limit: int, cursor: str | None) -> HistoryPage:
        pk = Keys.task(tenant, task_id)["pk"]
        page = self.db.query_page(
            limit, cursor, "pk", pk, HISTORY,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :h)", ConsistentRead=True,
            ExpressionAttributeValues=serialize({":pk": pk, ":h": HISTORY}))
        events = [(HistoryEvent.model_validate(deserialize(i)), cursor_after(i) or "") for i in page.items]
        return HistoryPage(events, page.cursor)

    @staticmethod
    def history_cursor_version(cursor: str | None) -> int:
        """The version of the history event a (valid) history cursor follows; 0 without one."""
        return Keys.history_version(sort_key_of(cursor))

    # ---- listings --------------------------------------------------------------------------
    def tasks_page(self, tenant: str, *, assignee: str | None, candidate: tuple[str, list[str]] | None,
                   status: str | None, limit: int, cursor: str | None) -> tuple[list[Task], str | None]:
        """A page of tasks, each from keys made for it (never a filtered tenant-wide list):
        - `candidate` (user, groups): the user's queue, in queue order: the user's own queue
          partition and one per group, merged; a task in several of them appears once;
        - `assignee` with status open: that user's inbox, in queue order;
        - `assignee` otherwise: the user's tasks by status, newest first (all statuses merged);
        - neither: the tenant's tasks by status, newest first, merged over the listing shards.
        A page holds `limit` items whenever that many exist, and has a cursor only if more do."""
        kind: tuple[str | None, ...]
        show: str | None = None
        if candidate is not None:
            if status not in (None, "open"):
                return [], None  # a queue holds open tasks only
            user, groups = candidate
            parts = [Keys.user_queue(tenant, user), *(Keys.group_queue(tenant, g) for g in groups)]
            index, forward, kind, show = GSI_QUEUE, True, ("queue", user), SHOW_IN_QUEUE
        elif assignee is not None and status == "open":
            parts, index, forward, kind = [Keys.inbox(tenant, assignee)], GSI_QUEUE, True, ("inbox", assignee)
            show = SHOW_IN_INBOX
        elif assignee is not None:
            parts = [Keys.assignee_index(tenant, assignee, s) for s in ((status,) if status else STATUSES)]
            index, forward, kind = GSI_ASSIGNEE, False, ("assignee", assignee, status)
        else:
            shards = range(get_settings().list_shards)
            parts = [Keys.tasks_index(tenant, s, k) for s in ((status,) if status else STATUSES) for k in shards]
            index, forward, kind = GSI_TASKS, False, ("tasks", status)
        mark = fingerprint(tenant, *kind)
        after = decode_position(cursor, mark, QUEUED if forward else None)
        items, last = self.db.merged(index, parts, forward=forward, limit=limit, after=after, region=QUEUED,
                                     show=show, now=clock.stamp() if show else None)
        return self._tasks_of(tenant, items), encode_position(last, mark)

    def queue_head(self, tenant: str, candidate: tuple[str, list[str]], limit: int, after: str | None,
                   own_queue: bool = True) -> tuple[list[Task], str | None]:
        """The first `limit` tasks of a user's queue (or, without `own_queue`, of the given
        groups' queues) after the queue position `after`, and the position to go on from."""
        user, groups = candidate
        parts = ([Keys.user_queue(tenant, user)] if own_queue else []) + [Keys.group_queue(tenant, g) for g in groups]
        if not parts:
            return [], None
        items, last = self.db.merged(GSI_QUEUE, parts, forward=True, limit=limit, after=after, region=QUEUED,
                                     show=SHOW_IN_QUEUE, now=clock.stamp())
        return self._tasks_of(tenant, items), last

    def _tasks_of(self, tenant: str, items: list[dict[str, Any]]) -> list[Task]:
        """The tasks of index items: a task item is the task; a queue entry names its task,
        read (consistent) in one BatchGetItem for the page."""
        wanted = [i["taskId"]["S"] for i in items if not _is_task(i)]
        found: dict[str, Task] = {}
        if wanted:
            found = {t.id: t for t in (task_from_item(i) for i in self.db.batch_get(
                Keys.task(tenant, t) for t in wanted))}
        tasks: list[Task] = []
        for item in items:
            if _is_task(item):
                tasks.append(task_from_item(item))
            elif item["taskId"]["S"] in found:
                tasks.append(found[item["taskId"]["S"]])
        return tasks

    # ---- migration -------------------------------------------------------------------------
    def migrate(self) -> int:
        """Bring task items written by an older Baton (one tenant-wide listing key, no queue keys)
        or under another `list_shards` to the current keys, with their queue entries: one
        transaction per task, conditioned on the version it read. Runs once per schema and shard
        count (a marker item records it); a Scan, never on a request path. Returns how many tasks
        it rewrote."""
        shards = get_settings().list_shards
        done = self.db.get(SCHEMA_MARKER)
        if done and deserialize(done).get("schema") == SCHEMA_VERSION and deserialize(done).get("shards") == shards:
            return 0
        changed = 0
        kwargs: dict[str, Any] = {"TableName": self.db.table, "FilterExpression": "sk = :t",
                                  "ExpressionAttributeValues": {":t": {"S": TASK_SK}}}
        while True:
            page = self.db.call("scan", **kwargs)
            for item in page.get("Items", []):
                changed += self._migrate_task(item)
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        self.db.call("put_item", TableName=self.db.table,
                     Item=serialize({**SCHEMA_MARKER, "schema": SCHEMA_VERSION, "shards": shards}))
        return changed

    def _migrate_task(self, item: dict[str, Any]) -> int:
        tenant = unesc(item["pk"]["S"].split("#")[1])
        task = task_from_item(item)
        new = task_item(tenant, task)
        if "lastEvent" in item:
            new["lastEvent"] = item["lastEvent"]
        index_keys = [k for pair in INDEXES.values() for k in pair]
        if all(item.get(k) == new.get(k) for k in index_keys):
            return 0
        self.db.transact([
            {"Put": {"Item": new, "ConditionExpression": "version = :v",
                     "ExpressionAttributeValues": serialize({":v": task.version})}},
            *entry_actions(tenant, None, task),
        ])
        return 1


class BulkTaskRepository(TaskRepository):
    """The repository as one bulk request sees it: each task's first read comes from one
    BatchGetItem made for all of them up front; with `collect`, the writes are staged instead
    of made, to be committed together in ONE transaction (`commit`)."""

    def __init__(self, db: Dynamo, tenant: str, task_ids: Sequence[str], user_ids: Iterable[str],
                 collect: bool = False) -> None:
        super().__init__(db)
        self.collect = collect
        self._staged: list[dict[str, Any]] = []
        self._actions: list[dict[str, Any]] = []
        self._owners: list[str] = []  # the task each transaction item belongs to
        keys = [*(Keys.task(tenant, t) for t in task_ids), *(Keys.user(tenant, u) for u in user_ids)]
        tasks, self.groups = self._tasks_and_users(db.batch_get(keys))
        self.first: dict[str, Task | None] = {t: tasks.get(t) for t in task_ids}

    def read_task_and_users(self, tenant: str, task_id: str, user_ids: Iterable[str]
                            ) -> tuple[Task | None, dict[str, list[str]]]:
        if task_id in self.first:  # the first read of this task: already made
            return self.first.pop(task_id), {u: self.groups[u] for u in user_ids if u in self.groups}
        return super().read_task_and_users(tenant, task_id, user_ids)

    def _write(self, actions: Sequence[dict[str, Any]]) -> None:
        if self.collect:
            self._staged += [dict(a) for a in actions]
            return
        super()._write(actions)

    def stage(self, task_id: str) -> None:
        """The writes collected since the last call belong to task `task_id`."""
        for item in self._staged:
            if "ConditionCheck" in item:
                self._merge_check(item["ConditionCheck"], task_id)
            else:
                self._actions.append(item)
                self._owners.append(task_id)
        self._staged.clear()

    def discard(self) -> None:
        self._staged.clear()

    def commit(self) -> None:
        """Make every staged write in one transaction; AtomicRefused names the task whose
        condition failed."""
        if not self._actions:
            return
        if len(self._actions) > MAX_TRANSACTION_ITEMS:
            raise BadRequest(f"atomic: these tasks need {len(self._actions)} items in one transaction; DynamoDB "
                             f"takes {MAX_TRANSACTION_ITEMS} (a task is 2 or 3, plus one per queue it enters or "
                             f"leaves)")
        try:
            self.db.transact(self._actions)
        except ConditionFailed as failed:
            raise AtomicRefused(self._owners[failed.index] if failed.index < len(self._owners) else None) from None

    _PLACEHOLDER = re.compile(r":[A-Za-z0-9_]+")

    def _merge_check(self, check: dict[str, Any], task_id: str) -> None:
        """One ConditionCheck per item in a transaction (DynamoDB refuses two operations on one
        item): a second membership check on the same user item is ANDed into the first."""
        key = check["Key"]
        for existing in self._actions:
            prior = existing.get("ConditionCheck")
            if prior is not None and prior["Key"] == key:
                suffix = f"_{len(prior['ExpressionAttributeValues'])}"
                condition = self._PLACEHOLDER.sub(rf"\g<0>{suffix}", check["ConditionExpression"])
                prior["ConditionExpression"] = f"({prior['ConditionExpression']}) AND ({condition})"
                prior["ExpressionAttributeValues"].update(
                    {k + suffix: v for k, v in check["ExpressionAttributeValues"].items()})
                prior["ExpressionAttributeNames"].update(check.get("ExpressionAttributeNames", {}))
                return
        self._actions.append({"ConditionCheck": {
            **check, "ExpressionAttributeValues": dict(check["ExpressionAttributeValues"]),
            "ExpressionAttributeNames": dict(check.get("ExpressionAttributeNames", {}))}})
        self._owners.append(task_id)
