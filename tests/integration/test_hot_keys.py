"""No hot partition key on the write path: 2,000 changes on 1,000 tasks of one tenant spread over
50 groups, read back from the table's stream on DynamoDB Local; no partition key of the table or
of any index takes more than 5% of that table's or index's writes. (A key every write of the
tenant touches would take them all; `make bench` measures the issue's 10,000 changes on 1,000
tasks with the same code, benchmarks/hotkeys.py.) Every task carries an escalation ladder, so the
timer index is among the indexes measured."""

from __future__ import annotations

from collections import Counter

import boto3
import pytest

from baton.storage.dynamo import get_dynamo
from baton_local.ddblocal import DynamoDBLocal
from benchmarks.escalations import HOT_LADDER
from benchmarks.hotkeys import busy_tenant, enable_stream, shares, stream_records, write_counts

pytestmark = pytest.mark.xdist_group("hotkeys")
TASKS, CHANGES = 1_000, 2_000  # the 1,000 creates and 1,000 claims, releases and completions


def test_no_key_takes_more_than_5_percent_of_the_writes(local_table: str, ddb_local: DynamoDBLocal) -> None:
    store = get_dynamo()
    arns: list[str] = []  # the stream starts after the directory is written: only task changes count
    written = busy_tenant(store, "busy", tasks=TASKS, changes=CHANGES, ready=lambda: arns.append(enable_stream(store)),
                          fields={"escalations": HOT_LADDER})  # so the timer index is written too
    assert written == CHANGES
    arn = arns[0]
    streams = boto3.client("dynamodbstreams", endpoint_url=ddb_local.endpoint, region_name="us-east-1")
    records = stream_records(streams, arn)
    counts = write_counts(records)
    result = shares(counts)
    assert result["table"]["writes"] >= CHANGES, result  # every change wrote (task, history, entries)
    for name, share in result.items():
        assert share["writes"] > 0, (name, result)
        assert share["max_share"] <= 0.05, (name, share)


def test_the_measure_sees_a_hot_key() -> None:
    """The share is a real measure: one key taking every write is 100%."""
    records = [{"dynamodb": {"Keys": {"pk": {"S": f"T#t#TASK#{i}"}},
                             "NewImage": {"gsi1pk": {"S": "T#t#TASKS"}, "gsi1sk": {"S": str(i)}}}}
               for i in range(10)]
    counts = write_counts(records)
    assert counts["gsi1"] == Counter({"T#t#TASKS": 10})
    assert shares(counts)["gsi1"]["max_share"] == 1.0
    assert shares(counts)["table"]["max_share"] == 0.1
