"""The ledger's reads: a tenant's audit (every event in a time window, oldest first, from the
audit index, gsi4) and a case's tasks (gsi5). Like every repository it takes and returns domain
values; keys and cursors stay here.

The audit index holds each ledger event once: its history item, or (a claim's event held in its
task, until the next change writes it out) the task item holding it as `lastEvent`. Its partitions are a
month and one of AUDIT_SHARDS shards (from the event id), so no key takes more than about 1/32 of
a busy tenant's writes; a page reads the window's months in turn, the 32 shards of each merged in
time order, each Query asking for a share of the page (as the task listing's merge does): a page
costs O(page) Queries and items at any history size."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from baton import ledger
from baton.errors import BadRequest
from baton.storage.cursors import decode_cursor, decode_position, encode_cursor, encode_position, fingerprint
from baton.storage.dynamo import MAX_QUERY_LIMIT, Dynamo, _pool, deserialize, serialize
from baton.storage.keys import AUDIT_BUCKET_CHARS, AUDIT_SHARDS, TASK_SK, Keys
from baton.table import GSI_AUDIT, GSI_CASE
from baton.tasks.domain import HistoryEvent, Task
from baton.tasks.layout import pending_event, task_from_item
from baton.tasks.separation import Held
from baton.tasks.stream import DEFERRED
from baton.tasks.timers import SHOW_OVERDUE

# A filtered audit page stops after examining this many events per requested item (then it
# answers what it found, possibly fewer than `limit`, with a cursor to go on from).
SCAN_FACTOR = 10


@dataclass
class _Shard:
    partition: str
    items: list[dict[str, Any]] = field(default_factory=list)
    lek: dict[str, Any] | None = None
    started: bool = False


def months(first: str, last: str) -> Iterator[str]:
    """The `YYYY-MM` buckets from the one of `first` to the one of `last` (stored timestamps)."""
    year, month = int(first[:4]), int(first[5:7])
    end = last[:AUDIT_BUCKET_CHARS]
    while True:
        bucket = f"{year:04d}-{month:02d}"
        yield bucket
        if bucket >= end:
            return
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


# The attributes of an audit index item that are storage, not event.
_STORAGE_ATTRS = frozenset({"pk", "sk", "gsi4pk", "gsi4sk", DEFERRED})


def event_of(item: dict[str, Any]) -> dict[str, Any]:
    """The ledger event an audit index item holds, served as the history route serves it: a
    history item, a task item's pending event, or a directory change (`kind: "directory"`)."""
    if item["sk"]["S"] == TASK_SK:
        event = pending_event(task_from_item(item))
        assert event is not None  # only a task item holding one is in the index
        return event.public()
    data = deserialize(item)
    if data.get("kind") == ledger.DIRECTORY_KIND:
        return ledger.served({k: v for k, v in data.items() if k not in _STORAGE_ATTRS})
    return HistoryEvent.model_validate(data).public()


@dataclass
class AuditPage:
    events: list[dict[str, Any]]
    cursor: str | None


