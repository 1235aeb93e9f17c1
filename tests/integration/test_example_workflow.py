"""The example workflow's human step (infra/example_workflow/create_task.py, what its Step
Functions task state invokes with the task token) against `baton serve` over real HTTP: it signs
in with client credentials at Baton's `POST /oauth/token` and creates the task with
`callback: {"stepFunctionsTaskToken": ...}`, under an id derived from the execution and state so
that a retried invocation finds the same task. tests/infra/test_construct.py synthesizes the
state machine."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from baton_local.ddblocal import DynamoDBLocal
from infra.example_workflow import create_task
from tests.support.localserver import BATON, Server, on_engine, request, token

pytestmark = pytest.mark.xdist_group("example_workflow")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, ddb_local: DynamoDBLocal) -> Iterator[Server]:
    srv = Server(tmp_path_factory.mktemp("baton-state"), *on_engine(ddb_local)).start()
    subprocess.run([BATON, "credentials", "client", "workflow-engine", "--secret", "engine-secret-1",
                    "--tenant", "workflow", "--roles", "apiwrite", "--state-dir", str(srv.state)], check=True,
                   capture_output=True)
    yield srv
    srv.stop()


@pytest.fixture
def lambda_env(server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BATON_API_URL", server.base)
    monkeypatch.setenv("BATON_CLIENT_ID", "workflow-engine")
    monkeypatch.setenv("BATON_CLIENT_SECRET", "engine-secret-1")
    monkeypatch.setattr(create_task, "_cache", {})


def invoke(execution: str, **task: Any) -> dict[str, Any]:
    return create_task.lambda_handler({"taskToken": "AQCEAAAAKgAAAAMAAAAA-secret-token", "execution": execution,
                                       "state": "AskAPerson", "task": task})


@pytest.mark.usefixtures("lambda_env")
def test_the_human_step_creates_the_task_with_its_callback(server: Server) -> None:
    execution = f"arn:aws:states:us-east-1:123456789012:execution:Example:{uuid.uuid4().hex}"
    first = invoke(execution, name="Approve PO 42", candidateGroups=["ops"], priority=70)
    assert first["created"] is True and first["taskId"] == create_task.task_id(execution, "AskAPerson")
    again = invoke(execution, name="Approve PO 42", candidateGroups=["ops"], priority=70)
    assert again == {"taskId": first["taskId"], "created": False}  # a retried invocation: the same task
    status, task = request(server.base, "GET", f"/api/v1/tasks/{first['taskId']}", token(server.state, "alice",
                                                                                           "operations"))
    assert status == 200 and task["candidateGroups"] == ["ops"] and task["createdBy"] == "workflow-engine"
    assert "secret-token" not in str(task)  # the token is kept, never shown back


@pytest.mark.usefixtures("lambda_env")
def test_refusals_fail_the_state(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BATON_CLIENT_SECRET", "wrong")
    with pytest.raises(create_task.BatonRefused, match="sign-in refused: 401"):
        invoke("arn:aws:states:::execution:Example:x", name="Nope")
