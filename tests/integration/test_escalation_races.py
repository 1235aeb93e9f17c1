"""Never twice, never stale, never lost (API.md "Time: escalation ladders"), as races on DynamoDB
Local where threads really run at once:

- sweepers that all read a task while its step is due, before any of them writes (held at a
  barrier between their read and their write), fire the step exactly once: the write is
  conditioned on the state it was checked on, and the losers decide again and find it fired;
- a task completed while sweepers fire its steps never gets a step after its completion;
- a write that fails (DynamoDB answering 500 to the transaction) arms nothing: no timer, nothing
  fires later.

Time moves through baton.clock; nothing sleeps. A mutation check (run by hand): with both guards
of the firing write left out, the task's condition (`Change.task_rule` pinning only the status)
and the history event's (its Put without `attribute_not_exists`), the first test fails: all six
sweepers fire. Either guard alone keeps it to one."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse, HTTPHeaders
from botocore.retries.standard import ExponentialBackoff

from baton import clock
from baton.domain import Caller
from baton.storage.dynamo import _client, get_dynamo
from baton.table import GSI_TIMERS, INDEXES
from baton.tasks.service import TaskService
from baton.tasks.sweeper import Escalator, Sweeper
from tests.support import ADMIN, TENANT, before_send_hooks, call, create_task, get_task, history, native, seed

pytestmark = [pytest.mark.ddblocal, pytest.mark.usefixtures("controlled_clock")]
MINUTE = 60
SWEEPERS = 6
LADDERS: dict[str, list[dict[str, Any]]] = {
    "notify": [{"id": "s", "after": "PT5M", "action": "notify"}],
    "priority": [{"id": "s", "after": "PT5M", "action": "raise-priority", "priority": 90}],
    "offer": [{"id": "s", "after": "PT5M", "action": "offer", "to": {"users": ["carol"]}}],
    "reassign": [{"id": "s", "after": "PT5M", "action": "reassign", "to": {"users": ["dave"]}}],
    "release": [{"id": "s", "after": "PT5M", "from": "claimed", "action": "release"}],
}


def escalated(task_id: str) -> list[dict[str, Any]]:
    return [e for e in history(task_id) if e["action"] == "escalated"]


def timer_keys() -> list[dict[str, Any]]:
    """Every item of the timer index (a test's table is small: one Scan of the index)."""
    db = get_dynamo()
    return list(db.client.scan(TableName=db.table, IndexName=GSI_TIMERS,
                               ProjectionExpression=INDEXES[GSI_TIMERS][1]).get("Items", []))


def held_at_barriers(read_all: threading.Barrier, decided_all: threading.Barrier) -> Escalator:
    """An escalator that, on its first pass, waits after its first read until every sweeper has read
    the task, and before its first write until every sweeper has decided: they all decide on the
    same state, then race to write it."""
    escalator = Escalator(get_dynamo())
    real_read, real_write = escalator._read, escalator.tasks.write
    first_read, first_write = [True], [True]

    def read(tenant: str, task_id: str, *users: str) -> Any:
        seen = real_read(tenant, task_id, *users)
        if first_read[0]:
            first_read[0] = False
            read_all.wait(timeout=60)
        return seen

    def write(tenant: str, change: Any) -> None:
        if first_write[0]:
            first_write[0] = False
            decided_all.wait(timeout=60)
        real_write(tenant, change)
    escalator._read = read  # type: ignore[method-assign]
    escalator.tasks.write = write  # type: ignore[method-assign]
    return escalator


@pytest.mark.parametrize("action", sorted(LADDERS))
def test_sweepers_that_read_the_same_due_state_fire_it_once(local_table: str, action: str) -> None:
    seed()
    tasks = [f"{action}-{n}" for n in range(4)]
    for task in tasks:
        create_task(task, candidateGroups=["ops"], escalations=LADDERS[action])
        if action == "release":
            assert native("claim", task, "alice").status == 200
    clock.advance(5 * MINUTE)
    for task in tasks:
        read_all, decided_all = threading.Barrier(SWEEPERS), threading.Barrier(SWEEPERS)
        sweepers = [held_at_barriers(read_all, decided_all) for _ in range(SWEEPERS)]
        with ThreadPoolExecutor(SWEEPERS) as pool:
            fired = list(pool.map(lambda e, t=task: e.fire_due(TENANT, t), sweepers))
        assert sorted(len(f) for f in fired) == [0] * (SWEEPERS - 1) + [1], (task, fired)
        events = history(task)
        assert len(escalated(task)) == 1, events
        assert [e["version"] for e in events] == list(range(1, len(events) + 1))  # one event per version
    assert Sweeper(get_dynamo()).sweep().fired == 0  # nothing left to fire


def test_a_task_completed_while_sweepers_fire_gets_no_step_after_its_completion(local_table: str) -> None:
    seed()
    ladder = [{"id": f"s{n}", "after": f"PT{n + 1}M", "action": "raise-priority", "priority": 60 + n}
              for n in range(5)]
    tasks = [f"done-{n}" for n in range(12)]
    for task in tasks:
        create_task(task, candidateUsers=["alice"], escalations=ladder)
        assert native("claim", task, "alice").status == 200
    clock.advance(10 * MINUTE)  # every step of every task is due
    alice = TaskService(get_dynamo(), Caller(user_id="alice", username="alice", tenant=TENANT,
                                             roles=frozenset({"operations"})))
    start = threading.Barrier(3)

    def sweeper() -> int:
        start.wait(timeout=60)
        return sum(len(Escalator(get_dynamo()).fire_due(TENANT, t)) for t in tasks)

    def completer() -> None:
        start.wait(timeout=60)
        for task in reversed(tasks):
            alice.finish(task, "completed")
    with ThreadPoolExecutor(3) as pool:
        sweeps = [pool.submit(sweeper), pool.submit(sweeper)]
        finished = pool.submit(completer)
        total = sum(r.result() for r in sweeps)
        finished.result()
    fired = 0
    for task in tasks:
        events = history(task)
        done = next(e["version"] for e in events if e["action"] == "complete")
        steps = [e for e in events if e["action"] == "escalated"]
        assert all(e["version"] < done for e in steps), events  # never after the completion
        assert len({e["reason"] for e in steps}) == len(steps)  # each step at most once
        assert get_task(task).body["status"] == "completed"
        fired += len(steps)
    assert total == fired
    assert Sweeper(get_dynamo()).sweep().fired == 0 and timer_keys() == []  # finished tasks hold no timer


class FailTransactions:
    """Answers every TransactWriteItems with a 500 (the SDK retries it, then gives up)."""

    def __call__(self, request: Any, **_: Any) -> AWSResponse | None:
        if request.headers.get("X-Amz-Target", b"") not in (b"DynamoDB_20120810.TransactWriteItems",
                                                               "DynamoDB_20120810.TransactWriteItems"):
            return None
        body = json.dumps({"__type": "com.amazonaws.dynamodb.v20120810#InternalServerError", "message": "injected"})

        class Raw:
            def stream(self, **_: Any) -> Iterator[bytes]:
                yield body.encode()

        headers = HTTPHeaders()
        headers["x-amzn-ErrorType"] = "InternalServerError"
        return AWSResponse(request.url, 500, headers, Raw())


def test_a_write_that_failed_arms_nothing(local_table: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ExponentialBackoff, "delay_amount", lambda self, context: 0)
    _client.cache_clear()  # a client of its own: the session's may have spent its retry quota
    seed()
    create_task("edited", candidateGroups=["ops"])
    create_task("claimed", candidateGroups=["ops"],
                escalations=[{"id": "held", "after": "PT5M", "from": "claimed", "action": "release"}])
    ladder = [{"id": "late", "after": "PT5M", "action": "notify"}]
    with before_send_hooks(get_dynamo().client) as install:
        install(FailTransactions())
        made = call("POST", "/api/v1/tasks", {"id": "made", "name": "made", "candidateGroups": ["ops"],
                                              "escalations": ladder}, user="root", roles=ADMIN)
        edited = call("PATCH", "/api/v1/tasks/edited", {"escalations": ladder}, user="root", roles=ADMIN)
        claimed = native("claim", "claimed", "alice")
    assert (made.status, edited.status, claimed.status) == (503, 503, 503), (made, edited, claimed)
    assert timer_keys() == []  # no write, no timer
    assert get_task("made").status == 404 and get_task("edited").body["escalations"] == []
    assert get_task("claimed").body["escalations"][0]["dueAt"] is None
    clock.advance(MINUTE * 60)
    assert Sweeper(get_dynamo()).sweep().fired == 0
    assert escalated("edited") == [] and escalated("claimed") == []
