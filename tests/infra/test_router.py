"""The router function's declared DynamoDB actions (infra/router.py ROUTER_ACTIONS, from which the
stack grants its policy) cover what routing really does: assignments, offers, a reject's
re-offer, an expired offer re-offered and one withdrawn, and a user's return routing a queue's
head are replayed through the function on moto while botocore reports every call."""

from __future__ import annotations

import json
from typing import Any

import pytest

from baton import clock
from baton.settings import get_settings
from baton.storage.dynamo import get_dynamo
from baton.storage.keys import Keys
from baton_functions import router as function
from infra.router import ROUTER_ACTIONS
from tests.infra.test_least_privilege import iam_actions
from tests.support import ADMIN, TENANT, call, create_task, seed


def stream(task: str, seq: int, old: dict[str, Any] | None = None) -> dict[str, Any]:
    db = get_dynamo()
    key = {k: {"S": v} for k, v in Keys.task(TENANT, task).items()}
    item = db.client.get_item(TableName=db.table, Key=key, ConsistentRead=True)["Item"]
    return {"eventSource": "aws:dynamodb", "eventName": "MODIFY" if old else "INSERT",
            "dynamodb": {"Keys": key, "NewImage": item, **({"OldImage": old} if old else {}),
                         "SequenceNumber": str(seq)}}


@pytest.mark.usefixtures("moto_table", "controlled_clock")
def test_routing_uses_only_the_declared_actions(monkeypatch: pytest.MonkeyPatch) -> None:
    seed()
    sent: list[dict[str, Any]] = []

    class Queue:
        def send_message(self, **kw: Any) -> None:
            sent.append(kw)

    monkeypatch.setenv("BATON_OFFER_QUEUE_URL", "https://sqs.example/offers")
    get_settings.cache_clear()
    monkeypatch.setattr(function, "_sqs", Queue)
    for gid, routing in (("rr", {"strategy": "round-robin"}), ("of", {"strategy": "least-loaded",
                                                                       "offerSeconds": 30})):
        assert call("PUT", f"/api/v1/groups/{gid}", {"name": gid, "members": ["alice", "bob"], "routing": routing},
                    user="root", roles=ADMIN).status == 201
    for t, g in (("a1", "rr"), ("a2", "rr"), ("o1", "of")):
        create_task(t, candidateGroups=[g])
    used: set[str] = set()

    def record(model: Any, params: dict[str, Any], **_: Any) -> None:
        used.update(iam_actions(model.name, params))

    get_dynamo().client.meta.events.register("before-parameter-build.dynamodb", record)
    assert function.lambda_handler({"Records": [stream("a1", 1), stream("a2", 2), stream("o1", 3)]}, None) == {
        "batchItemFailures": []}
    offered = stream("o1", 4, {"status": {"S": "open"}})
    function.lambda_handler({"Records": [offered]}, None)  # the offer's timer
    assert call("POST", "/api/v1/tasks/o1/action/reject", user="alice").status == 200
    function.lambda_handler({"Records": [stream("o1", 5, offered["dynamodb"]["NewImage"])]}, None)  # to bob
    clock.advance(31)
    for user in ("alice", "bob"):
        assert call("PUT", f"/api/v1/users/{user}/presence", {"status": "away"}, user=user).status == 200
    [*_, last] = sent
    function.lambda_handler({"Records": [{"eventSource": "aws:sqs", "messageId": "m", "body": last["MessageBody"]}]},
                            None)  # expired, nobody available: withdrawn
    assert call("GET", "/api/v1/tasks/o1").body["offeredTo"] is None
    back = {"eventSource": "aws:dynamodb", "eventName": "MODIFY", "dynamodb": {
        "Keys": {k: {"S": v} for k, v in Keys.user(TENANT, "alice").items()}, "SequenceNumber": "9",
        "NewImage": {"userId": {"S": "alice"}, "groups": {"SS": ["of", "ops", "rr"]}, "presence": {"S": "available"}},
        "OldImage": {"userId": {"S": "alice"}, "groups": {"SS": ["of", "ops", "rr"]}, "presence": {"S": "away"}}}}
    assert call("PUT", "/api/v1/users/alice/presence", {"status": "available"}, user="alice").status == 200
    function.lambda_handler({"Records": [back]}, None)  # alice is back: the queue's head is offered to her
    assert call("GET", "/api/v1/tasks/o1").body["offeredTo"] == "alice"
    assert used <= set(ROUTER_ACTIONS), sorted(used - set(ROUTER_ACTIONS))
    assert {"GetItem", "BatchGetItem", "Query", "PutItem", "UpdateItem"} <= used, used
    assert json.loads(last["MessageBody"])["taskId"] == "o1"