class AuditRepository:
    def __init__(self, db: Dynamo) -> None:
        self.db = db

    def page(self, tenant: str, start: str, end: str, *, limit: int, cursor: str | None,
             keep: Callable[[dict[str, Any]], bool] | None = None) -> AuditPage:
        """The events of `tenant` with `start <= at <= end` (stored timestamps), oldest first (ties
        by event id), after the cursor; `keep` filters them (then at most SCAN_FACTOR x limit
        events are examined, and the page may hold fewer than `limit` with a cursor)."""
        mark = fingerprint(tenant, "audit", start, end, "filtered" if keep else "")
        after = decode_position(cursor, mark, None)
        low, high = start, end + "#~"
        if after is not None:
            if not low <= after <= high:
                raise BadRequest("Invalid cursor")
            low = after + " "
        budget = limit * SCAN_FACTOR if keep else limit
        out: list[dict[str, Any]] = []
        examined = 0
        last: str | None = None
        for bucket in months(low, end):
            shards = [_Shard(Keys.audit_index(tenant, bucket, s)) for s in range(AUDIT_SHARDS)]
            count = max(1, -(-2 * (limit - len(out)) // AUDIT_SHARDS))
            pending = shards
            while True:
                if pending:
                    self._fetch(pending, low, high, count)
                live = [s for s in shards if s.items]
                if not live:
                    break
                src = min(live, key=lambda s: s.items[0]["gsi4sk"]["S"])
                item = src.items.pop(0)
                event = event_of(item)
                last = item["gsi4sk"]["S"]
                examined += 1
                if keep is None or keep(event):
                    out.append(event)
                if len(out) == limit or examined >= budget:
                    more = any(s.items or s.lek for s in shards) or bucket < end[:AUDIT_BUCKET_CHARS]
                    return AuditPage(out, encode_position(last, mark) if more else None)
                pending = [s for s in shards if not s.items and s.lek is not None]
                count = max(1, min(budget - examined, limit + 1 - len(out)))
        return AuditPage(out, None)

    def _fetch(self, shards: list[_Shard], low: str, high: str, count: int) -> None:
        pk, sk = "gsi4pk", "gsi4sk"

        def one(src: _Shard) -> None:
            kwargs: dict[str, Any] = {
                "TableName": self.db.table, "IndexName": GSI_AUDIT, "Limit": min(count, MAX_QUERY_LIMIT),
                "KeyConditionExpression": f"{pk} = :p AND {sk} BETWEEN :lo AND :hi",
                "ExpressionAttributeValues": serialize({":p": src.partition, ":lo": low, ":hi": high})}
            if src.lek:
                kwargs["ExclusiveStartKey"] = src.lek
            out = self.db.call("query", **kwargs)
            src.items.extend(out.get("Items", []))
            src.lek = out.get("LastEvaluatedKey")
            src.started = True

        if len(shards) == 1:
            one(shards[0])
            return
        for future in [_pool().submit(one, s) for s in shards]:
            future.result()

    # ---- cases -----------------------------------------------------------------------------
    def case_page(self, tenant: str, case_id: str, limit: int, cursor: str | None,
                  overdue_at: str | None = None) -> tuple[list[Task], str | None]:
        """A case's tasks in creation order: one Query (limit + 1 items: a cursor only when more
        follow) on the case's own partition, whatever else the tenant holds. `overdue_at` (the time
        of the read): only the tasks overdue then (`overdueAt <= :now`, tasks.timers), the filtered
        Query read on until the page is full or the case ends."""
        partition = Keys.case_index(tenant, case_id)
        start = decode_cursor(cursor, "gsi5pk", partition)
        values: dict[str, Any] = {":p": partition}
        kwargs: dict[str, Any] = {
            "TableName": self.db.table, "IndexName": GSI_CASE, "Limit": limit + 1,
            "KeyConditionExpression": "gsi5pk = :p"}
        if overdue_at is not None:
            kwargs["FilterExpression"] = SHOW_OVERDUE
            values[":now"] = overdue_at
        kwargs["ExpressionAttributeValues"] = serialize(values)
        if start:
            kwargs["ExclusiveStartKey"] = start
        items: list[dict[str, Any]] = []
        try:
            while len(items) <= limit:
                out = self.db.call("query", **kwargs)
                items += out.get("Items", [])
                if "LastEvaluatedKey" not in out:
                    break
                kwargs["ExclusiveStartKey"] = out["LastEvaluatedKey"]
        except ClientError as err:  # a start key DynamoDB refuses is the cursor's fault
            if start and err.response.get("Error", {}).get("Code") == "ValidationException":
                raise BadRequest("Invalid cursor") from None
            raise
        tasks = [task_from_item(i) for i in items[:limit]]
        next_cursor = None
        if len(items) > limit:
            last = items[limit - 1]
            next_cursor = encode_cursor({k: last[k] for k in ("pk", "sk", "gsi5pk", "gsi5sk")})
        return tasks, next_cursor

    def holds(self, tenant: str, user: str, case_ids: Iterable[str]) -> dict[str, Held]:
        """What `user` has held in each of these cases (separation of duties' ledger items,
        tasks.separation), by case id; one BatchGetItem (per 100 cases)."""
        keys = {Keys.case_holds(tenant, case, user)["pk"]: case for case in set(case_ids)}
        found: dict[str, Held] = {}
        for item in self.db.batch_get(Keys.case_holds(tenant, case, user) for case in keys.values()):
            data = deserialize(item)
            found[keys[data["pk"]]] = Held(frozenset(data.get("tasks", [])), frozenset(data.get("activities", [])))
        return found
