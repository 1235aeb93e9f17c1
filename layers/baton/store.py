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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any, cast

from botocore.exceptions import ClientError

from baton.attrs import from_attr, to_attr
from baton.domain import Activity, Group, HistoryEvent, Task, User
from baton.errors import BadRequest, Unavailable
from baton.events import DEFERRED
from baton.settings import get_settings
from baton.table import GSI_ASSIGNEE, GSI_TASKS

THROTTLE_CODES = frozenset({
    "ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded",
    "InternalServerError", "ServiceUnavailable", "ThrottlingError",
})
TASK_FIELDS = tuple(Task.model_fields)
MAX_TRANSACTION_ITEMS = 100
MAX_QUERY_LIMIT = 10_000


class ConditionFailed(Exception):
    """A condition of a write failed; `item` is the failing item as it was (None if absent)."""

    def __init__(self, index: int, item: dict[str, Any] | None) -> None:
        super().__init__(f"condition failed on action {index}")
        self.index = index
        self.item = item


class TransactionConflict(Exception):
    """Another transaction touched the same item at the same moment: retry."""


def _esc(part: str) -> str:
    """Escape key parts so that joining them with '#' is injective."""
    return part.replace("%", "%25").replace("#", "%23")


def assignee_order(uid: str) -> str:
    """What assignee lists are sorted by: the escaped id, as the rows' sort keys are."""
    return _esc(uid)


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
    def assignee(tenant: str, project_id: str, activity_id: str, uid: str) -> dict[str, str]:
        """An assignment row: after its activity item in the partition, in `aas_uid` order."""
        return {"pk": Keys.activity(tenant, project_id, activity_id)["pk"], "sk": f"ACT#AAS#{assignee_order(uid)}"}

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


