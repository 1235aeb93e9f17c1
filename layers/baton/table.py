"""The one table's definition: the single source for the CDK stack, the local server and tests."""

from __future__ import annotations

import time
from typing import Any

PK, SK = "pk", "sk"
# GSI1: a tenant's tasks by status, newest first, write-sharded (the listing without assignee
# or candidate). GSI2: tasks by assignee and status, newest first (sparse: assigned tasks only).
# GSI3: the queues, in queue order: one partition per candidate user and per candidate group
# (open, manual, claimable tasks), and one per user for the open tasks they hold (the inbox).
GSI_TASKS = "gsi1"
GSI_ASSIGNEE = "gsi2"
GSI_QUEUE = "gsi3"
# GSI4: the tenant audit: every ledger event (history items, and a task item while it holds a
# direct claim's pending event) by month and shard, oldest first. GSI5: a case's tasks (sparse:
# tasks with a caseId), in creation order.
GSI_AUDIT = "gsi4"
GSI_CASE = "gsi5"
# GSI6: the escalation timers (sparse: open tasks with a pending escalation step), one partition
# per hour bucket and shard, sorted by due time: a sweep reads only what is due (docs/data-model.md).
GSI_TIMERS = "gsi6"
# GSI7, GSI8: the queues and inboxes again (the same partitions as GSI3, on the same items), in
# due-date order and in age order: a queue sorted by due date or age is one Query per partition.
GSI_DUE = "gsi7"
GSI_AGE = "gsi8"

KEYS = {PK: "S", SK: "S", "gsi1pk": "S", "gsi1sk": "S", "gsi2pk": "S", "gsi2sk": "S", "gsi3pk": "S", "gsi3sk": "S",
        "gsi4pk": "S", "gsi4sk": "S", "gsi5pk": "S", "gsi5sk": "S",
        "gsi6pk": "S", "gsi6sk": "S", "gsi7pk": "S", "gsi7sk": "S", "gsi8pk": "S", "gsi8sk": "S"}
INDEXES = {GSI_TASKS: ("gsi1pk", "gsi1sk"), GSI_ASSIGNEE: ("gsi2pk", "gsi2sk"), GSI_QUEUE: ("gsi3pk", "gsi3sk"),
           GSI_AUDIT: ("gsi4pk", "gsi4sk"), GSI_CASE: ("gsi5pk", "gsi5sk"),
           GSI_TIMERS: ("gsi6pk", "gsi6sk"), GSI_DUE: ("gsi7pk", "gsi7sk"), GSI_AGE: ("gsi8pk", "gsi8sk")}
# The stream every task event is derived from (docs/events.md): new and old images, so a task
# item that gained a `lastEvent` can be told from one that already had it.
STREAM_VIEW = "NEW_AND_OLD_IMAGES"
STREAM = {"StreamEnabled": True, "StreamViewType": STREAM_VIEW}


def create_table_kwargs(table_name: str) -> dict[str, Any]:
    """Arguments of DynamoDB CreateTable (on-demand) for this table."""
    return {
        "TableName": table_name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": k, "AttributeType": t} for k, t in KEYS.items()],
        "KeySchema": [{"AttributeName": PK, "KeyType": "HASH"}, {"AttributeName": SK, "KeyType": "RANGE"}],
        "GlobalSecondaryIndexes": [_index(name) for name in INDEXES],
        "StreamSpecification": STREAM,
    }


def _index(name: str) -> dict[str, Any]:
    h, r = INDEXES[name]
    return {
        "IndexName": name,
        "KeySchema": [{"AttributeName": h, "KeyType": "HASH"}, {"AttributeName": r, "KeyType": "RANGE"}],
        "Projection": {"ProjectionType": "ALL"},
    }


def ensure_table(client: Any, table_name: str) -> bool:
    """Create the table if it does not exist, or add the indexes an older table lacks and turn
    its stream on if it is off (a table made before events existed) (local server, `baton
    migrate` and tests only). True when the table was created now."""
    existing = client.list_tables().get("TableNames", [])
    if table_name not in existing:
        client.create_table(**create_table_kwargs(table_name))
        client.get_waiter("table_exists").wait(TableName=table_name, WaiterConfig={"Delay": 0.2})
        return True
    described = client.describe_table(TableName=table_name)["Table"]
    have = {i["IndexName"] for i in described.get("GlobalSecondaryIndexes", [])}
    for name in INDEXES:
        if name in have:
            continue
        h, r = INDEXES[name]
        client.update_table(
            TableName=table_name,
            AttributeDefinitions=[{"AttributeName": a, "AttributeType": KEYS[a]} for a in (h, r)],
            GlobalSecondaryIndexUpdates=[{"Create": _index(name)}])
        for _ in range(600):  # DynamoDB Local builds it at once; AWS would take a while
            indexes = client.describe_table(TableName=table_name)["Table"].get("GlobalSecondaryIndexes", [])
            if all(i.get("IndexStatus", "ACTIVE") == "ACTIVE" for i in indexes):
                break
            time.sleep(0.2)
    if not (described.get("StreamSpecification") or {}).get("StreamEnabled"):
        client.update_table(TableName=table_name, StreamSpecification=STREAM)
    return False
