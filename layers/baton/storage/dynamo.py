"""The DynamoDB table handle: the client, the attribute codec, error translation, and the
transactions with their conflict retry. Nothing here knows a key scheme or a feature.

Every state change is one TransactWriteItems (or one conditional write) whose condition
re-asserts the state the rules were checked on; a failed condition comes back as
`ConditionFailed` carrying the failing action's index and the item as it was
(ReturnValuesOnConditionCheckFailure=ALL_OLD). Only repositories catch it: they turn it into a
domain outcome. No Scan on a request path.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import Any, cast

from botocore.exceptions import ClientError

from baton.attrs import from_attr, to_attr
from baton.errors import BadRequest, Conflict, Internal, Unavailable
from baton.settings import get_settings
from baton.storage import wire
from baton.storage.cursors import decode_cursor, encode_cursor
from baton.storage.threads import thread_pool
from baton.table import INDEXES

THROTTLE_CODES = frozenset({"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded",
                            "InternalServerError", "ServiceUnavailable", "ThrottlingError"})
MAX_TRANSACTION_ITEMS = 100
TRANSACTION_ATTEMPTS = 3
MAX_QUERY_LIMIT = 10_000
MERGE_THREADS = 16


class ConditionFailed(Exception):
    """A condition of a write failed; `item` is the failing item as it was (None if absent).
    Repositories catch it and raise a domain outcome: it never leaves them."""

    def __init__(self, index: int, item: dict[str, Any] | None) -> None:
        super().__init__(f"condition failed on action {index}")
        self.index = index
        self.item = item


class TransactionConflict(Conflict):
    """Another transaction touched the same item at the same moment, again after the store's own
    retries. Callers that re-read may go round once more; anywhere else it is a 409."""

    def __init__(self, detail: str = "") -> None:
        super().__init__("The item is changing too fast; try again", reason="busy")
        self.detail = detail


def serialize(data: dict[str, Any]) -> dict[str, Any]:
    return {k: to_attr(v) for k, v in data.items() if v is not None}


def deserialize(item: dict[str, Any]) -> dict[str, Any]:
    out = {k: from_attr(v) for k, v in item.items()}
    for k, v in out.items():
        if isinstance(v, Decimal):
            out[k] = int(v)
        elif isinstance(v, set):
            out[k] = sorted(v)
    return out


@dataclass
class Page:
    items: list[dict[str, Any]]
    cursor: str | None


def _translate(err: ClientError) -> Exception:
    """What a ClientError means to Baton; the error itself when it means nothing more."""
    code = err.response.get("Error", {}).get("Code", "")
    if code in THROTTLE_CODES:
        return Unavailable("DynamoDB is busy; retry later")
    if code == "TransactionCanceledException":
        reasons = err.response.get("CancellationReasons") or []
        for i, r in enumerate(reasons):
            if r.get("Code") == "ConditionalCheckFailed":
                return ConditionFailed(i, cast(dict[str, Any] | None, r.get("Item")))
        codes = {r.get("Code") for r in reasons}
        if codes & THROTTLE_CODES:
            return Unavailable("DynamoDB is busy; retry later")
        if "TransactionConflict" in codes:
            return TransactionConflict(str(sorted(c for c in codes if c)))
        if codes & {"ValidationError", "ItemCollectionSizeLimitExceeded"}:
            # The change itself cannot be stored (an item or key over DynamoDB's limits): the
            # request's fault, and retrying cannot help.
            return BadRequest("Invalid request: the change exceeds the storage limits", reason="invalidRequest")
        return Internal("The change was cancelled")
    if code == "TransactionConflictException":
        return TransactionConflict(code)
    if code == "ConditionalCheckFailedException":
        return ConditionFailed(0, cast(dict[str, Any] | None, err.response.get("Item")))
    return err


@dataclass
class _Source:
    """One partition being merged: its items read but not yet taken, and where to go on."""

    partition: str
    items: list[dict[str, Any]] = field(default_factory=list)
    lek: dict[str, Any] | None = None
    started: bool = False


def _pool() -> ThreadPoolExecutor:
    return thread_pool("baton-merge", MERGE_THREADS)  # a merged listing's partitions read side by side


def _parallel(fn: Any, sources: list[_Source], count: int) -> None:
    if len(sources) == 1:
        fn(sources[0], count)
        return
    for future in [_pool().submit(fn, src, count) for src in sources]:
        future.result()


class Dynamo:
    """One table through one botocore client: the calls every repository makes."""

    def __init__(self, client: Any, table: str) -> None:
        self.client = client
        self.table = table

    def call(self, op: str, **kwargs: Any) -> dict[str, Any]:
        """One client call, its errors translated (ConditionFailed, TransactionConflict, 503)."""
        try:
            result: dict[str, Any] = getattr(self.client, op)(**kwargs)
            return result
        except ClientError as err:
            translated = _translate(err)
            if translated is err:
                raise
            raise translated from err

    def transact(self, actions: Sequence[dict[str, Any]]) -> None:
        """One TransactWriteItems. A conflict with another transaction is retried as is (its
        conditions are evaluated afresh each time) a few times, with jittered backoff, before
        TransactionConflict (a 409 unless the caller re-reads and decides again)."""
        for action in actions:
            body = next(iter(action.values()))
            body.setdefault("TableName", self.table)
            if "ConditionExpression" in body:
                body["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
        for attempt in range(TRANSACTION_ATTEMPTS):
            try:
                self.call("transact_write_items", TransactItems=list(actions))
                return
            except TransactionConflict:
                if attempt == TRANSACTION_ATTEMPTS - 1:
                    raise
                time.sleep(random.uniform(0, 0.005 * 2 ** attempt))

    def get(self, key: dict[str, str], projection: str | None = None) -> dict[str, Any] | None:
        kwargs: dict[str, Any] = {"TableName": self.table, "Key": serialize(key), "ConsistentRead": True}
        if projection:
            kwargs["ProjectionExpression"] = projection
        return self.call("get_item", **kwargs).get("Item")

    def batch_get(self, keys: Iterable[dict[str, str]]) -> list[dict[str, Any]]:
        """Consistent BatchGetItem in chunks of 100, retrying unprocessed keys."""
        pending = [serialize(k) for k in {tuple(k.values()): k for k in keys}.values()]
        found: list[dict[str, Any]] = []
        while pending:
            chunk, pending = pending[:100], pending[100:]
            request = {self.table: {"Keys": chunk, "ConsistentRead": True}}
            while request:
                out = self.call("batch_get_item", RequestItems=request)
                found.extend(out.get("Responses", {}).get(self.table, []))
                request = out.get("UnprocessedKeys") or {}
        return found

    def query_page(self, limit: int, cursor: str | None, partition_attr: str, partition: str,
                   sort_prefix: str = "", **kwargs: Any) -> Page:
        start = decode_cursor(cursor, partition_attr, partition, sort_prefix)
        kwargs.update(TableName=self.table, Limit=limit)
        if start:
            kwargs["ExclusiveStartKey"] = start
        try:
            out = self.call("query", **kwargs)
        except ClientError as err:
            # A start key DynamoDB refuses (outside the query's range, over the key size) is the
            # cursor's fault, not ours.
            if start and err.response.get("Error", {}).get("Code") == "ValidationException":
                raise BadRequest("Invalid cursor") from None
            raise
        return Page(out.get("Items", []), encode_cursor(out.get("LastEvaluatedKey")))

    def query_all(self, limit: int | None = None, **kwargs: Any) -> list[dict[str, Any]]:
        """Every item the Query matches, or its first `limit` (each call asks only for what is
        still wanted, at most MAX_QUERY_LIMIT: DynamoDB's Limit is a 32-bit integer, and a Query
        answers at most 1 MB anyway)."""
        kwargs["TableName"] = self.table
        items: list[dict[str, Any]] = []
        while True:
            if limit is not None:
                kwargs["Limit"] = min(limit - len(items), MAX_QUERY_LIMIT)
            out = self.call("query", **kwargs)
            items.extend(out.get("Items", []))
            if "LastEvaluatedKey" not in out or (limit is not None and len(items) >= limit):
                return items
            kwargs["ExclusiveStartKey"] = out["LastEvaluatedKey"]

    def merged(self, index: str, partitions: list[str], *, forward: bool, limit: int, after: str | None,
               region: str, show: str | None = None, now: str | None = None, between: tuple[str, str] | None = None,
               extra: dict[str, Any] | None = None, share: int | None = None, read: dict[str, Any] | None = None
               ) -> tuple[list[dict[str, Any]], str | None]:
        """The first `limit` items of several partitions of an index, in sort-key order (ascending from the
        sort-key region `region` when `forward`, else descending), after the sort key `after`; and the last
        sort key returned when more items follow (None otherwise). Items with the same sort key (one task in
        several queues) count once. `show`: a filter on `:now` (the read's time), `extra`; `between`: a key range.
        Cost: one Query per partition (in parallel), each asking for a share of the page (`limit` with few
        partitions, down to 1 with many; or `share`), then one more for a partition whose share runs out
        while it may still hold the next item. `read`: partitions read already (items, LEK)."""
        pk_attr, sk_attr = INDEXES[index]
        first, read = share or max(1, min(limit, -(-2 * limit // len(partitions)))), read or {}
        sources = [_Source(p, list(read[p][0]), read[p][1], True) if p in read else _Source(p) for p in partitions]

        def fetch(src: _Source, count: int) -> None:
            values: dict[str, Any] = {":p": src.partition}
            cond = f"{pk_attr} = :p"
            if between is not None:
                cond += f" AND {sk_attr} BETWEEN :lo AND :hi"
                values[":lo"], values[":hi"] = max(after or between[0], between[0]), between[1]
            elif after is not None:
                cond += f" AND {sk_attr} {'>' if forward else '<'} :a"
                values[":a"] = after
            elif forward:
                cond += f" AND begins_with({sk_attr}, :r)"
                values[":r"] = region
            kwargs: dict[str, Any] = {
                "TableName": self.table, "IndexName": index, "KeyConditionExpression": cond,
                "ScanIndexForward": forward, "Limit": min(count, MAX_QUERY_LIMIT)}
            if show is not None:
                kwargs["FilterExpression"] = show
                values.update({**(extra or {}), **({":now": now} if ":now" in show else {})})
            kwargs["ExpressionAttributeValues"] = serialize(values)
            while True:  # a filtered page may come back empty with more to read
                if src.lek:
                    kwargs["ExclusiveStartKey"] = src.lek
                out = self.call("query", **kwargs)
                src.items.extend(out.get("Items", []))
                src.lek = out.get("LastEvaluatedKey")
                src.started = True
                if src.items or src.lek is None:
                    break

        pending = [s for s in sources if not s.items and (s.lek is not None or not s.started)]
        count = first
        out: list[dict[str, Any]] = []
        last: str | None = after if between is not None else None  # BETWEEN includes the cursor's item
        while True:
            if pending:
                _parallel(fetch, pending, count)
            live = [s for s in sources if s.items]
            if not live:
                return out, None
            src = (min if forward else max)(live, key=lambda s: s.items[0][sk_attr]["S"])
            key = src.items[0][sk_attr]["S"]
            if key == last:
                src.items.pop(0)
            elif len(out) == limit:
                return out, last
            else:
                out.append(src.items.pop(0))
                last = key
            # every partition must show its next item before the next pick
            pending = [s for s in sources if not s.items and (s.lek is not None or not s.started)]
            count = max(1, limit + 1 - len(out))


@lru_cache(maxsize=4)
def _client(endpoint: str | None, region: str) -> Any:
    from botocore.config import Config
    from botocore.session import Session

    # Baton builds every request itself; botocore re-validating each one costs ~0.2 ms a call.
    config = Config(retries={"max_attempts": 4, "mode": "standard"}, max_pool_connections=100,
                    parameter_validation=False, connect_timeout=3, read_timeout=10)
    # A botocore client: what boto3 would build, without importing boto3 (~180 ms of cold start);
    # a bulk request's transactions serialized without botocore's walk where that is the same bytes.
    return wire.register(Session().create_client("dynamodb", endpoint_url=endpoint, region_name=region, config=config))


def get_dynamo() -> Dynamo:
    """The table of this process's settings (client created on first use, not at import)."""
    settings = get_settings()
    if settings.table_name is None:
        raise RuntimeError("TABLE_NAME is not set: a deployed function must be told its table")
    return Dynamo(_client(settings.dynamodb_endpoint, settings.region), settings.table_name)
