"""Each route's declared DynamoDB actions (the route table's `dynamodb`, from which the CDK
stack grants each function its policy) cover what the function really does for it: the
route's sample request is replayed on moto while botocore reports every call it makes."""

from __future__ import annotations

import json
from typing import Any

import pytest

from baton.routes import ROUTES, Route
from baton.storage.dynamo import get_dynamo
from baton_local.events import LambdaContext
from tests.gen_events import file_name
from tests.support import handlers, seed

TRANSACT_PARTS = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem",
                  "ConditionCheck": "ConditionCheckItem"}


def iam_actions(operation: str, params: dict[str, Any]) -> set[str]:
    """The IAM actions a DynamoDB call needs (a transaction needs those of its parts)."""
    if operation == "TransactWriteItems":
        return {TRANSACT_PARTS[next(iter(item))] for item in params["TransactItems"]}
    return {operation}


@pytest.mark.usefixtures("moto_table")
@pytest.mark.parametrize("route", [r for r in ROUTES if r.auth], ids=lambda r: f"{r.method} {r.path}")
def test_a_route_uses_only_its_declared_actions(route: Route) -> None:
    seed()
    used: set[str] = set()

    def record(model: Any, params: dict[str, Any], **_: Any) -> None:
        used.update(iam_actions(model.name, params))

    get_dynamo().client.meta.events.register("before-parameter-build.dynamodb", record)
    event = json.loads(file_name(route).read_text())
    handlers()[route.family](event, LambdaContext())
    assert used, "the sample request should reach the table"
    assert used <= route.dynamodb, f"{route.method} {route.path} also needs {sorted(used - route.dynamodb)}"


def test_no_route_may_scan_or_batch_write() -> None:
    for route in ROUTES:
        assert not route.dynamodb & {"Scan", "BatchWriteItem", "GetRecords", "GetShardIterator", "DescribeStream"}
