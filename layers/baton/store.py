"""DynamoDB access: keys, item mapping and the conditional writes.

Every state change is one TransactWriteItems (or one conditional write) whose condition
re-asserts the state the rules were checked on; a failed condition comes back as
`ConditionFailed` carrying the item as it was (ReturnValuesOnConditionCheckFailure=ALL_OLD),
so the caller can say why without a second read. No Scan anywhere.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import random
import time
import zlib
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import Any, cast

from botocore.exceptions import ClientError

from baton.attrs import from_attr, to_attr
from baton.domain import MAX_PRIORITY, Activity, Group, HistoryEvent, Task, User
from baton.errors import BadRequest, Conflict, Internal, Unavailable
from baton.events import DEFERRED
from baton.platform import clock
from baton.platform.settings import get_settings
from baton.table import GSI_ASSIGNEE, GSI_QUEUE, GSI_TASKS

THROTTLE_CODES = frozenset({
    "ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded",
    "InternalServerError", "ServiceUnavailable", "ThrottlingError",
})
TASK_FIELDS = tuple(Task.model_fields)
MAX_TRANSACTION_ITEMS = 100
TRANSACTION_ATTEMPTS = 3
MAX_QUERY_LIMIT = 10_000
# A task's queue entries (one per candidate user and group) change in the same transaction as
# the task, next to the task, its history event, a membership check and a pending event.
MAX_CANDIDATES = MAX_TRANSACTION_ITEMS - 3
STATUSES = ("open", "completed", "abandoned")
LEASE = "leaseExpiresAt"
# Which gsi3 items a read shows: a queue shows lease-free entries and passed leases, an inbox
# lease-free holds and running leases (one attribute compared with the time of the read).
SHOW_IN_QUEUE = f"attribute_not_exists({LEASE}) OR {LEASE} <= :now"
SHOW_IN_INBOX = f"attribute_not_exists({LEASE}) OR {LEASE} > :now"
QUEUED = "Q#"  # the sort-key region of claimable entries in a queue partition (and of the inbox)
MERGE_THREADS = 16
# The key scheme's version: 2 added queue order, queue entries and the sharded listing.
SCHEMA_VERSION = 2


class ConditionFailed(Exception):
    """A condition of a write failed; `item` is the failing item as it was (None if absent)."""

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


def _esc(part: str) -> str:
    """Escape key parts so that joining them with '#' is injective."""
    return part.replace("%", "%25").replace("#", "%23")


def _unesc(part: str) -> str:
    return part.replace("%23", "#").replace("%25", "%")


# Activity assignee rows sort as ProcessMaker's server lists them: groups by title, then users by
# first name (ties by id); inactive users after the end of the list (kept, not listed or counted).
AAS = "ACT#AAS#"
RANK_GROUP, RANK_USER, RANK_INACTIVE = "G", "U", "X"
COUNTERS = {RANK_GROUP: "groupCount", RANK_USER: "userCount"}
SORT_NAME_CHARS = 64


def _sort_name(name: str) -> str:
    """Case-folded, without the characters below U+0002 (the terminator sorts below all that is
    left) or lone surrogates, at most 64 characters (the key stays far below 1 KB)."""
    kept = (c for c in name.casefold() if ord(c) >= 2 and not 0xD800 <= ord(c) <= 0xDFFF)
    return "".join(kept)[:SORT_NAME_CHARS]


def entry_rank(entry: dict[str, Any]) -> str:
    if "groupId" in entry:
        return RANK_GROUP
    return RANK_USER if entry.get("active", True) else RANK_INACTIVE


def entry_order(entry: dict[str, Any]) -> str:
    """A directory entry's place in assignee lists: the sort key of its assignment rows (compared
    as strings in Python and as UTF-8 bytes by DynamoDB, which agree)."""
    group = "groupId" in entry
    name = entry.get("name", "") if group else entry.get("firstname", "")
    uid = entry["groupId"] if group else entry["userId"]
    return f"{entry_rank(entry)}#{_sort_name(str(name))}\x01{_esc(str(uid))}"


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


class Keys:
    @staticmethod
    def task(tenant: str, task_id: str) -> dict[str, str]:
        return {"pk": f"T#{_esc(tenant)}#TASK#{_esc(task_id)}", "sk": "TASK"}

    @staticmethod
    def history_sk(version: int) -> str:
        return f"H#{version:012d}"

    @staticmethod
    def directory(tenant: str) -> str:
        return f"T#{_esc(tenant)}#DIR"

    @staticmethod
    def user(tenant: str, user_id: str) -> dict[str, str]:
        return {"pk": Keys.directory(tenant), "sk": f"USER#{_esc(user_id)}"}

    @staticmethod
    def group(tenant: str, group_id: str) -> dict[str, str]:
        return {"pk": Keys.directory(tenant), "sk": f"GROUP#{_esc(group_id)}"}

    @staticmethod
    def activity(tenant: str, project_id: str, activity_id: str) -> dict[str, str]:
        return {"pk": f"T#{_esc(tenant)}#ACT#{_esc(project_id)}#{_esc(activity_id)}", "sk": "ACT"}

    @staticmethod
    def assignee(activity_pk: str, order: str) -> dict[str, str]:
        """An assignment row: after its activity item in the partition, in list order (`entry_order`)."""
        return {"pk": activity_pk, "sk": AAS + order}

    @staticmethod
    def project(tenant: str, project_id: str) -> dict[str, str]:
        """A project's marker, written with its activities (so an unknown project can be told apart)."""
        return {"pk": f"T#{_esc(tenant)}#PRJ#{_esc(project_id)}", "sk": "PRJ"}

    @staticmethod
    def tasks_index(tenant: str, status: str, shard: int) -> str:
        """A tenant's task listing, by status, spread over `list_shards` partitions."""
        return f"T#{_esc(tenant)}#L#{status}#{shard}"

    @staticmethod
    def shard(task_id: str, shards: int) -> int:
        return zlib.crc32(task_id.encode()) % shards

    @staticmethod
    def assignee_index(tenant: str, user_id: str, status: str) -> str:
        return f"T#{_esc(tenant)}#A#{_esc(user_id)}#{status}"

    @staticmethod
    def user_queue(tenant: str, user_id: str) -> str:
        return f"T#{_esc(tenant)}#Q#U#{_esc(user_id)}"

    @staticmethod
    def group_queue(tenant: str, group_id: str) -> str:
        return f"T#{_esc(tenant)}#Q#G#{_esc(group_id)}"

    @staticmethod
    def inbox(tenant: str, user_id: str) -> str:
        return f"T#{_esc(tenant)}#I#{_esc(user_id)}"


