"""The task events as the tests check them: docs/events.md's schema, and the test table's stream."""

from __future__ import annotations

import json
import re
from typing import Any

import jsonschema

from baton.settings import get_settings
from baton.storage.dynamo import get_dynamo
from benchmarks.hotkeys import stream_records as read_stream
from tests.support import ROOT


def event_schema() -> dict[str, Any]:
    """The JSON Schema of docs/events.md (between its schema markers)."""
    text = (ROOT / "docs" / "events.md").read_text()
    block = re.search(r"<!-- schema:start -->\s*```json\n(.*?)```\s*<!-- schema:end -->", text, re.S)
    assert block, "docs/events.md has no schema block"
    schema: dict[str, Any] = json.loads(block.group(1))
    return schema


def validate(event: dict[str, Any]) -> None:
    jsonschema.Draft202012Validator(event_schema(), format_checker=jsonschema.FormatChecker()).validate(event)


def stream_records() -> list[dict[str, Any]]:
    """Every record of the test table's stream (DynamoDB Local keeps one open shard)."""
    store = get_dynamo()
    from botocore.session import Session

    settings = get_settings()
    streams: Any = Session().create_client("dynamodbstreams", endpoint_url=settings.dynamodb_endpoint,
                                      region_name=settings.region)
    return read_stream(streams, store.client.describe_table(TableName=store.table)["Table"]["LatestStreamArn"])
