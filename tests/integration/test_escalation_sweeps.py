"""Escalation steps on DynamoDB Local with real processes (API.md "Time: escalation ladders"):
several sweepers at once fire each due step exactly once; a `baton serve` killed outright while
steps were pending fires them after it restarts. These run in real time (separate processes
have their own clocks): the steps are made due by their `dueDate`, and the tests wait for the
server's sweeper, never for a fixed time when they can poll."""

from __future__ import annotations

import json
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from baton.settings import get_settings
from baton_local.ddblocal import DynamoDBLocal
from tests.support import ADMIN, call, history, seed
from tests.support.localserver import BATON, Server, on_engine, request, token

pytestmark = pytest.mark.ddblocal


def _stamp(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _due_in(seconds: float) -> str:
    """A dueDate whose `from: due, after: PT1M` step falls due `seconds` from now."""
    return _stamp(datetime.now(UTC) + timedelta(seconds=seconds) - timedelta(minutes=1))


STEP = {"id": "late", "after": "PT1M", "from": "due", "action": "raise-priority", "priority": 90}


def test_several_sweepers_at_once_fire_each_step_once(local_table: str, ddb_local: DynamoDBLocal) -> None:
    seed()
    tasks = [f"race-{n}" for n in range(60)]
    for task in tasks:
        r = call("POST", "/api/v1/tasks", {"id": task, "name": task, "candidateGroups": ["ops"],
                                           "dueDate": _due_in(-5), "escalations": [STEP]}, user="root", roles=ADMIN)
        assert r.status == 201, r
    table = get_settings().table_name
    assert table is not None
    sweepers = [subprocess.Popen([BATON, "sweep", "--once", "--dynamodb-endpoint", ddb_local.endpoint,
                                  "--table", table], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                for _ in range(4)]
    reports = []
    for proc in sweepers:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err[-3000:]
        reports.append(json.loads(out.strip().splitlines()[-1]))
    assert sum(r["fired"] for r in reports) == len(tasks), reports  # each firing counted by one sweeper only
    for task in tasks:
        fired = [e for e in history(task) if e["action"] == "escalated"]
        assert len(fired) == 1, (task, fired)


def _get(server: Server, admin: str, task: str) -> dict[str, Any]:
    status, body = request(server.base, "GET", f"/api/v1/tasks/{task}", admin)
    assert status == 200, body
    return dict(body)


# Long enough to create the tasks and kill the server before the first falls due (asserted
# below: `killed` is before every `dueAt`), at a loaded machine's pace (7 requests).
DUE_IN = 10


def test_steps_due_while_the_server_was_killed_fire_after_restart(tmp_path: Path, ddb_local: DynamoDBLocal) -> None:
    engine = on_engine(ddb_local)
    first = Server(tmp_path, *engine).start()
    admin = token(tmp_path, "admin", "admin")
    tasks = [f"kill-{n}" for n in range(5)]
    try:
        for task in tasks:
            status, body = request(first.base, "POST", "/api/v1/tasks", admin, {
                "id": task, "name": task, "candidateGroups": ["ops"], "dueDate": _due_in(DUE_IN),
                "escalations": [STEP]})
            assert status == 201, body
        status, done = request(first.base, "POST", "/api/v1/tasks", admin, {
            "id": "kill-done", "name": "done", "candidateUsers": ["admin"], "dueDate": _due_in(DUE_IN),
            "escalations": [STEP]})
        assert status == 201, done
        assert request(first.base, "POST", "/api/v1/tasks/kill-done/action/complete", admin)[0] == 200
    finally:
        assert first.proc is not None
        first.proc.kill()  # SIGKILL before any step is due: nothing fired, nothing cleaned up
        first.proc.wait(10)
    killed = _stamp(datetime.now(UTC))
    second = Server(tmp_path, *engine).start()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            shown = [_get(second, admin, t) for t in tasks]
            if all(t["escalations"][0]["firedAt"] for t in shown):
                break
            time.sleep(0.2)
        assert killed < min(t["escalations"][0]["dueAt"] for t in shown)  # killed before any was due
        for fired in shown:
            step = fired["escalations"][0]
            assert step["firedAt"] and step["firedAt"] >= step["dueAt"], fired
            assert step["firedAt"] > killed and fired["priority"] == 90  # fired by the restarted server
        finished = _get(second, admin, "kill-done")
        assert finished["escalations"][0]["firedAt"] is None and finished["priority"] == 50  # finished first
    finally:
        second.stop()