def search_text(*parts: str) -> str:
    """The normalised search field: case-folded, so non-ASCII names match too."""
    return "\n".join(p.casefold() for p in parts if p)


@dataclass
class Page:
    items: list[dict[str, Any]]
    cursor: str | None


def encode_cursor(key: dict[str, Any] | None) -> str | None:
    if not key:
        return None
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode()


def decode_cursor(cursor: str | None, partition_attr: str, partition: str, sort_prefix: str = ""
                  ) -> dict[str, Any] | None:
    """Decode a cursor, and refuse one that points outside the partition being listed, lacks a
    key of the table or index listed, or names a sort key outside the listed range."""
    if not cursor:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, binascii.Error, UnicodeDecodeError, RecursionError):
        raise BadRequest("Invalid cursor") from None
    # The table's keys, plus the index's own when an index is listed (gsiNpk / gsiNsk).
    expected = {"pk", "sk"} if partition_attr == "pk" else {"pk", "sk", partition_attr,
                                                            partition_attr.removesuffix("pk") + "sk"}
    ok = (
        isinstance(key, dict)
        and set(key) == expected
        and all(isinstance(v, dict) and set(v) == {"S"} and isinstance(v["S"], str) and v["S"] for v in key.values())
        and key[partition_attr]["S"] == partition
        and (partition_attr != "pk" or key["sk"]["S"].startswith(sort_prefix))
    )
    if not ok:
        raise BadRequest("Invalid cursor")
    return key


def queue_order(task: Task) -> str:
    """The queue-order sort key: priority descending, then dueDate ascending (none last), then
    createdAt ascending, then id. Timestamps are stored in one fixed-width UTC form, so the
    string order is the time order; `~` sorts after every digit."""
    return f"{QUEUED}{MAX_PRIORITY - task.priority:03d}#{task.dueDate or '~'}#{task.createdAt}#{_esc(task.id)}"


def newest_order(task: Task) -> str:
    """The listings' sort key (read descending: newest first)."""
    return f"{task.createdAt}#{_esc(task.id)}"


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
    order = queue_order(task)
    prefix = f"T#{_esc(tenant)}#"
    out: dict[str, dict[str, Any]] = {}
    parts = queue_partitions(tenant, task)
    for part in parts if task.assignee is not None else parts[1:]:
        sk = "Q#" + part.removeprefix(prefix + "Q#")
        out[sk] = {"pk": pk, "sk": sk, "gsi3pk": part, "gsi3sk": order, "taskId": task.id,
                   LEASE: task.leaseExpiresAt}
    return out


def task_item(tenant: str, task: Task) -> dict[str, Any]:
    data = task.model_dump()
    data.update(Keys.task(tenant, task.id))
    data["gsi1pk"] = Keys.tasks_index(tenant, task.status, Keys.shard(task.id, get_settings().list_shards))
    data["gsi1sk"] = newest_order(task)
    if task.assignee is not None:
        data["gsi2pk"] = Keys.assignee_index(tenant, task.assignee, task.status)
        data["gsi2sk"] = data["gsi1sk"]
    queues = queue_partitions(tenant, task)
    if queues and task.assignee is None:
        data["gsi3pk"], data["gsi3sk"] = queues[0], queue_order(task)
    elif task.assignee is not None and task.status == "open":
        data["gsi3pk"], data["gsi3sk"] = Keys.inbox(tenant, task.assignee), queue_order(task)
    if task.requestHash:
        data["requestHash"] = task.requestHash
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


def user_from_item(item: dict[str, Any]) -> User:
    data = deserialize(item)
    return User.model_validate({**data, "id": data["userId"]})


