"""Logs: structured JSON, a correlation id per request (API Gateway's request id), and never a
bearer token or an email address, over a full run of every route."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator

import pytest

from baton.edge.observability import logger
from tests.support import ADMIN, call, captured_logs, claim, seed

EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")


@pytest.fixture
def captured(moto_table: str) -> Iterator[io.StringIO]:
    with captured_logs("DEBUG") as buffer:
        yield buffer


def test_every_line_is_json_with_a_correlation_id_and_no_secrets(captured: io.StringIO) -> None:
    seed()
    call("PUT", "/api/v1/users/erin", {"username": "erin", "email": "erin.secret@example.com"}, user="root",
         roles=ADMIN, headers={"Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.secret.sig"})
    claim("t1", "alice", headers={"Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.secret.sig"})
    claim("t1", "bob")  # a 409
    call("GET", "/api/v1/users", query={"filter": "erin"})
    call("POST", "/operations-manager/tasks/t1/claim", "{broken")
    lines = [line for line in captured.getvalue().splitlines() if line.strip()]
    handled = [json.loads(line) for line in lines if "request handled" in line]
    # each request once, the body refused before routing too (seed's requests may come first)
    assert [(h["route"], h["status"]) for h in handled][-5:] == [
        ("PUT /api/v1/users/{userId}", 201), ("POST /operations-manager/tasks/{taskId}/claim", 200),
        ("POST /operations-manager/tasks/{taskId}/claim", 409), ("GET /api/v1/users", 200),
        ("POST /operations-manager/tasks/{taskId}/claim", 400)]
    ids = [h["correlation_id"] for h in handled]
    assert all(ids) and len(set(ids)) == len(ids)
    for h in handled:  # the Lambda context, as Powertools' inject_lambda_context would give it
        assert h["function_name"] == "baton-local" and h["function_request_id"] and h["function_memory_size"] == 512
        assert isinstance(h["cold_start"], bool)
    for line in lines:
        record = json.loads(line)
        assert record["level"] and record["service"]
        assert "Bearer" not in line and "eyJ" not in line, line
        assert not EMAIL.search(line), line


def test_at_info_only_refusals_are_logged(captured: io.StringIO) -> None:
    """API Gateway's access log has every request; the function logs refusals and faults (and,
    at DEBUG, every request)."""
    seed()
    logger.setLevel("INFO")
    captured.seek(0)
    captured.truncate()
    claim("t1", "alice")
    assert "request handled" not in captured.getvalue()
    claim("t1", "bob")  # a 409
    handled = [json.loads(line) for line in captured.getvalue().splitlines() if "request handled" in line]
    assert [(h["level"], h["status"], h["user"]) for h in handled] == [("INFO", 409, "bob")]



def test_a_fault_inside_a_request_carries_its_correlation_id(captured: io.StringIO,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    seed()

    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr("baton.tasks.service.TaskService.claim", broken)
    reply = claim("t1", "alice")
    assert reply.status == 500
    faults = [json.loads(line) for line in captured.getvalue().splitlines() if "unexpected fault" in line]
    assert len(faults) == 1 and faults[0]["level"] == "ERROR" and faults[0]["correlation_id"]
    assert "boom" in faults[0]["exception"]
