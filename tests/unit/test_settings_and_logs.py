"""Issue 12, item 8: a group PUT answers the stored members, each function logs under its own
service name, and a deployed function without TABLE_NAME refuses to guess."""

from __future__ import annotations

import json

import pytest

from baton.settings import get_settings
from baton.storage.dynamo import get_dynamo
from tests.support import ADMIN, call, captured_logs, seed


def test_put_group_answers_the_stored_deduplicated_members(moto_table: str) -> None:
    seed()
    r = call("PUT", "/api/v1/groups/crew", {"name": "Crew", "members": ["alice", "bob", "alice", "bob"]},
             user="root", roles=ADMIN)
    assert r.status == 201 and r.body["members"] == ["alice", "bob"], r
    r = call("PUT", "/api/v1/groups/crew", {"name": "Crew", "members": ["carol", "carol"]}, user="root", roles=ADMIN)
    assert r.status == 200 and r.body["members"] == ["carol"], r


def test_functions_log_their_own_service_name(moto_table: str, monkeypatch: pytest.MonkeyPatch) -> None:
    try:
        with captured_logs("INFO") as buffer:
            for service in ("baton-itential", "baton-tasks"):
                monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", service)
                get_settings.cache_clear()
                call("GET", "/api/v1/tasks/nope")  # a 404: logged at INFO
                lines = [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]
                assert lines and lines[-1]["service"] == service, lines[-1:]
    finally:
        monkeypatch.delenv("POWERTOOLS_SERVICE_NAME")
        get_settings.cache_clear()
        call("GET", "/api/v1/tasks/nope")  # back to the default name for whoever logs next


def test_table_name_is_required_in_lambda(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TABLE_NAME", raising=False)
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "baton-tasks")
    get_settings.cache_clear()
    try:
        with pytest.raises(RuntimeError, match="TABLE_NAME"):
            get_dynamo()
        r = call("GET", "/api/v1/tasks/t1")  # a configuration fault: 500, never a guessed table
        assert r.status == 500
    finally:
        get_settings.cache_clear()
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME")
    assert get_settings().table_name == "baton"  # outside Lambda the local default stays
    get_settings.cache_clear()
