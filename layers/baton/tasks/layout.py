"""The task's items: how a task, its history events and its queue entries are laid out in the
table (keys, index attributes, the queues it is in), and back. Pure: no reads, no writes.

A task's queue entries (one per candidate user and group) change in the same transaction as the
task, next to the task, its history event, a membership check and a pending event: so a task has
at most `MAX_CANDIDATES` candidates, and a bulk atomic request at most `MAX_ATOMIC_TASKS` tasks."""

from __future__ import annotations

import json
from typing import Any

from baton import ledger
from baton.settings import get_settings
from baton.storage.dynamo import MAX_TRANSACTION_ITEMS, deserialize, serialize
from baton.storage.keys import TASK_SK, Keys, age_order, due_order, newest_order, queue_order
from baton.table import SK
from baton.tasks.domain import MAX_PRIORITY, HistoryEvent, Task
from baton.tasks.escalations import overdue_since
from baton.tasks.filters import SEARCH, search_text
from baton.tasks.leases import LEASE
from baton.tasks.timers import OVERDUE, timer_attributes
from baton.tasks.unit_of_work import Op

MAX_CANDIDATES = MAX_TRANSACTION_ITEMS - 3
ITEMS_PER_TASK = 3  # task, history event, a held claim event written out
MAX_ATOMIC_TASKS = (MAX_TRANSACTION_ITEMS - 2) // ITEMS_PER_TASK  # 32: room for two membership checks


def _queue_order(task: Task) -> str:
    return queue_order(MAX_PRIORITY - task.priority, task.dueDate, task.createdAt, task.id)


def _in_queue(partition: str, task: Task) -> dict[str, str]:
    """An item's place in a queue or inbox `partition`: in queue order (gsi3), due-date order
    (gsi7) and age order (gsi8), the same partition in each."""
    return {"gsi3pk": partition, "gsi3sk": _queue_order(task), "gsi7pk": partition,
            "gsi7sk": due_order(MAX_PRIORITY - task.priority, task.dueDate, task.createdAt, task.id),
            "gsi8pk": partition, "gsi8sk": age_order(task.createdAt, task.id)}


def queue_partitions(tenant: str, task: Task) -> list[str]:
    """The queues a task is in: one per candidate user and group while it is open, manual and
    free or held under a lease (shown by the queues once the lease has passed); none otherwise.
    A free task's first queue is carried by the task item itself, the others by entry items next
    to it (see `queue_entries`); a leased task's item is in its holder's inbox, so every queue
    takes an entry item."""
    if task.status != "open" or task.type != "manual" or (task.assignee is not None and not task.leaseExpiresAt):
        return []
    if task.offeredTo is not None and task.assignee is None:  # offered: in the offeree's queue only
        return [Keys.user_queue(tenant, task.offeredTo)]
    parts = [Keys.user_queue(tenant, u) for u in task.candidateUsers]
    parts += [Keys.group_queue(tenant, g) for g in task.candidateGroups]
    return list(dict.fromkeys(parts))


def named_users(task: Task) -> list[str]:
    """The users named on an open task whom neither its queues nor its holder's keys show under
    them: its owner while someone else holds it (a pending delegation), and its candidate users
    while it is in none of their queues (held without a lease, offered to someone, automatic)."""
    if task.status != "open":
        return []
    queued = set(queue_partitions("", task))
    named = dict.fromkeys(u for u in (task.owner, *task.candidateUsers) if u)
    return [u for u in named if u != task.assignee and Keys.user_queue("", u) not in queued]


def queue_entries(tenant: str, task: Task) -> dict[str, dict[str, Any]]:
    """The entry items of a task's other queues (all but the first), by sort key. They live in
    the task's partition (`Q#U#{user}`, `Q#G#{group}`) and carry only what the queue index
    and its filters need (tasks.filters); a queue page reads their tasks. A user named on the
    task whom no queue or inbox shows it under (`named_users`) has its entry item too, in none of
    the queue indexes but in its `Keys.named` partition of the assignee index (gsi2): so the item
    of a user's entry only changes its indexes as the task moves, never adds a second one."""
    pk = Keys.task(tenant, task.id)["pk"]
    out: dict[str, dict[str, Any]] = {}
    parts = queue_partitions(tenant, task)
    for part in parts if task.assignee is not None else parts[1:]:
        sk = Keys.queue_entry_sk(tenant, part)
        out[sk] = {"pk": pk, "sk": sk, **_in_queue(part, task), "taskId": task.id,
                   LEASE: task.leaseExpiresAt, OVERDUE: _overdue(task), SEARCH: search_text(task),
                   "dueDate": task.dueDate}
    for user in named_users(task):
        sk = Keys.queue_entry_sk(tenant, Keys.user_queue(tenant, user))
        out[sk] = {"pk": pk, "sk": sk, "taskId": task.id, "gsi2pk": Keys.named(tenant, user),
                   "gsi2sk": newest_order(task.createdAt, task.id)}
    return out


