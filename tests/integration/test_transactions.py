"""Every transaction path handles cancellations by their cause (issue 12, item 5): a conflict
with another transaction is retried, then a 409 in the route's dialect (never a 500); a
cancellation that is neither a condition failure nor a conflict (a ValidationError) is its own
400, not "changing too fast". Injected at botocore's HTTP layer on DynamoDB Local, as in
tests/integration/test_faults.py, for TransactWriteItems only."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse, HTTPHeaders

from baton.storage.dynamo import TRANSACTION_ATTEMPTS, get_dynamo
from tests.support import ADMIN, OPS, before_send_hooks, call, get_task, history, seed


class Cancel:
    """Cancels the next `times` TransactWriteItems with the given reason code."""

    def __init__(self, code: str, times: int) -> None:
        self.code, self.left, self.sent = code, times, 0

    def __call__(self, request: Any, **_: Any) -> AWSResponse | None:
        target = request.headers.get("X-Amz-Target") or b""
        target = target.decode() if isinstance(target, bytes) else str(target)
        if not target.endswith(".TransactWriteItems") or self.left <= 0:
            return None
        self.left -= 1
        self.sent += 1
        body = json.dumps({"__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
                           "message": "Transaction cancelled", "CancellationReasons": [
                               {"Code": self.code, "Message": "injected"}, {"Code": "None"}]})

        class Raw:
            def stream(self, **_: Any) -> Iterator[bytes]:
                yield body.encode()

        headers = HTTPHeaders()
        headers["x-amzn-ErrorType"] = "TransactionCanceledException"
        return AWSResponse(request.url, 400, headers, Raw())


@pytest.fixture
def cancel(local_table: str) -> Iterator[Any]:
    seed()
    with before_send_hooks(get_dynamo().client) as install:
        yield lambda code, times=1000: install(Cancel(code, times))


PM = "/api/1.0/acme/project/prj/activity/act/assignee"
PATHS = [  # (method, path, body, the answer's keys, status when it goes through)
    ("POST", "/api/v1/tasks", {"id": "t-new", "name": "New"}, {"message", "code"}, 201),
    ("POST", PM, {"aas_uid": "bob", "aas_type": "user"}, {"error"}, 201),
    ("DELETE", PM + "/alice", None, {"error"}, 200),
    ("PUT", "/api/v1/groups/crew", {"name": "Crew", "members": ["carol"]}, {"message", "code"}, 201),
    ("POST", "/operations-manager/tasks/t1/claim", None, {"message"}, 200),
]


def _unchanged() -> None:
    assert call("GET", "/api/v1/tasks/t-new").status == 404
    assert sorted(a["aas_uid"] for a in call("GET", PM).body) == ["alice", "ops"]
    assert call("GET", "/api/v1/users", query={"filter": "carol"}).body["items"][0].get("id") == "carol"
    assert get_task("t1").body["version"] == 1 and len(history("t1")) == 1


def caller_for(path: str) -> dict[str, Any]:
    """alice claims the group task t1 through her group (a transaction); root does the rest."""
    return {"user": "alice", "roles": OPS} if "claim" in path else {"user": "root", "roles": ADMIN + ("PM_FACTORY",)}


@pytest.mark.parametrize(("method", "path", "body", "keys", "ok"), PATHS, ids=[f"{p[0]} {p[1]}" for p in PATHS])
def test_a_lasting_conflict_is_409_and_a_passing_one_is_retried(cancel: Any, method: str, path: str, body: Any,
                                                                 keys: set[str], ok: int) -> None:
    who = caller_for(path)
    fault = cancel("TransactionConflict")
    r = call(method, path, body, **who)
    assert r.status == 409 and set(r.body) == keys, r
    assert fault.sent >= TRANSACTION_ATTEMPTS
    fault.left = 0
    _unchanged()
    cancel("TransactionConflict", TRANSACTION_ATTEMPTS - 1)  # conflicts that pass: retried, then done
    assert call(method, path, body, **who).status == ok  # type: ignore[arg-type]


@pytest.mark.parametrize(("method", "path", "body", "keys", "ok"), PATHS, ids=[f"{p[0]} {p[1]}" for p in PATHS])
def test_a_validation_cancellation_is_400_not_changing_too_fast(cancel: Any, method: str, path: str, body: Any,
                                                                keys: set[str], ok: int) -> None:
    who = caller_for(path)
    fault = cancel("ValidationError")
    r = call(method, path, body, **who)
    assert r.status == 400 and set(r.body) == keys, r
    assert "too fast" not in json.dumps(r.body)
    assert fault.sent == 1  # not retried: it cannot get better
    fault.left = 0
    _unchanged()