def _raise_client_error(err: ClientError) -> None:
    code = err.response.get("Error", {}).get("Code", "")
    if code in THROTTLE_CODES:
        raise Unavailable("DynamoDB is busy; retry later") from err
    if code == "TransactionCanceledException":
        reasons = err.response.get("CancellationReasons") or []
        for i, r in enumerate(reasons):
            if r.get("Code") == "ConditionalCheckFailed":
                raise ConditionFailed(i, cast(dict[str, Any] | None, r.get("Item"))) from err
        codes = {r.get("Code") for r in reasons}
        if codes & THROTTLE_CODES:
            raise Unavailable("DynamoDB is busy; retry later") from err
        if "TransactionConflict" in codes:
            raise TransactionConflict(str(sorted(c for c in codes if c))) from err
        if codes & {"ValidationError", "ItemCollectionSizeLimitExceeded"}:
            # The change itself cannot be stored (an item or key over DynamoDB's limits): the
            # request's fault, and retrying cannot help.
            raise BadRequest("Invalid request: the change exceeds the storage limits", reason="invalidRequest") from err
        raise Internal("The change was cancelled") from err
    if code == "TransactionConflictException":
        raise TransactionConflict(code) from err
    if code == "ConditionalCheckFailedException":
        raise ConditionFailed(0, cast(dict[str, Any] | None, err.response.get("Item"))) from err
    raise err


INDEX_KEYS = {GSI_TASKS: ("gsi1pk", "gsi1sk"), GSI_ASSIGNEE: ("gsi2pk", "gsi2sk"), GSI_QUEUE: ("gsi3pk", "gsi3sk")}


@dataclass
class _Source:
    """One partition being merged: its items read but not yet taken, and where to go on."""

    partition: str
    items: list[dict[str, Any]] = field(default_factory=list)
    lek: dict[str, Any] | None = None
    started: bool = False


@lru_cache(maxsize=1)
def _pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(MERGE_THREADS, thread_name_prefix="baton-merge")


def _parallel(fn: Any, sources: list[_Source], count: int) -> None:
    if len(sources) == 1:
        fn(sources[0], count)
        return
    for future in [_pool().submit(fn, src, count) for src in sources]:
        future.result()


def _fingerprint(*parts: str | None) -> str:
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:16]


def encode_position(sort_key: str | None, fingerprint: str) -> str | None:
    """A merged listing's cursor: the last sort key returned, and which listing it belongs to."""
    if sort_key is None:
        return None
    return base64.urlsafe_b64encode(json.dumps({"a": sort_key, "h": fingerprint}, separators=(",", ":"))
                                    .encode()).decode()


def decode_position(cursor: str | None, fingerprint: str, region: str | None) -> str | None:
    """The sort key a merged listing's cursor resumes after; a cursor of another listing (or
    tenant, or user), or one outside the listing's key region, is a 400."""
    if not cursor:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise BadRequest("Invalid cursor") from None
    ok = (isinstance(data, dict) and set(data) == {"a", "h"} and data["h"] == fingerprint
          and isinstance(data["a"], str) and 0 < len(data["a"].encode()) <= 1024
          and (region is None or data["a"].startswith(region)))
    if not ok:
        raise BadRequest("Invalid cursor")
    return cast(str, data["a"])