def decode_cursor(cursor: str | None, partition_attr: str, partition: str) -> dict[str, Any] | None:
    """Decode a cursor, and refuse one that points outside the partition being listed."""
    if not cursor:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise BadRequest("Invalid cursor") from None
    ok = (
        isinstance(key, dict)
        and all(isinstance(v, dict) and set(v) == {"S"} and isinstance(v["S"], str) for v in key.values())
        and key.get(partition_attr, {}).get("S") == partition
        and set(key) <= {"pk", "sk", "gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk"}
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
        if any(r.get("Code") in THROTTLE_CODES or r.get("Code") == "ThrottlingError" for r in reasons):
            raise Unavailable("DynamoDB is busy; retry later") from err
        raise TransactionConflict(str(reasons)) from err
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
        for action in actions:
            body = next(iter(action.values()))
            body.setdefault("TableName", self.table)
            if "ConditionExpression" in body:
                body["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
        self._call("transact_write_items", TransactItems=list(actions))

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
                   **kwargs: Any) -> Page:
        start = decode_cursor(cursor, partition_attr, partition)
        kwargs.update(TableName=self.table, Limit=limit)
        if start:
            kwargs["ExclusiveStartKey"] = start
        out = self._call("query", **kwargs)
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
            # `deferred`: its event was published when the claim was made (baton.events).
            actions.append({"Put": {"Item": {**self._event_item(tenant, pending), DEFERRED: {"BOOL": True}}}})
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
            limit, cursor, "pk", pk,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :h)",
            ExpressionAttributeValues=serialize({":pk": pk, ":h": "H#"}))

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
        """Create or replace a user's profile, keeping its group memberships. True if created."""
        data = user.model_dump()
        data.pop("id")
        data["userId"] = user.id
        data["searchText"] = search_text(user.firstname, user.lastname, user.username)
        names = {f"#{k}": k for k in data}
        sets = ", ".join(f"#{k} = :{k}" for k in data)
        out = self._call(
            "update_item", TableName=self.table, Key=serialize(Keys.user(tenant, user.id)),
            UpdateExpression=f"SET {sets}", ExpressionAttributeNames=names,
            ExpressionAttributeValues=serialize({f":{k}": v for k, v in data.items()}),
            ReturnValues="UPDATED_OLD")
        return not out.get("Attributes")

    def users_page(self, tenant: str, text: str | None, limit: int, cursor: str | None) -> Page:
        pk = Keys.directory(tenant)
        values: dict[str, Any] = {":pk": pk, ":u": "USER#"}
        kwargs: dict[str, Any] = {"KeyConditionExpression": "pk = :pk AND begins_with(sk, :u)"}
        if text:
            values[":f"] = text.casefold()
            kwargs["FilterExpression"] = "contains(searchText, :f)"
        kwargs["ExpressionAttributeValues"] = serialize(values)
        return self.query_page(limit, cursor, "pk", pk, **kwargs)

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
        """Replace a group and move the memberships on the user items, in one transaction."""
        added = [u for u in group.members if u not in old_members]
        removed = [u for u in old_members if u not in group.members]
        if len(added) + len(removed) + 1 > MAX_TRANSACTION_ITEMS:
            raise BadRequest(f"At most {MAX_TRANSACTION_ITEMS - 1} membership changes per request")
        item = serialize({
            **Keys.group(tenant, group.id), "groupId": group.id, "name": group.name,
            "members": group.members, "version": old_version + 1, "searchText": search_text(group.name)})
        cond = "attribute_not_exists(pk)" if old_version == 0 else "version = :v"
        put: dict[str, Any] = {"Item": item, "ConditionExpression": cond}
        if old_version:
            put["ExpressionAttributeValues"] = serialize({":v": old_version})
        actions: list[dict[str, Any]] = [{"Put": put}]
        for users, op in ((added, "ADD"), (removed, "DELETE")):
            for u in users:
                actions.append({"Update": {
                    "Key": serialize(Keys.user(tenant, u)), "UpdateExpression": f"{op} #g :g",
                    "ConditionExpression": "attribute_exists(pk)",
                    "ExpressionAttributeNames": {"#g": "groups"},
                    "ExpressionAttributeValues": {":g": {"SS": [group.id]}}}})
        self.transact(actions)

    def put_activity(self, tenant: str, activity: Activity) -> bool:
        """Create or update an activity (its assignees and their count are kept); True if created."""
        out = self._call(
            "update_item", TableName=self.table, Key=serialize(Keys.activity(tenant, activity.project_id, activity.id)),
            UpdateExpression="SET projectId = :p, activityId = :a, #n = :n, #t = :t",
            ExpressionAttributeNames={"#n": "name", "#t": "type"},
            ExpressionAttributeValues=serialize({":p": activity.project_id, ":a": activity.id, ":n": activity.name,
                                                 ":t": activity.type}),
            ReturnValues="UPDATED_OLD")
        return not out.get("Attributes")

    def activity_with_assignees(self, tenant: str, project_id: str, activity_id: str, limit: int | None = None
                                ) -> tuple[Activity | None, int, list[dict[str, Any]]]:
        """The activity, its assignee count, and its assignee rows in `aas_uid` order: the first
        `limit` of them, or all. One Query: the activity item sorts first in its partition, then
        its `ACT#AAS#` rows (a page costs what it reads up to its end, not the list's size)."""
        key = Keys.activity(tenant, project_id, activity_id)
        items = [deserialize(i) for i in self.query_all(
            None if limit is None else limit + 1, KeyConditionExpression="pk = :pk AND begins_with(sk, :act)",
            ExpressionAttributeValues=serialize({":pk": key["pk"], ":act": key["sk"]}), ConsistentRead=True)]
        if not items or items[0]["sk"] != key["sk"]:
            return None, 0, []
        head = items[0]
        act = Activity.model_validate({**head, "id": head["activityId"]})
        return act, int(head.get("assigneeCount", 0)), items[1:]

    # ---- activity assignees ----------------------------------------------------------------
    def add_assignee(self, tenant: str, project_id: str, activity_id: str, uid: str, kind: str) -> None:
        """Assign a user or group to a task activity: one transaction that also asserts the
        activity exists and is a task (counting the assignee there), and the user or group exists
        in the directory. ConditionFailed index: 0 activity, 1 directory entry, 2 already assigned."""
        act = Keys.activity(tenant, project_id, activity_id)
        entry = Keys.user(tenant, uid) if kind == "user" else Keys.group(tenant, uid)
        self.transact([
            {"Update": {"Key": serialize(act), "UpdateExpression": "ADD assigneeCount :one",
                        "ConditionExpression": "attribute_exists(pk) AND #t = :task",
                        "ExpressionAttributeNames": {"#t": "type"},
                        "ExpressionAttributeValues": serialize({":task": "task", ":one": 1})}},
            {"ConditionCheck": {"Key": serialize(entry), "ConditionExpression": "attribute_exists(pk)"}},
            {"Put": {"Item": serialize({**Keys.assignee(tenant, project_id, activity_id, uid), "aasUid": uid,
                                        "aasType": kind}),
                     "ConditionExpression": "attribute_not_exists(pk)"}},
        ])

    def remove_assignee(self, tenant: str, project_id: str, activity_id: str, uid: str) -> None:
        """ConditionFailed index: 0 activity missing, 1 not assigned."""
        self.transact([
            {"Update": {"Key": serialize(Keys.activity(tenant, project_id, activity_id)),
                        "UpdateExpression": "ADD assigneeCount :less", "ConditionExpression": "attribute_exists(pk)",
                        "ExpressionAttributeValues": serialize({":less": -1})}},
            {"Delete": {"Key": serialize(Keys.assignee(tenant, project_id, activity_id, uid)),
                        "ConditionExpression": "attribute_exists(pk)"}},
        ])

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
    return Store(_client(settings.dynamodb_endpoint, settings.region), settings.table_name)
