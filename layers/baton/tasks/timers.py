"""The timers in the table: where a task's timer sits in the timer index, the sweep's reads of
what is due, and its checkpoint. Storage only; the sweep itself is tasks.sweeper.

A timer is not an item of its own: it is the task item's place in the sparse timer index (gsi6),
set by `timer_attributes` whenever the task item is written: the earlier of its next pending
escalation step and the end of its holder's lease. So the write that arms a step or a lease (a
create, a claim, a heartbeat, a change of `dueDate` or of the ladder) writes its timer in the same
transaction, a write that fails arms nothing, and a change that ends a step's wait or the lease
(completion, a release, a claim under `unless: claimed`, the step firing, the lease's takeover)
moves or removes it in the same write. A user's absence has a timer at its `until` on the user
item, written with the absence (directory.repository `set_absence`): its sort key ends in
`#absence` (`ABSENCE_TIMER`).

Partition: `TIMER#{hour bucket}#{shard}`, the bucket being the hour of the later of the due time
and the write (so that no write ever lands in an hour the sweep has already closed), the shard a
hash of tenant, task and due time (`timer_shards`, default 32: timers due in the same hour spread
evenly over that many partitions: no hot key). Sort key: the due time, then tenant and task. A sweep reads, per
shard, the open buckets (those after its checkpoint, up to the current hour) from the start up to
`now`: only due timers, never the pending ones behind them."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from baton.storage.dynamo import ConditionFailed, Dynamo, deserialize, serialize
from baton.storage.keys import ABSENCE_TIMER as ABSENCE_TIMER
from baton.storage.keys import SWEPT_MARKER, Keys, timer_bucket, timer_keys, unesc
from baton.table import GSI_TIMERS, INDEXES
from baton.tasks.escalations import next_due

PAGE = 100
# On a task item and its queue entries: since when the task is overdue (its `dueDate` or its first
# fired step: tasks.escalations.overdue_since). `overdue=true` listings show `overdueAt <= :now`.
OVERDUE = "overdueAt"
SHOW_OVERDUE = f"{OVERDUE} <= :now"


def lease_end(task: Any) -> str | None:
    """When the lease of an open, held task ends (None: no lease): the sweep takes it over then
    (tasks.sweeper), so that its queues' router hears the task is free (API.md "People")."""
    lease = getattr(task, "leaseExpiresAt", None)
    return str(lease) if lease and task.status == "open" and getattr(task, "assignee", None) else None


def timer_due(task: Any) -> str | None:
    """The task's timer: the earlier of its next pending escalation step and its lease's end."""
    dues = [d for d in (next_due(task), lease_end(task)) if d is not None]
    return min(dues) if dues else None


def timer_attributes(tenant: str, task: Any) -> dict[str, str]:
    """The task item's timer index attributes (none when no step is pending and no lease runs)."""
    due = timer_due(task)
    if due is None:
        return {}
    partition, sort = timer_keys(tenant, task.id, due, str(task.updatedAt))
    pk_attr, sk_attr = INDEXES[GSI_TIMERS]
    return {pk_attr: partition, sk_attr: sort}


def due_in_record(record: dict[str, Any]) -> str | None:
    """The next due time the item a stream record wrote carries (its timer index sort key), if any."""
    value = (((record.get("dynamodb") or {}).get("NewImage") or {}).get(INDEXES[GSI_TIMERS][1]) or {}).get("S")
    return value.split("#", 1)[0] if isinstance(value, str) and "#" in value else None


def bucket_of(stamp: str) -> str:
    """The hour bucket a timestamp falls in."""
    return timer_bucket(stamp)


def hours(first: str, last: str) -> list[str]:
    """The hour buckets from `first` to `last` (both `YYYY-MM-DDTHH`), in order."""
    at, end = _hour(first), _hour(last)
    out = []
    while at <= end:
        out.append(at.strftime("%Y-%m-%dT%H"))
        at += timedelta(hours=1)
    return out


def _hour(bucket: str) -> datetime:
    return datetime.strptime(bucket, "%Y-%m-%dT%H")


def next_hour(bucket: str) -> str:
    return (_hour(bucket) + timedelta(hours=1)).strftime("%Y-%m-%dT%H")


def previous_hour(bucket: str) -> str:
    return (_hour(bucket) - timedelta(hours=1)).strftime("%Y-%m-%dT%H")


def hour_end(bucket: str) -> str:
    """The stored timestamp at which bucket `bucket` ends (the next hour's start)."""
    return next_hour(bucket) + ":00:00.000000Z"


class TimerRepository:
    def __init__(self, db: Dynamo) -> None:
        self.db = db

    def due(self, bucket: str, shard: int, now: str) -> Iterator[tuple[str, str, str, str | None]]:
        """The timers of one partition due at `now`, oldest first: (due time, tenant, id, kind),
        the id a task's (kind None) or a user's (`ABSENCE_TIMER`)."""
        pk_attr, sk_attr = INDEXES[GSI_TIMERS]
        # `~` sorts after every character of a key: every timer due at `now`, whatever its task.
        kwargs: dict[str, Any] = {
            "TableName": self.db.table, "IndexName": GSI_TIMERS, "Limit": PAGE,
            "KeyConditionExpression": "#p = :p AND #s <= :now",
            "ExpressionAttributeNames": {"#p": pk_attr, "#s": sk_attr},
            "ExpressionAttributeValues": serialize({":p": Keys.timers(bucket, shard), ":now": now + "~"}),
            "ProjectionExpression": "#s"}
        while True:
            out = self.db.call("query", **kwargs)
            for item in out.get("Items", []):
                due, tenant, item_id, *kind = item[sk_attr]["S"].split("#")
                yield due, unesc(tenant), unesc(item_id), (kind[0] if kind else None)
            if "LastEvaluatedKey" not in out:
                return
            kwargs["ExclusiveStartKey"] = out["LastEvaluatedKey"]

    def swept_through(self) -> str | None:
        """The last hour bucket the sweep has closed (every timer in it and before handled)."""
        item = self.db.get(SWEPT_MARKER)
        return str(deserialize(item)["through"]) if item else None

    def mark_swept(self, bucket: str) -> None:
        """Move the checkpoint forward to `bucket` (never back: concurrent sweeps may race)."""
        with contextlib.suppress(ConditionFailed):  # another sweep moved it as far or further
            self.db.call("put_item", TableName=self.db.table,
                         Item=serialize({**SWEPT_MARKER, "through": bucket}),
                         ConditionExpression="attribute_not_exists(through) OR through < :b",
                         ExpressionAttributeValues=serialize({":b": bucket}))

    def table_created(self) -> str:
        """When the table was made (no timer is older): where a table's first sweep starts."""
        described = self.db.call("describe_table", TableName=self.db.table)["Table"]
        created = described.get("CreationDateTime")
        if not isinstance(created, datetime):
            created = datetime.fromtimestamp(float(created or 0), UTC)
        return created.astimezone(UTC).strftime("%Y-%m-%dT%H")
