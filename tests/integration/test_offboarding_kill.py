"""Offboarding killed half way, for real (issue 27 item 3; API.md "Absence, delegation,
offboarding": "resumable: a second call finishes what a failed one left, and never moves a task
twice"): a `baton serve` process on DynamoDB Local is killed with SIGKILL (its worker processes
die with it) while it offboards a user holding many tasks; a restarted server's second call
finishes the rest, and no task is moved twice. Real processes have their own clocks: the test
polls, never sleeps for a fixed time when it can poll."""

from __future__ import annotations

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from baton_local.ddblocal import DynamoDBLocal
from tests.support.localserver import Server, on_engine, request, token

pytestmark = pytest.mark.ddblocal

TASKS = 120  # enough that the offboarding is still moving them when the kill comes


def held(server: Server, tok: str, uid: str) -> set[str]:
    status, body = request(server.base, "GET", f"/api/v1/tasks?assignee={uid}&status=open&limit=100", tok)
    assert status == 200, body
    found = {t["id"] for t in body["items"]}
    while body["cursor"]:
        status, body = request(server.base, "GET",
                               f"/api/v1/tasks?assignee={uid}&status=open&limit=100&cursor={body['cursor']}", tok)
        assert status == 200, body
        found |= {t["id"] for t in body["items"]}
    return found


def users(server: Server, tok: str) -> dict[str, dict[str, Any]]:
    status, body = request(server.base, "GET", "/api/v1/users?limit=100", tok)
    assert status == 200, body
    return {u["id"]: u for u in body["items"]}


def test_an_offboarding_killed_half_way_is_finished_by_a_second_call_and_no_task_moves_twice(
        tmp_path: Path, ddb_local: DynamoDBLocal) -> None:
    engine = on_engine(ddb_local)
    first = Server(tmp_path, *engine).start()
    admin, alice = token(tmp_path, "admin", "admin"), token(tmp_path, "alice", "operations")
    ids = [f"leave-{n:03d}" for n in range(TASKS)]
    try:
        def create(task: str) -> None:
            status, body = request(first.base, "POST", "/api/v1/tasks", admin,
                                   {"id": task, "name": task, "candidateUsers": ["alice", "bob"]})
            assert status == 201, body

        with ThreadPoolExecutor(4) as pool:  # the server's worker processes answer them side by side
            list(pool.map(create, ids))
        for chunk in (ids[:100], ids[100:]):
            status, body = request(first.base, "POST", "/api/v1/task-actions/claim", alice, {"taskIds": chunk})
            assert status == 200 and {r["status"] for r in body["results"]} == {200}, body
        assert held(first, admin, "alice") == set(ids)
        answers: list[Any] = []

        def offboard() -> None:
            try:
                answers.append(request(first.base, "POST", "/api/v1/users/alice/offboard", admin, {"to": "bob"}))
            except Exception as err:  # noqa: BLE001 - the server died under the request (reset, disconnected)
                answers.append(err)

        caller = threading.Thread(target=offboard, daemon=True)
        caller.start()
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and len(held(first, admin, "bob")) < 5:
            time.sleep(0.02)
    finally:
        assert first.proc is not None
        first.proc.kill()  # SIGKILL, half way: no cleanup, no answer
        first.proc.wait(10)
    caller.join(30)
    assert answers and not (isinstance(answers[0], tuple) and answers[0][0] == 200), answers  # it did not finish

    second = Server(tmp_path, *engine).start()
    try:
        before = held(second, admin, "bob")
        assert 5 <= len(before) < TASKS, len(before)  # killed half way
        assert users(second, admin)["alice"]["active"] is False  # the first step had been written
        status, report = request(second.base, "POST", "/api/v1/users/alice/offboard", admin, {"to": "bob"})
        assert status == 200, report
        mine = [r for r in report["results"] if r["taskId"] in ids]  # (the demo's tasks naming alice aside)
        finished = {r["taskId"] for r in mine if r["status"] == 200}
        assert {(r["outcome"], r["assignee"]) for r in mine} == {("reassigned", "bob")}, mine[:3]
        assert not finished & before and finished | before == set(ids)  # the rest, and only the rest
        assert held(second, admin, "bob") == set(ids) and held(second, admin, "alice") == set()
        def moved(task: str) -> int:
            status, page = request(second.base, "GET", f"/api/v1/tasks/{task}/history?limit=100", admin)
            assert status == 200, page
            return len([e for e in page["items"] if e["reason"] == "offboarding"])

        with ThreadPoolExecutor(4) as pool:
            moves: Counter[int] = Counter(pool.map(moved, ids))
        assert moves == {1: TASKS}, moves  # each task moved exactly once across both calls
        found = users(second, admin)
        assert (found["alice"]["load"], found["bob"]["load"]) == (0, TASKS)
        status, again = request(second.base, "POST", "/api/v1/users/alice/offboard", admin, {"to": "bob"})
        assert status == 200 and again["results"] == [], again
    finally:
        second.stop()
