"""Faults injected at the HTTP layer of botocore (so serialization, retries and parsing all
run): DynamoDB throttling and 5xx become 503 with Retry-After in each route's dialect, after
the SDK's retries, and nothing is written.

These run against DynamoDB Local: a `before-send` answer keeps the request from being sent
at all, whereas moto executes every request in its own `before-send` hook whatever answer
another hook gives."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse, HTTPHeaders
from botocore.retries.standard import ExponentialBackoff

from baton.storage.dynamo import _client, get_dynamo
from tests.support import ADMIN, OPS, before_send_hooks, call, get_task, history, seed


class Fault:
    """Answers every DynamoDB request with the given error until switched off."""

    def __init__(self, status: int, code: str) -> None:
        self.status, self.code, self.sent = status, code, 0

    def __call__(self, request: Any, **_: Any) -> AWSResponse:
        self.sent += 1
        body = json.dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{self.code}", "message": "injected"})

        class Raw:
            def stream(self, **_: Any) -> Iterator[bytes]:
                yield body.encode()

        headers = HTTPHeaders()
        headers["x-amzn-ErrorType"] = self.code
        return AWSResponse(request.url, self.status, headers, Raw())


@pytest.fixture
def inject(local_table: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    # The SDK's retries all run, without their backoff waits (up to seconds each): no sleeps.
    monkeypatch.setattr(ExponentialBackoff, "delay_amount", lambda self, context: 0)
    # A client of its own, as a fresh Lambda environment has: the session's shared one may have
    # spent its retry quota (botocore's token bucket) on the faults of earlier tests.
    _client.cache_clear()
    seed()
    with before_send_hooks(get_dynamo().client) as install:
        yield lambda status, code: install(Fault(status, code))


WRITES = [
    ("POST", "/operations-manager/tasks/t1/claim", None, {"message"}),
    ("POST", "/api/v1/tasks/t1/action/complete", None, {"message", "code"}),
    ("POST", "/workspaces/secure/api/v1/txn/assign", {"params": {"submitKey": "t1"}}, {"errorKey", "message"}),
    ("POST", "/api/v1/tasks/t1/action/reassign", {"newStepUserIds": ["bob"]}, {"code", "message", "details"}),
    ("POST", "/api/1.0/acme/project/prj/activity/act/assignee", {"aas_uid": "bob", "aas_type": "user"}, {"error"}),
]


@pytest.mark.parametrize(("status", "code"), [(400, "ProvisionedThroughputExceededException"),
                                              (400, "ThrottlingException"), (500, "InternalServerError"),
                                              (503, "ServiceUnavailable")])
@pytest.mark.parametrize(("method", "path", "body", "keys"), WRITES, ids=[w[1] for w in WRITES])
def test_throttling_and_5xx_are_503_with_retry_after(inject: Any, status: int, code: str, method: str, path: str,
                                                      body: Any, keys: set[str]) -> None:
    fault = inject(status, code)
    r = call(method, path, body, user="root", roles=ADMIN + OPS + ("PM_FACTORY",))
    assert r.status == 503, r
    assert r.headers["retry-after"] == "1"
    assert set(r.body) == keys
    assert fault.sent >= 2, "the SDK retried before giving up"
    get_dynamo().client.meta.events.unregister("before-send.dynamodb", fault)
    assert get_task("t1").body["version"] == 1 and len(history("t1")) == 1
    listed = call("GET", "/api/1.0/acme/project/prj/activity/act/assignee").body
    assert "bob" not in [a["aas_uid"] for a in listed]