class Store:
    def __init__(self, client: Any, table: str) -> None:
        self.client = client
        self.table = table

    # ---- low level -------------------------------------------------------------------------
    def _call(self, op: str, **kwargs: Any) -> dict[str, Any]:
        try:
            result: dict[str, Any] = getattr(self.client, op)(**kwargs)
            return result
        except ClientError as err:
            _raise_client_error(err)
            raise  # pragma: no cover - _raise_client_error always raises

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
                self._call("transact_write_items", TransactItems=list(actions))
                return
            except TransactionConflict:
                if attempt == TRANSACTION_ATTEMPTS - 1:
                    raise
                time.sleep(random.uniform(0, 0.005 * 2 ** attempt))

    def get(self, key: dict[str, str], projection: str | None = None) -> dict[str, Any] | None:
        kwargs: dict[str, Any] = {"TableName": self.table, "Key": serialize(key), "ConsistentRead": True}
        if projection:
            kwargs["ProjectionExpression"] = projection
        return self._call("get_item", **kwargs).get("Item")

    def batch_get(self, keys: Iterable[dict[str, str]]) -> list[dict[str, Any]]:
        """Consistent BatchGetItem in chunks of 100, retrying unprocessed keys."""
        pending = [serialize(k) for k in {(k["pk"], k["sk"]): k for k in keys}.values()]
        found: list[dict[str, Any]] = []
        while pending:
            chunk, pending = pending[:100], pending[100:]
            request = {self.table: {"Keys": chunk, "ConsistentRead": True}}
            while request:
                out = self._call("batch_get_item", RequestItems=request)
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
            out = self._call("query", **kwargs)
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
            out = self._call("query", **kwargs)
            items.extend(out.get("Items", []))
            if "LastEvaluatedKey" not in out or (limit is not None and len(items) >= limit):
                return items
            kwargs["ExclusiveStartKey"] = out["LastEvaluatedKey"]

    # ---- tasks -----------------------------------------------------------------------------
    def read_task_and_users(self, tenant: str, task_id: str, user_ids: Iterable[str]
                            ) -> tuple[Task | None, dict[str, list[str]]]:
        """One consistent round trip: the task, and the given users' group memberships
        (a user absent from the answer does not exist in the tenant)."""
        keys = [Keys.task(tenant, task_id), *(Keys.user(tenant, u) for u in user_ids)]
        task: Task | None = None
        users: dict[str, list[str]] = {}
        for item in self.batch_get(keys):
            if item["sk"]["S"] == "TASK":
                task = task_from_item(item)
            else:
                data = deserialize(item)
                users[data["userId"]] = list(data.get("groups", []))
        return task, users

    def get_task(self, tenant: str, task_id: str) -> Task | None:
        item = self.get(Keys.task(tenant, task_id))
        return task_from_item(item) if item else None

    def create_task(self, tenant: str, task: Task, event: HistoryEvent) -> None:
        """Put the task if its id is free, with its first history event; ConditionFailed otherwise."""
        self.transact([
            {"Put": {"Item": task_item(tenant, task), "ConditionExpression": "attribute_not_exists(pk)"}},
            {"Put": {"Item": self._event_item(tenant, event)}},
            *entry_actions(tenant, None, task),
        ])

    def change_task(self, tenant: str, old: Task, new: Task, event: HistoryEvent,
                    member_check: tuple[str, str | list[str]] | None = None,
                    expired: HistoryEvent | None = None, lease_live_at: str | None = None) -> None:
        """Replace the task if it is still exactly as read (version, status, assignee), writing
        the history event with it. `member_check` (user, group) also asserts a membership.
        `expired`: the `lease-expired` event of a takeover (numbered before `event`); the
        condition then also admits the old holder's lease only if it has passed; `lease_live_at`
        (a heartbeat): only if the lease has not passed at that time."""
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
            {"Put": {"Item": self._event_item(tenant, event),
                     "ConditionExpression": "attribute_not_exists(pk)"}},
        ]
        if member_check:
            user, group = member_check
            groups = [group] if isinstance(group, str) else group  # a member of any of them
            actions.append({"ConditionCheck": {
                "Key": serialize(Keys.user(tenant, user)),
                "ConditionExpression": " OR ".join(f"contains(#g, :g{i})" for i in range(len(groups))),
                "ExpressionAttributeNames": {"#g": "groups"},
                "ExpressionAttributeValues": serialize({f":g{i}": g for i, g in enumerate(groups)})}})
        if old.lastEvent:  # a direct claim's event, written out now (the Put above drops it)
            pending = HistoryEvent.model_validate({**old.lastEvent, "version": old.version})
            # `deferred`: its event was published when the claim was made (baton.events).
            actions.append({"Put": {"Item": {**self._event_item(tenant, pending), DEFERRED: {"BOOL": True}}}})
        if expired is not None:
            actions.append({"Put": {"Item": self._event_item(tenant, expired),
                                    "ConditionExpression": "attribute_not_exists(pk)"}})
        actions += entry_actions(tenant, old, new)  # after the task: ConditionFailed indexes stay
        if len(actions) > MAX_TRANSACTION_ITEMS:
            raise BadRequest(f"Too many candidates to change at once (at most {MAX_CANDIDATES} per task)")
        self.transact(actions)

    def claim_direct(self, tenant: str, task_id: str, user: str, event: HistoryEvent,
                     if_match: int | None) -> Task:
        """Claim for the only candidate of a task in one round trip: one conditional UpdateItem
        whose condition is the claim rule (open, manual, unassigned, `user` the one candidate,
        and at the expected version if one is given). Its history event goes into the same item
        (`lastEvent`, numbered by the task's new version) and is written out as H#{version} by
        the next change. ConditionFailed(0, the task as it is, or None) otherwise."""
        values: dict[str, Any] = {":open": "open", ":manual": "manual", ":me": user, ":one": 1, ":zero": 0,
                                  ":now": event.at, ":g2": Keys.assignee_index(tenant, user, "open"),
                                  ":g3": Keys.inbox(tenant, user),
                                  ":ev": event.model_dump(by_alias=True, exclude={"version"}, exclude_none=True)}
        # The caller is the only candidate: the task item is then its only queue entry, and
        # moving it from that queue to the caller's inbox (gsi3pk) is part of this one write.
        cond = ("#st = :open AND #ty = :manual AND attribute_not_exists(assignee) AND contains(candidateUsers, :me)"
                " AND size(candidateUsers) = :one AND size(candidateGroups) = :zero"
                " AND attribute_not_exists(lastEvent) AND attribute_not_exists(leaseSeconds)")
        if if_match is not None:
            cond += " AND version = :v"
            values[":v"] = if_match
        out = self._call(
            "update_item", TableName=self.table, Key=serialize(Keys.task(tenant, task_id)),
            UpdateExpression="SET assignee = :me, version = version + :one, updatedAt = :now, gsi2pk = :g2, "
                             "gsi2sk = gsi1sk, gsi3pk = :g3, lastEvent = :ev",
            ConditionExpression=cond, ExpressionAttributeNames={"#st": "status", "#ty": "type"},
            ExpressionAttributeValues=serialize(values), ReturnValues="ALL_NEW",
            ReturnValuesOnConditionCheckFailure="ALL_OLD")
        return task_from_item(out["Attributes"])

    def _event_item(self, tenant: str, event: HistoryEvent) -> dict[str, Any]:
        data = event.model_dump(by_alias=True)
        data["pk"] = Keys.task(tenant, event.taskId)["pk"]
        data["sk"] = Keys.history_sk(event.version)
        return serialize(data)

    def history_page(self, tenant: str, task_id: str, limit: int, cursor: str | None) -> Page:
        pk = Keys.task(tenant, task_id)["pk"]
        return self.query_page(
            limit, cursor, "pk", pk, "H#",
            KeyConditionExpression="pk = :pk AND begins_with(sk, :h)", ConsistentRead=True,
            ExpressionAttributeValues=serialize({":pk": pk, ":h": "H#"}))

    @staticmethod
    def history_cursor_version(cursor: str | None) -> int:
        """The version of the history event a (valid) history cursor follows; 0 without one."""
        if not cursor:
            return 0
        try:
            sk = json.loads(base64.urlsafe_b64decode(cursor.encode()))["sk"]["S"]
            return int(sk.removeprefix("H#"), 10) if sk.startswith("H#") and sk[2:].isascii() else 0
        except (ValueError, KeyError, TypeError, binascii.Error, RecursionError):
            return 0  # history_page refuses it

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
        fingerprint = _fingerprint(tenant, *kind)
        after = decode_position(cursor, fingerprint, QUEUED if forward else None)
        items, last = self.merged(index, parts, forward=forward, limit=limit, after=after, show=show)
        return self.tasks_of(tenant, items), encode_position(last, fingerprint)

    def queue_head(self, tenant: str, candidate: tuple[str, list[str]], limit: int, after: str | None,
                   own_queue: bool = True) -> tuple[list[Task], str | None]:
        """The first `limit` tasks of a user's queue (or, without `own_queue`, of the given
        groups' queues) after the queue position `after`, and the position to go on from."""
        user, groups = candidate
        parts = ([Keys.user_queue(tenant, user)] if own_queue else []) + [Keys.group_queue(tenant, g) for g in groups]
        if not parts:
            return [], None
        items, last = self.merged(GSI_QUEUE, parts, forward=True, limit=limit, after=after, show=SHOW_IN_QUEUE)
        return self.tasks_of(tenant, items), last

    def merged(self, index: str, partitions: list[str], *, forward: bool, limit: int, after: str | None,
               show: str | None = None) -> tuple[list[dict[str, Any]], str | None]:
        """The first `limit` items of several partitions of an index, in sort-key order (ascending
        from the queue region `Q#` when `forward`, else descending), after the sort key `after`;
        and the last sort key returned when more items follow (None otherwise). Items with the
        same sort key (one task in several queues) count once. `show`: a filter on leases
        (SHOW_IN_QUEUE, SHOW_IN_INBOX) at the time of the read.

        Cost: one Query per partition (run in parallel), each asking for a share of the page
        (`limit` when there are few partitions, down to 1 when there are many), then one more
        Query for each partition whose share runs out while it may still hold the next item."""
        pk_attr, sk_attr = INDEX_KEYS[index]
        first = max(1, min(limit, -(-2 * limit // len(partitions))))
        sources = [_Source(p) for p in partitions]

        def fetch(src: _Source, count: int) -> None:
            values: dict[str, Any] = {":p": src.partition}
            cond = f"{pk_attr} = :p"
            if after is not None:
                cond += f" AND {sk_attr} {'>' if forward else '<'} :a"
                values[":a"] = after
            elif forward:
                cond += f" AND begins_with({sk_attr}, :r)"
                values[":r"] = QUEUED
            kwargs: dict[str, Any] = {
                "TableName": self.table, "IndexName": index, "KeyConditionExpression": cond,
                "ScanIndexForward": forward, "Limit": min(count, MAX_QUERY_LIMIT)}
            if show is not None:
                kwargs["FilterExpression"] = show
                values[":now"] = clock.stamp()
            kwargs["ExpressionAttributeValues"] = serialize(values)
            while True:  # a filtered page may come back empty with more to read
                if src.lek:
                    kwargs["ExclusiveStartKey"] = src.lek
                out = self._call("query", **kwargs)
                src.items.extend(out.get("Items", []))
                src.lek = out.get("LastEvaluatedKey")
                src.started = True
                if src.items or src.lek is None:
                    break

        pending = sources
        count = first
        out: list[dict[str, Any]] = []
        last: str | None = None
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

    def tasks_of(self, tenant: str, items: list[dict[str, Any]]) -> list[Task]:
        """The tasks of index items: a task item is the task; a queue entry names its task,
        read (consistent) in one BatchGetItem for the page."""
        wanted = [i["taskId"]["S"] for i in items if i["sk"]["S"] != "TASK"]
        found: dict[str, Task] = {}
        if wanted:
            found = {t.id: t for t in (task_from_item(i) for i in self.batch_get(
                Keys.task(tenant, t) for t in wanted))}
        tasks: list[Task] = []
        for item in items:
            if item["sk"]["S"] == "TASK":
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
        marker = {"pk": "BATON#META", "sk": "SCHEMA"}
        done = self.get(marker)
        if done and deserialize(done).get("schema") == SCHEMA_VERSION and deserialize(done).get("shards") == shards:
            return 0
        changed = 0
        kwargs: dict[str, Any] = {"TableName": self.table, "FilterExpression": "sk = :t",
                                  "ExpressionAttributeValues": {":t": {"S": "TASK"}}}
        while True:
            page = self._call("scan", **kwargs)
            for item in page.get("Items", []):
                changed += self._migrate_task(item)
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        self._call("put_item", TableName=self.table,
                   Item=serialize({**marker, "schema": SCHEMA_VERSION, "shards": shards}))
        return changed

    def _migrate_task(self, item: dict[str, Any]) -> int:
        _, tenant, _, task_id = item["pk"]["S"].split("#")
        tenant = _unesc(tenant)
        task = task_from_item(item)
        new = task_item(tenant, task)
        if "lastEvent" in item:
            new["lastEvent"] = item["lastEvent"]
        index_keys = [k for pair in INDEX_KEYS.values() for k in pair]
        if all(item.get(k) == new.get(k) for k in index_keys):
            return 0
        self.transact([
            {"Put": {"Item": new, "ConditionExpression": "version = :v",
                     "ExpressionAttributeValues": serialize({":v": task.version})}},
            *entry_actions(tenant, None, task),
        ])
        return 1

    # ---- directory -------------------------------------------------------------------------
    def put_user(self, tenant: str, user: User) -> bool:
        """Create or replace a user's profile, keeping its group memberships. True if created.
        One UpdateItem, unless the user is assigned to activities and its first name or `active`
        changes: then its assignment rows move to their new place in the same transaction."""
        data = user.model_dump()
        data.pop("id")
        data["userId"] = user.id
        data["searchText"] = search_text(user.firstname, user.lastname, user.username)
        names = {f"#{k}": k for k in data}
        values = {f":{k}": v for k, v in data.items()}
        update = {"Key": serialize(Keys.user(tenant, user.id)), "UpdateExpression": "SET " + ", ".join(
            f"#{k} = :{k}" for k in data), "ExpressionAttributeNames": names}
        for _ in range(8):
            try:
                out = self._call(
                    "update_item", TableName=self.table, **update, ExpressionAttributeValues=serialize(values),
                    ConditionExpression="attribute_not_exists(assignedTo) OR (#firstname = :firstname AND "
                                        "#active = :active)",
                    ReturnValues="UPDATED_OLD", ReturnValuesOnConditionCheckFailure="ALL_OLD")
                return not out.get("Attributes")
            except ConditionFailed as failed:
                old = deserialize(failed.item or {})
            try:
                self._move_rows(old, {**old, **data}, {"Update": {
                    **update, "ConditionExpression": "aasVersion = :aasVersion",
                    "ExpressionAttributeValues": serialize({**values, ":aasVersion": old.get("aasVersion", 0)})}})
                return False
            except (ConditionFailed, TransactionConflict):
                continue  # assigned or renamed meanwhile: look again
        raise Conflict(f"User {user.id} is changing too fast; try again")

    def _move_rows(self, old: dict[str, Any], new: dict[str, Any], head: dict[str, Any],
                   others: Sequence[dict[str, Any]] = ()) -> None:
        """Write `head` (the entry's own change) and move the entry's assignment rows from its old
        place in the lists to its new one, adjusting the activities' counts when it starts or stops
        counting (an inactive user), all in one transaction."""
        before, after = entry_order(old), entry_order(new)
        delta = (entry_rank(new) in COUNTERS) - (entry_rank(old) in COUNTERS)
        counter = COUNTERS.get(entry_rank(new)) or COUNTERS.get(entry_rank(old))
        kind = "group" if "groupId" in new else "user"
        uid = new["groupId"] if kind == "group" else new["userId"]
        actions: list[dict[str, Any]] = [head, *others]
        for activity_pk in old.get("assignedTo", []):
            if before != after:
                actions.append({"Delete": {"Key": serialize(Keys.assignee(activity_pk, before))}})
                actions.append({"Put": {"Item": serialize({**Keys.assignee(activity_pk, after), "aasUid": uid,
                                                           "aasType": kind})}})
            if delta and counter:
                actions.append({"Update": {"Key": serialize({"pk": activity_pk, "sk": "ACT"}),
                                           "UpdateExpression": "ADD #c :d", "ExpressionAttributeNames": {"#c": counter},
                                           "ExpressionAttributeValues": serialize({":d": delta})}})
        if len(actions) > MAX_TRANSACTION_ITEMS:
            raise BadRequest(f"This change moves the {kind}'s place in {len(old.get('assignedTo', []))} activities' "
                             f"assignee lists: at most {MAX_TRANSACTION_ITEMS} writes fit one transaction")
        self.transact(actions)

    def users_page(self, tenant: str, text: str | None, limit: int, cursor: str | None) -> Page:
        pk = Keys.directory(tenant)
        values: dict[str, Any] = {":pk": pk, ":u": "USER#"}
        kwargs: dict[str, Any] = {"KeyConditionExpression": "pk = :pk AND begins_with(sk, :u)"}
        if text:
            values[":f"] = text.casefold()
            kwargs["FilterExpression"] = "contains(searchText, :f)"
        kwargs["ExpressionAttributeValues"] = serialize(values)
        return self.query_page(limit, cursor, "pk", pk, "USER#", **kwargs)

    def get_users(self, tenant: str, user_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        items = self.batch_get(Keys.user(tenant, u) for u in user_ids)
        return {d["userId"]: d for d in map(deserialize, items)}

    def get_group(self, tenant: str, group_id: str) -> tuple[Group | None, int]:
        item = self.get(Keys.group(tenant, group_id))
        if not item:
            return None, 0
        data = deserialize(item)
        return Group.model_validate({**data, "id": data["groupId"]}), int(data.get("version", 0))

    def put_group(self, tenant: str, group: Group, old_members: list[str], old_version: int) -> None:
        """Replace a group and move the memberships on the user items, in one transaction (a new
        title also moves the group's assignment rows to their new place in the lists)."""
        added = [u for u in group.members if u not in old_members]
        removed = [u for u in old_members if u not in group.members]
        if len(added) + len(removed) + 1 > MAX_TRANSACTION_ITEMS:
            raise BadRequest(f"At most {MAX_TRANSACTION_ITEMS - 1} membership changes per request")
        fields = {"groupId": group.id, "name": group.name, "members": group.members, "version": old_version + 1,
                  "searchText": search_text(group.name)}
        values = {f":{k}": v for k, v in fields.items()}
        cond = "attribute_not_exists(pk)" if old_version == 0 else "version = :v"
        if old_version:
            values[":v"] = old_version
        update: dict[str, Any] = {
            "Key": serialize(Keys.group(tenant, group.id)),
            "UpdateExpression": "SET " + ", ".join(f"#{k} = :{k}" for k in fields),
            "ExpressionAttributeNames": {f"#{k}": k for k in fields}}
        members: list[dict[str, Any]] = []
        for users, op in ((added, "ADD"), (removed, "DELETE")):
            for u in users:
                members.append({"Update": {
                    "Key": serialize(Keys.user(tenant, u)), "UpdateExpression": f"{op} #g :g",
                    "ConditionExpression": "attribute_exists(pk)",
                    "ExpressionAttributeNames": {"#g": "groups"},
                    "ExpressionAttributeValues": {":g": {"SS": [group.id]}}}})
        try:
            self.transact([{"Update": {**update, "ConditionExpression": f"{cond} AND (attribute_not_exists(assignedTo)"
                                                                        " OR #name = :name)",
                                       "ExpressionAttributeValues": serialize(values)}}, *members])
        except ConditionFailed as failed:
            old = deserialize(failed.item) if failed.index == 0 and failed.item else None
            if old is None or old.get("version", 0) != old_version or not old.get("assignedTo"):
                raise
            # a new title for an assigned group: its rows move, pinned on its assignments
            values[":aasVersion"] = old.get("aasVersion", 0)
            self._move_rows(old, {**old, **fields}, {"Update": {
                **update, "ConditionExpression": f"{cond} AND aasVersion = :aasVersion",
                "ExpressionAttributeValues": serialize(values)}}, members)

    def put_activity(self, tenant: str, activity: Activity) -> bool:
        """Create or update an activity (its assignees and their count are kept); True if created.
        A creation also records its project (one transaction), so an unknown project can be named."""
        key = Keys.activity(tenant, activity.project_id, activity.id)
        lease = (", leaseSeconds = :l" if activity.leaseSeconds else " REMOVE leaseSeconds")
        update = {"Key": serialize(key),
                  "UpdateExpression": "SET projectId = :p, activityId = :a, #n = :n, #t = :t" + lease,
                  "ExpressionAttributeNames": {"#n": "name", "#t": "type"},
                  "ExpressionAttributeValues": serialize({":p": activity.project_id, ":a": activity.id,
                                                          ":n": activity.name, ":t": activity.type,
                                                          ":l": activity.leaseSeconds})}
        try:
            self.transact([
                {"Update": {**update, "ConditionExpression": "attribute_not_exists(pk)"}},
                {"Update": {"Key": serialize(Keys.project(tenant, activity.project_id)),
                            "UpdateExpression": "SET projectId = :p",
                            "ExpressionAttributeValues": serialize({":p": activity.project_id})}}])
            return True
        except ConditionFailed:
            self._call("update_item", TableName=self.table, **update)
            return False

    def project_exists(self, tenant: str, project_id: str) -> bool:
        return self.get(Keys.project(tenant, project_id), projection="pk") is not None

    def activity_with_assignees(self, tenant: str, project_id: str, activity_id: str, limit: int | None = None,
                                kind: str | None = None) -> tuple[Activity | None, int, list[dict[str, Any]]]:
        """The activity, its assignee count, and its assignment rows in list order (groups by
        title, then users by first name; inactive users are not listed): the first `limit` of
        them, or all; only the groups or only the users with `kind`. The activity item sorts first
        in its partition, right before the group rows, so this is one Query (a page costs what it
        reads up to its end, not the list's size); the users alone take a GetItem more."""
        key = Keys.activity(tenant, project_id, activity_id)
        low, high = (AAS + "U", AAS + "V") if kind == "user" else ("ACT", AAS + ("H" if kind == "group" else "V"))
        items = [deserialize(i) for i in self.query_all(
            None if limit is None else limit + 1, KeyConditionExpression="pk = :pk AND sk BETWEEN :lo AND :hi",
            ExpressionAttributeValues=serialize({":pk": key["pk"], ":lo": low, ":hi": high}), ConsistentRead=True)]
        if kind == "user":
            head = self.get(key)
            items = ([deserialize(head)] if head else []) + items
        if not items or items[0]["sk"] != key["sk"]:
            return None, 0, []
        head_item = items[0]
        act = Activity.model_validate({**head_item, "id": head_item["activityId"]})
        counts = {k: int(head_item.get(c, 0)) for k, c in (("group", "groupCount"), ("user", "userCount"))}
        return act, counts[kind] if kind else sum(counts.values()), items[1:]

    # ---- activity assignees ----------------------------------------------------------------
    def activity_and_entries(self, tenant: str, project_id: str, activity_id: str, uid: str
                             ) -> tuple[dict[str, Any] | None, dict[str, Any] | None, dict[str, Any] | None]:
        """One consistent BatchGetItem: the activity, and the user and the group with this id."""
        act, user, group = Keys.activity(tenant, project_id, activity_id), Keys.user(tenant, uid), \
            Keys.group(tenant, uid)
        found = {(i["pk"], i["sk"]): i for i in map(deserialize, self.batch_get([act, user, group]))}
        return tuple(found.get((k["pk"], k["sk"])) for k in (act, user, group))  # type: ignore[return-value]

    def _assignment_actions(self, tenant: str, project_id: str, activity_id: str, entry: dict[str, Any],
                            adding: bool) -> list[dict[str, Any]]:
        """Assign (or unassign) a directory entry: the activity (exists, a task; counted), the
        entry (its `assignedTo` set, pinned on the name and state its row's place came from) and the
        row itself. ConditionFailed index: 0 activity, 1 entry, 2 the other kind's entry (same id
        already assigned as a user or group; adding only), last the row."""
        act = Keys.activity(tenant, project_id, activity_id)
        group = "groupId" in entry
        uid = entry["groupId"] if group else entry["userId"]
        counter = COUNTERS.get(entry_rank(entry))
        act_action: dict[str, Any] = {"Key": serialize(act)}
        if adding:
            act_action.update(ConditionExpression="attribute_exists(pk) AND #t = :task",
                              ExpressionAttributeNames={"#t": "type"},
                              ExpressionAttributeValues=serialize({":task": "task"}))
        else:
            act_action["ConditionExpression"] = "attribute_exists(pk)"
        if counter:
            act_action["UpdateExpression"] = "ADD #c :d"
            act_action.setdefault("ExpressionAttributeNames", {})["#c"] = counter
            act_action.setdefault("ExpressionAttributeValues", {})[":d"] = {"N": "1" if adding else "-1"}
        pin = "#n = :n" if group else "#n = :n AND #ac = :ac"
        names = {"#n": "name" if group else "firstname", "#to": "assignedTo"}
        values: dict[str, Any] = {":n": entry.get("name" if group else "firstname", ""), ":one": 1}
        if not group:
            names["#ac"] = "active"
            values[":ac"] = entry.get("active", True)
        entry_values = {**serialize(values), ":act": {"S": act["pk"]}, ":set": {"SS": [act["pk"]]}}
        row = Keys.assignee(act["pk"], entry_order(entry))
        actions: list[dict[str, Any]] = [
            {"Update" if counter else "ConditionCheck": act_action},
            {"Update": {"Key": serialize(Keys.group(tenant, uid) if group else Keys.user(tenant, uid)),
                        "UpdateExpression": "ADD #to :set, aasVersion :one" if adding
                        else "DELETE #to :set ADD aasVersion :one",
                        "ConditionExpression": f"{pin} AND {'NOT ' if adding else ''}contains(#to, :act)",
                        "ExpressionAttributeNames": names, "ExpressionAttributeValues": entry_values}}]
        if adding:
            other = Keys.user(tenant, uid) if group else Keys.group(tenant, uid)
            actions.append({"ConditionCheck": {
                "Key": serialize(other), "ConditionExpression": "attribute_not_exists(pk) OR NOT contains(#to, :act)",
                "ExpressionAttributeNames": {"#to": "assignedTo"},
                "ExpressionAttributeValues": {":act": {"S": act["pk"]}}}})
            actions.append({"Put": {"Item": serialize({**row, "aasUid": uid, "aasType": "group" if group else "user"}),
                                    "ConditionExpression": "attribute_not_exists(pk)"}})
        else:
            actions.append({"Delete": {"Key": serialize(row), "ConditionExpression": "attribute_exists(pk)"}})
        return actions

    def add_assignee(self, tenant: str, project_id: str, activity_id: str, entry: dict[str, Any]) -> None:
        self.transact(self._assignment_actions(tenant, project_id, activity_id, entry, adding=True))

    def remove_assignee(self, tenant: str, project_id: str, activity_id: str, entry: dict[str, Any]) -> None:
        self.transact(self._assignment_actions(tenant, project_id, activity_id, entry, adding=False))

    def directory_entries(self, tenant: str, keys: Iterable[tuple[str, str]] | None = None
                          ) -> list[dict[str, Any]]:
        """Users and groups of the tenant: the given (kind, id) pairs by BatchGetItem, or the
        whole directory partition by Query."""
        if keys is not None:
            wanted = [Keys.user(tenant, i) if k == "user" else Keys.group(tenant, i) for k, i in keys]
            return [deserialize(i) for i in self.batch_get(wanted)]
        items = self.query_all(KeyConditionExpression="pk = :pk",
                               ExpressionAttributeValues=serialize({":pk": Keys.directory(tenant)}))
        return [deserialize(i) for i in items]


@lru_cache(maxsize=4)
def _client(endpoint: str | None, region: str) -> Any:
    from botocore.config import Config
    from botocore.session import Session

    # Baton builds every request itself; botocore re-validating each one costs ~0.2 ms a call.
    config = Config(retries={"max_attempts": 4, "mode": "standard"}, max_pool_connections=100,
                    parameter_validation=False, connect_timeout=3, read_timeout=10)
    # A botocore client: what boto3 would build, without importing boto3 (~180 ms of cold start).
    return Session().create_client("dynamodb", endpoint_url=endpoint, region_name=region, config=config)


def get_store() -> Store:
    """The store for this process's settings (client created on first use, not at import)."""
    settings = get_settings()
    if settings.table_name is None:
        raise RuntimeError("TABLE_NAME is not set: a deployed function must be told its table")
    return Store(_client(settings.dynamodb_endpoint, settings.region), settings.table_name)
