"""The one table's definition: the single source for the CDK stack, the local server and tests."""

from __future__ import annotations

from typing import Any

PK, SK = "pk", "sk"
# GSI1: every task of a tenant, newest first (the unfiltered list, status and candidate queues).
GSI_TASKS = "gsi1"
# GSI2: tasks by assignee, newest first (the inbox); sparse: only assigned tasks carry it.
GSI_ASSIGNEE = "gsi2"

KEYS = {PK: "S", SK: "S", "gsi1pk": "S", "gsi1sk": "S", "gsi2pk": "S", "gsi2sk": "S"}
INDEXES = {GSI_TASKS: ("gsi1pk", "gsi1sk"), GSI_ASSIGNEE: ("gsi2pk", "gsi2sk")}
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
        "GlobalSecondaryIndexes": [
            {
                "IndexName": name,
                "KeySchema": [{"AttributeName": h, "KeyType": "HASH"}, {"AttributeName": r, "KeyType": "RANGE"}],
                "Projection": {"ProjectionType": "ALL"},
            }
            for name, (h, r) in INDEXES.items()
        ],
        "StreamSpecification": STREAM,
    }


def ensure_table(client: Any, table_name: str) -> None:
    """Create the table if it does not exist, and turn its stream on if it is off (a table made
    before events existed) (local server and tests only)."""
    existing = client.list_tables().get("TableNames", [])
    if table_name not in existing:
        client.create_table(**create_table_kwargs(table_name))
        client.get_waiter("table_exists").wait(TableName=table_name, WaiterConfig={"Delay": 0.2})
        return
    spec = client.describe_table(TableName=table_name)["Table"].get("StreamSpecification") or {}
    if not spec.get("StreamEnabled"):
        client.update_table(TableName=table_name, StreamSpecification=STREAM)
