"""DynamoDB access: keys, item mapping and the conditional writes.

Every state change is one TransactWriteItems (or one conditional write) whose condition
re-asserts the state the rules were checked on; a failed condition comes back as
`ConditionFailed` carrying the item as it was (ReturnValuesOnConditionCheckFailure=ALL_OLD),
so the caller can say why without a second read. No Scan anywhere.
"""

from __future__ import annotations

import base64
import binascii
import json
import random
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any, cast

from botocore.exceptions import ClientError

from baton.attrs import from_attr, to_attr
from baton.domain import Activity, Group, HistoryEvent, Task, User
from baton.errors import BadRequest, Conflict, Internal, Unavailable
from baton.settings import get_settings
from baton.table import GSI_ASSIGNEE, GSI_TASKS

THROTTLE_CODES = frozenset({
    "ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded",
    "InternalServerError", "ServiceUnavailable", "ThrottlingError",
})
TASK_FIELDS = tuple(Task.model_fields)
MAX_TRANSACTION_ITEMS = 100
TRANSACTION_ATTEMPTS = 3
MAX_QUERY_LIMIT = 10_000


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
    def tasks_index(tenant: str) -> str:
        return f"T#{_esc(tenant)}#TASKS"

    @staticmethod
    def assignee_index(tenant: str, user_id: str) -> str:
        return f"T#{_esc(tenant)}#A#{_esc(user_id)}"


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


def task_item(tenant: str, task: Task) -> dict[str, Any]:
    data = task.model_dump()
    data.update(Keys.task(tenant, task.id))
    data["gsi1pk"] = Keys.tasks_index(tenant)
    data["gsi1sk"] = f"{task.createdAt}#{_esc(task.id)}"
    if task.assignee is not None:
        data["gsi2pk"] = Keys.assignee_index(tenant, task.assignee)
        data["gsi2sk"] = data["gsi1sk"]
    if task.requestHash:
        data["requestHash"] = task.requestHash
    return serialize(data)


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
        ])

    def change_task(self, tenant: str, old: Task, new: Task, event: HistoryEvent,
                    member_check: tuple[str, str | list[str]] | None = None) -> None:
        """Replace the task if it is still exactly as read (version, status, assignee), writing
        the history event with it. `member_check` (user, group) also asserts a membership."""
        values: dict[str, Any] = {":v": old.version, ":st": old.status}
        cond = "version = :v AND #st = :st AND "
        if old.assignee is None:
            cond += "attribute_not_exists(assignee)"
        else:
            cond += "assignee = :a"
            values[":a"] = old.assignee
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
            actions.append({"Put": {"Item": self._event_item(tenant, pending)}})
        self.transact(actions)

    def claim_direct(self, tenant: str, task_id: str, user: str, event: HistoryEvent,
                     if_match: int | None) -> Task:
        """Claim for a direct candidate in one round trip: one conditional UpdateItem whose
        condition is the claim rule (open, manual, unassigned, `user` among the candidate users,
        and at the expected version if one is given). Its history event goes into the same item
        (`lastEvent`, numbered by the task's new version) and is written out as H#{version} by
        the next change. ConditionFailed(0, the task as it is, or None) otherwise."""
        values: dict[str, Any] = {":open": "open", ":manual": "manual", ":me": user, ":one": 1, ":now": event.at,
                                  ":g2": Keys.assignee_index(tenant, user),
                                  ":ev": event.model_dump(by_alias=True, exclude={"version"}, exclude_none=True)}
        cond = ("#st = :open AND #ty = :manual AND attribute_not_exists(assignee) AND contains(candidateUsers, :me)"
                " AND attribute_not_exists(lastEvent)")
        if if_match is not None:
            cond += " AND version = :v"
            values[":v"] = if_match
        out = self._call(
            "update_item", TableName=self.table, Key=serialize(Keys.task(tenant, task_id)),
            UpdateExpression="SET assignee = :me, version = version + :one, updatedAt = :now, gsi2pk = :g2, "
                             "gsi2sk = gsi1sk, lastEvent = :ev",
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
                   status: str | None, limit: int, cursor: str | None) -> Page:
        """Newest first. By assignee: the sparse assignee index; otherwise the tenant's task index,
        filtered by status and candidacy (a page may then hold fewer than `limit` items)."""
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        filters: list[str] = []
        if assignee is not None:
            index, attr, partition = GSI_ASSIGNEE, "gsi2pk", Keys.assignee_index(tenant, assignee)
        else:
            index, attr, partition = GSI_TASKS, "gsi1pk", Keys.tasks_index(tenant)
        values[":p"] = partition
        if status:
            names["#st"] = "status"
            values[":st"] = status
            filters.append("#st = :st")
        if candidate is not None:
            user, groups = candidate
            values[":me"] = user
            alts = ["contains(candidateUsers, :me)"]
            for i, g in enumerate(groups):
                values[f":g{i}"] = g
                alts.append(f"contains(candidateGroups, :g{i})")
            filters.append("attribute_not_exists(assignee)")
            filters.append("(" + " OR ".join(alts) + ")")
        kwargs: dict[str, Any] = {
            "IndexName": index, "ScanIndexForward": False,
            "KeyConditionExpression": f"{attr} = :p",
            "ExpressionAttributeValues": serialize(values),
        }
        if names:
            kwargs["ExpressionAttributeNames"] = names
        if filters:
            kwargs["FilterExpression"] = " AND ".join(filters)
        return self.query_page(limit, cursor, attr, partition, **kwargs)

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
        update = {"Key": serialize(key), "UpdateExpression": "SET projectId = :p, activityId = :a, #n = :n, #t = :t",
                  "ExpressionAttributeNames": {"#n": "name", "#t": "type"},
                  "ExpressionAttributeValues": serialize({":p": activity.project_id, ":a": activity.id,
                                                          ":n": activity.name, ":t": activity.type})}
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
