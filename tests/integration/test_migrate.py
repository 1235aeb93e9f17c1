"""Data written by the Baton before queue keys (one tenant-wide listing key, the assignee index
without status, no queue index) keeps working: `ensure_table` adds the queue index and
`baton.tasks.migration.migrate` (run by `baton serve` on start, and by `baton migrate`) re-keys the tasks."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from baton.settings import get_settings
from baton.storage.dynamo import _client, get_dynamo, serialize
from baton.table import GSI_QUEUE, create_table_kwargs, ensure_table
from baton.tasks.domain import Task
from baton.tasks.layout import task_item
from baton.tasks.migration import migrate
from baton_local.ddblocal import DynamoDBLocal
from tests.support import call, claim, history, seed

T0 = "2025-06-01T00:00:00.000000Z"


def old_item(task: Task, last_event: dict[str, Any] | None = None) -> dict[str, Any]:
    """A task item as the previous key scheme wrote it."""
    item = task_item("acme", task)
    for k in ("gsi1pk", "gsi2pk", "gsi2sk", "gsi3pk", "gsi3sk"):
        item.pop(k, None)
    item["gsi1pk"] = {"S": "T#acme#TASKS"}
    if task.assignee:
        item["gsi2pk"] = {"S": f"T#acme#A#{task.assignee}"}
        item["gsi2sk"] = item["gsi1sk"]
    if last_event:
        item["lastEvent"] = serialize({"e": last_event})["e"]
    return item


@pytest.fixture
def old_table(monkeypatch: pytest.MonkeyPatch, ddb_local: DynamoDBLocal) -> str:
    table = f"old-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("TABLE_NAME", table)
    monkeypatch.setenv("DYNAMODB_ENDPOINT", ddb_local.endpoint)
    get_settings.cache_clear()
    _client.cache_clear()
    kwargs = create_table_kwargs(table)
    kwargs["GlobalSecondaryIndexes"] = [i for i in kwargs["GlobalSecondaryIndexes"] if i["IndexName"] != GSI_QUEUE]
    kwargs["AttributeDefinitions"] = [a for a in kwargs["AttributeDefinitions"]
                                      if not a["AttributeName"].startswith("gsi3")]
    client = get_dynamo().client
    client.create_table(**kwargs)
    return table


def test_old_data_is_migrated_and_keeps_working(old_table: str) -> None:
    store = get_dynamo()
    assert ensure_table(store.client, old_table) is False  # existing: the queue index is added
    indexes = {i["IndexName"] for i in store.client.describe_table(TableName=old_table)["Table"]
               ["GlobalSecondaryIndexes"]}
    assert GSI_QUEUE in indexes
    seed()  # users, groups, tasks t1..t3 written by today's code
    old = [
        Task(id="old-free", name="Old", candidateGroups=["ops"], createdAt=T0, updatedAt=T0),
        Task(id="old-many", name="Old", candidateUsers=["alice", "bob"], createdAt=T0, updatedAt=T0),
        Task(id="old-held", name="Old", candidateUsers=["carol"], assignee="carol", version=2, createdAt=T0,
             updatedAt=T0),
    ]
    pending = {"id": "ev1", "taskId": "old-held", "at": T0, "actor": "carol", "action": "claim", "to": "carol"}
    for task in old:
        store.client.put_item(TableName=old_table, Item=old_item(task, pending if task.assignee else None))
        store.client.put_item(TableName=old_table, Item=serialize({
            "pk": f"T#acme#TASK#{task.id}", "sk": "H#000000000001", "id": f"c-{task.id}", "taskId": task.id,
            "version": 1, "at": T0, "actor": "root", "action": "create", "to": "open"}))
    assert migrate(store) == 3
    assert migrate(store) == 0  # once per key scheme
    queue = call("GET", "/api/v1/tasks", query={"candidate": "me"}, user="bob").body["items"]
    assert [t["id"] for t in queue] == ["old-free", "old-many", "t1"]
    inbox = call("GET", "/api/v1/tasks", query={"assignee": "me", "status": "open"}, user="carol").body["items"]
    assert [t["id"] for t in inbox] == ["old-held"]
    assert claim("old-many", "alice").status == 200
    assert "old-many" not in [t["id"] for t in call("GET", "/api/v1/tasks", query={"candidate": "me"},
                                                    user="bob").body["items"]]
    assert call("POST", "/operations-manager/tasks/old-held/release", user="carol").status == 200
    assert [e["action"] for e in history("old-held")] == ["create", "claim", "release"]
    assert [e["version"] for e in history("old-held")] == [1, 2, 3]
    listed = call("GET", "/api/v1/tasks", query={"limit": "100"}).body["items"]
    assert {t["id"] for t in listed} >= {"old-free", "old-many", "old-held"}
