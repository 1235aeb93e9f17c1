"""Step Functions callbacks end to end: `baton serve --states-endpoint` against an endpoint that
records calls over real HTTP. A task created with a task token ends its waiting execution when it
is completed (SendTaskSuccess with how it ended) or abandoned (SendTaskFailure), a heartbeat
sends SendTaskHeartbeat; a fault in the middle is retried; a restarted server re-reads its
stream and calls nothing twice."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from baton_local.ddblocal import DynamoDBLocal
from baton_local.harness import Server, request
from tests.support.localserver import on_engine, token
from tests.support.states import StatesEndpoint

TOKEN = "AAAAKgAAAAIAAAAAAAAAAf-the-execution-waits-Zz9"


@pytest.fixture(scope="module")
def states() -> Iterator[StatesEndpoint]:
    endpoint = StatesEndpoint()
    yield endpoint
    endpoint.close()


@pytest.fixture(scope="module")
def engine_args(ddb_local: DynamoDBLocal) -> tuple[str, ...]:
    return on_engine(ddb_local)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, engine_args: tuple[str, ...],
           states: StatesEndpoint) -> Iterator[Server]:
    srv = Server(tmp_path_factory.mktemp("baton-state"), *engine_args, "--states-endpoint", states.url).start()
    yield srv
    srv.stop()


def waiting_task(server: Server, **fields: Any) -> str:
    task_id = f"wf-{uuid.uuid4().hex[:8]}"
    admin = token(server.state, "admin", "admin")
    status, body = request(server.base, "POST", "/api/v1/tasks", admin, {
        "id": task_id, "name": "Approve the order", "candidateUsers": ["alice"],
        "callback": {"stepFunctionsTaskToken": TOKEN}, **fields})
    assert status == 201, body
    assert body["callback"] == {"stepFunctionsTaskToken": "…ts-Zz9"}
    return task_id


def act(server: Server, task_id: str, action: str, body: Any = None) -> Any:
    status, answer = request(server.base, "POST", f"/api/v1/tasks/{task_id}/action/{action}",
                             token(server.state, "alice", "operations"), body)
    assert status == 200, answer
    return answer


def test_complete_ends_the_execution_with_the_outcome_and_a_fault_is_retried(server: Server,
                                                                              states: StatesEndpoint) -> None:
    task_id = waiting_task(server, leaseSeconds=300)
    act(server, task_id, "claim")
    seen = len(states.calls)  # counted before the heartbeat, which may be delivered before the complete
    act(server, task_id, "heartbeat", {"leaseSeconds": 600})
    states.faults.append("ServiceUnavailable")  # the next call fails: delivered on a retry
    done = act(server, task_id, "complete", {"outcome": "approved", "variables": {"limit": 250.5}})
    calls = states.wait_for(seen + 2)
    mine = [(op, body) for op, body in calls if body.get("taskToken") == TOKEN]
    assert [op for op, _ in mine][-2:] == ["SendTaskHeartbeat", "SendTaskSuccess"]
    output = json.loads(mine[-1][1]["output"])
    assert output == {"taskId": task_id, "outcome": "approved", "variables": {"limit": 250.5},
                      "completedBy": "alice", "completedAt": done["completedAt"]}


def test_abandon_fails_the_execution(server: Server, states: StatesEndpoint) -> None:
    task_id = waiting_task(server)
    act(server, task_id, "claim")
    seen = len(states.calls)
    act(server, task_id, "abandon", {"comment": "cannot"})
    op, body = states.wait_for(seen + 1)[seen]
    assert op == "SendTaskFailure" and body["error"] == "Baton.TaskAbandoned" and task_id in body["cause"]


def test_a_restarted_server_calls_nothing_twice(tmp_path_factory: pytest.TempPathFactory, server: Server,
                                                engine_args: tuple[str, ...], states: StatesEndpoint) -> None:
    task_id = waiting_task(server)
    act(server, task_id, "claim")
    seen = len(states.calls)  # counted before the complete, whose call may come before the next line
    act(server, task_id, "complete", {"outcome": "ok"})
    before = states.wait_for(seen + 1)
    # a second server on the same table reads the whole stream again, every completion included
    again = Server(tmp_path_factory.mktemp("baton-state"), *engine_args, "--states-endpoint", states.url).start()
    try:
        later = waiting_task(again)
        act(again, later, "claim")
        act(again, later, "complete")
        states.wait_for(len(before) + 1)
        # the first server is still reading the same stream: give both a moment to do anything twice
        after = states.wait_for(len(before) + 3, timeout=5)
        assert after[len(before):] and [op for op, _ in after[len(before):]] == ["SendTaskSuccess"]
        assert json.loads(after[len(before)][1]["output"])["taskId"] == later
    finally:
        again.stop()