def _overdue(task: Task) -> str | None:
    """Since when an open task is overdue (tasks.escalations.overdue_since); a finished one never is."""
    return overdue_since(task) if task.status == "open" else None


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
        data.update(_in_queue(queues[0], task))
    elif task.assignee is not None and task.status == "open":
        data.update(_in_queue(Keys.inbox(tenant, task.assignee), task))
    if task.requestHash:
        data["requestHash"] = task.requestHash
    if task.callbackToken:
        data["callbackToken"] = task.callbackToken
    if task.variables is not None:  # kept as JSON text: any JSON (floats, depth) fits an attribute
        data["variables"] = json.dumps(task.variables, sort_keys=True, separators=(",", ":"))
    if task.lastHash:
        data["lastHash"] = task.lastHash
    if task.caseId is not None:
        data["gsi5pk"], data["gsi5sk"] = Keys.case_index(tenant, task.caseId), data["gsi1sk"]
    if not task.escalations:
        data.pop("escalations", None)  # absent, not empty: the direct claim's rule asks for it absent
    data.update(timer_attributes(tenant, task))  # its next escalation step's timer (tasks.timers)
    data[OVERDUE] = _overdue(task)  # listings' `overdue=true` compares it with the time of the read
    data[SEARCH] = search_text(task)  # and `search=` looks in it (tasks.filters)
    return serialize(data)


def entry_ops(tenant: str, old: Task | None, new: Task) -> list[Op]:
    """The writes that move a task's queue entries from `old`'s state to `new`'s."""
    before = queue_entries(tenant, old) if old is not None else {}
    after = queue_entries(tenant, new)
    ops: list[Op] = []
    for sk, item in after.items():
        if before.get(sk) != item:
            ops.append(Op("Put", serialize(item)))
    for sk, item in before.items():
        if sk not in after:
            ops.append(Op("Delete", serialize({"pk": item["pk"], "sk": sk})))
    return ops


def task_from_item(item: dict[str, Any]) -> Task:
    data = deserialize(item)
    if isinstance(data.get("variables"), str):
        data["variables"] = json.loads(data["variables"])
    return Task.model_validate(data)


def is_task(item: dict[str, Any]) -> bool:
    return bool(item[SK]["S"] == TASK_SK)


def event_item(tenant: str, event: HistoryEvent) -> dict[str, Any]:
    """A history item: the event, keyed by its version in the task's partition, and in the
    tenant audit (gsi4) by its time."""
    data = event.model_dump(by_alias=True)
    data["pk"] = Keys.task(tenant, event.taskId)["pk"]
    data["sk"] = Keys.history_sk(event.version)
    data.update(Keys.audit_keys(tenant, event.at, event.id))
    return serialize(data)


def held_event(tenant: str, event: HistoryEvent) -> dict[str, Any]:
    """The attributes with which a task item holds `event` as its pending event (`lastEvent`,
    numbered by the task's version; a claim's: the direct claim, a bulk request's), in the tenant
    audit (gsi4) by its time until the next change writes it out (`pending_event`)."""
    return {"lastEvent": event.model_dump(by_alias=True, exclude={"version", "hash"}, exclude_none=True),
            **Keys.audit_keys(tenant, event.at, event.id)}


# ---- the audit ledger: changes and the hash chain (baton.ledger) ---------------------------------

def pending_event(task: Task) -> HistoryEvent | None:
    """A claim's event held in the task item (`lastEvent`), numbered by the task's version
    and hashed after the task's last written event (its `lastHash`), as it will be when the next
    change writes it out: served and written out, it is the same event with the same hash."""
    if not task.lastEvent:
        return None
    event = HistoryEvent.model_validate({**task.lastEvent, "taskId": task.id, "version": task.version})
    event.hash = ledger.event_hash(task.lastHash, event.public())
    return event


def record_changes(old: Task, new: Task, event: HistoryEvent, expired: HistoryEvent | None = None) -> None:
    """The `changes` of a change's events, from the task before and after it (unless the event
    already says): a takeover's `lease-expired` ends the old holder's claim, then the event."""
    before = old
    if expired is not None:
        before = old.model_copy(update={"assignee": None, "leaseExpiresAt": None})
        if not expired.changes:
            expired.changes = ledger.changes(vars(old), vars(before))
    if not event.changes:
        event.changes = ledger.changes(vars(before), vars(new))  # the models' values, read, not copied


def stamp_chain(old: Task | None, new: Task, events: list[HistoryEvent]) -> None:
    """Hash `events` (in version order) after the task's last hash, and record the last one on
    `new` (its `lastHash`): the change writes both in its one transaction."""
    head = old.lastHash if old is not None else None
    for event in events:
        event.hash = head = ledger.event_hash(head, event.public())
    new.lastHash = head
