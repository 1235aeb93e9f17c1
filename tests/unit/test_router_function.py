"""The router function (functions/router.py, wired by infra/router.py): stream records in, the same
Router `baton serve` drives; poison records skipped and counted; a failure reports the record to
retry from; offers seen on the stream become messages delayed until they expire, and such a
message routes the task again (API.md "People")."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from baton import clock
from baton.settings import get_settings
from baton.storage.dynamo import get_dynamo
from baton.storage.keys import Keys
from baton.tasks.routing import Router
from baton_functions import router as function
from tests.support import ADMIN, TENANT, call, create_task, history, seed

pytestmark = pytest.mark.usefixtures("moto_table", "controlled_clock")
CREW = ["alice", "bob", "carol"]


class Sent:
    """The offer queue, as the function sends to it."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []

    def send_message(self, **kw: Any) -> dict[str, Any]:
        self.messages.append(kw)
        return {"MessageId": str(len(self.messages))}


@pytest.fixture(autouse=True)
def queue(moto_table: str, monkeypatch: pytest.MonkeyPatch) -> Sent:
    seed()
    sent = Sent()
    monkeypatch.setenv("BATON_OFFER_QUEUE_URL", "https://sqs.example/offers")
    get_settings.cache_clear()
    monkeypatch.setattr(function, "_sqs", lambda: sent)
    return sent


def crew(**routing: Any) -> None:
    r = call("PUT", "/api/v1/groups/crew", {"name": "crew", "members": CREW, "routing": routing}, user="root",
             roles=ADMIN)
    assert r.status in (200, 201), r


def record(task: str, seq: str, old: dict[str, Any] | None = None) -> dict[str, Any]:
    """The stream record of the task item as it now is (INSERT, or MODIFY from `old`)."""
    db = get_dynamo()
    key = {k: {"S": v} for k, v in Keys.task(TENANT, task).items()}
    item = db.client.get_item(TableName=db.table, Key=key, ConsistentRead=True)["Item"]
    change: dict[str, Any] = {"Keys": key, "NewImage": item, "SequenceNumber": seq}
    if old is not None:
        change["OldImage"] = old
    return {"eventSource": "aws:dynamodb", "eventName": "MODIFY" if old else "INSERT", "dynamodb": change}


def task(task_id: str) -> dict[str, Any]:
    body: dict[str, Any] = call("GET", f"/api/v1/tasks/{task_id}").body
    return body


def test_stream_records_are_routed_with_the_same_router(capsys: pytest.CaptureFixture[str]) -> None:
    crew(strategy="round-robin")
    create_task("f1", candidateGroups=["crew"])
    create_task("f2", candidateGroups=["crew"])
    poison = {"eventSource": "aws:dynamodb", "eventName": "MODIFY", "dynamodb": {
        "Keys": {"pk": {"S": Keys.person(TENANT, "bob")["pk"]}, "sk": {"S": "LOAD"}}, "SequenceNumber": "2",
        "NewImage": {"userId": {"S": "bob"}, "load": {"S": "many"}}, "OldImage": {"load": {"N": "1"}}}}
    out = function.lambda_handler({"Records": [record("f1", "1"), poison, record("f2", "3")]}, None)
    assert out == {"batchItemFailures": []}
    assert (task("f1")["assignee"], task("f2")["assignee"]) == ("alice", "bob")
    assert history("f1")[-1]["reason"] == "routing:round-robin"
    metrics = [json.loads(line) for line in capsys.readouterr().out.splitlines() if "CloudWatchMetrics" in line]
    assert [m["SkippedRouterRecords"] for m in metrics] == [1]


def test_a_failure_reports_the_batch_first_record(monkeypatch: pytest.MonkeyPatch) -> None:
    """A batch is routed together; a failure retries it from its first record (what was routed
    already costs a read the second time)."""
    crew(strategy="round-robin")
    create_task("g1", candidateGroups=["crew"])
    create_task("g2", candidateGroups=["crew"])
    records = [record("g1", "11"), record("g2", "12")]
    handled = Router.route_tasks
    calls: list[int] = []

    def flaky(self: Router, tenant: str, ids: list[str]) -> int:
        calls.append(1)
        if len(calls) == 1:
            handled(self, tenant, ids[:1])
            raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException"}}, "TransactWriteItems")
        return handled(self, tenant, ids)

    monkeypatch.setattr(Router, "route_tasks", flaky)
    assert function.lambda_handler({"Records": records}, None) == {"batchItemFailures": [{"itemIdentifier": "11"}]}
    assert task("g1")["assignee"] == "alice" and task("g2")["assignee"] is None
    assert function.lambda_handler({"Records": records}, None) == {"batchItemFailures": []}  # the retry
    assert (task("g1")["assignee"], task("g2")["assignee"]) == ("alice", "bob")
    assert [e["action"] for e in history("g1")].count("assign") == 1  # routed once


def test_offers_expire_through_delayed_messages(queue: Sent) -> None:
    crew(strategy="round-robin", offerSeconds=30)
    create_task("o1", candidateGroups=["crew"])
    inserted = record("o1", "21")
    assert function.lambda_handler({"Records": [inserted]}, None) == {"batchItemFailures": []}
    assert task("o1")["offeredTo"] == "alice" and queue.messages == []
    # the offer's own record: its timer, delayed until it expires
    function.lambda_handler({"Records": [record("o1", "22", inserted["dynamodb"]["NewImage"])]}, None)
    [sent] = queue.messages
    assert sent["QueueUrl"] == "https://sqs.example/offers" and sent["DelaySeconds"] == 30
    assert json.loads(sent["MessageBody"]) == {"tenant": TENANT, "taskId": "o1", "at": task("o1")["offerExpiresAt"]}
    message = {"eventSource": "aws:sqs", "messageId": "m1", "body": sent["MessageBody"]}
    clock.advance(31)
    assert function.lambda_handler({"Records": [message]}, None) == {"batchItemFailures": []}
    assert task("o1")["offeredTo"] == "bob"
    assert (history("o1")[-1]["from"], history("o1")[-1]["reason"]) == ("alice", "offer-expired")
    # delivered again (at least once): bob's offer is live, nothing changes
    assert function.lambda_handler({"Records": [message]}, None) == {"batchItemFailures": []}
    assert task("o1")["offeredTo"] == "bob" and len(history("o1")) == 3


def test_an_offer_longer_than_an_sqs_delay_waits_again_and_bad_messages_are_skipped(
        queue: Sent, capsys: pytest.CaptureFixture[str]) -> None:
    crew(strategy="least-loaded", offerSeconds=3600)
    create_task("o2", candidateGroups=["crew"])
    inserted = record("o2", "31")
    function.lambda_handler({"Records": [inserted]}, None)
    function.lambda_handler({"Records": [record("o2", "32", inserted["dynamodb"]["NewImage"])]}, None)
    [first] = queue.messages
    assert first["DelaySeconds"] == 900
    clock.advance(900)
    bad = {"eventSource": "aws:sqs", "messageId": "bad", "body": "{not json"}
    good = {"eventSource": "aws:sqs", "messageId": "m2", "body": first["MessageBody"]}
    assert function.lambda_handler({"Records": [bad, good]}, None) == {"batchItemFailures": []}
    assert [m["DelaySeconds"] for m in queue.messages] == [900, 900]  # 2,700 s still to go: another wait
    assert task("o2")["offeredTo"] == "alice"
    metrics = [json.loads(line) for line in capsys.readouterr().out.splitlines() if "CloudWatchMetrics" in line]
    assert [m["SkippedRouterRecords"] for m in metrics] == [1]
