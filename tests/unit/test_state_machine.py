"""A hypothesis state machine: random claim, release, assign, unassign, reassign, complete and
abandon by random users, through the real handlers, on moto and on DynamoDB Local.

After every step, for every task of the run:
- at most one assignee, and only ever a user of the tenant;
- a finished (completed or abandoned) task never changes again, and every later action on it fails;
- the history replayed from the create event gives the task's assignee, status and candidates,
  each event starting from where the previous one left off (nothing lost or doubled);
- versions strictly increase: each change adds exactly one, the history is numbered 1..version,
  and a request that changed nothing leaves the version as it was.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from tests.support import ADMIN, OPS, call, get_task, history, seed

WORKERS = ("alice", "bob", "carol", "dave")
USERS = (*WORKERS, "root")
FINISHED = ("completed", "abandoned")
# Task shapes: a group queue task, a direct task, and one offered to two users and the group.
SHAPES = ({"candidateGroups": ["ops"]}, {"candidateUsers": ["carol"]},
          {"candidateUsers": ["alice", "dave"], "candidateGroups": ["ops"]})
OK = {200, 201}
REFUSED = {400, 403, 404, 409}


def roles(user: str) -> tuple[str, ...]:
    return ADMIN if user == "root" else OPS


def act(action: str, task: str, user: str, targets: list[str]) -> tuple[int, Any]:
    """One action through its route; the status and body."""
    kw: dict[str, Any] = {"user": user, "roles": roles(user)}
    if action in ("claim", "release"):
        r = call("POST", f"/operations-manager/tasks/{task}/{action}", **kw)
    elif action == "assign":
        r = call("POST", f"/operations-manager/tasks/{task}/assign", {"userId": targets[0]}, **kw)
    elif action == "unassign":
        r = call("POST", "/workspaces/secure/api/v1/txn/unassign", {"params": {"submitKey": task}}, **kw)
    elif action == "txn_assign":
        params = {"submitKey": task, **({"userKey": targets[0]} if user == "root" else {})}
        r = call("POST", "/workspaces/secure/api/v1/txn/assign", {"params": params}, **kw)
    elif action == "reassign":
        r = call("POST", f"/api/v1/tasks/{task}/action/reassign",
                 {"newStepUserIds": targets, "comment": "handing over"}, **kw)
    else:
        r = call("POST", f"/api/v1/tasks/{task}/action/{action}", {"comment": "done"}, **kw)
    return r.status, r.body


def replay(events: list[dict[str, Any]], candidates: list[str]) -> dict[str, Any]:
    """The task state the history describes; every event must start where the last one ended."""
    assert events and events[0]["action"] == "create" and events[0]["to"] == "open", events[:1]
    state: dict[str, Any] = {"assignee": None, "status": "open", "candidateUsers": list(candidates)}
    for event in events[1:]:
        if event["action"] in ("complete", "abandon"):
            assert event["from"] == state["status"] == "open", (event, state)
            state["status"] = event["to"]
            continue
        assert state["status"] == "open", ("a change after the end", event)
        assert event["from"] == state["assignee"], ("the event does not start from the holder", event, state)
        state["assignee"] = event["to"]
        if event.get("candidates"):
            assert event["to"] is None
            state["candidateUsers"] = event["candidates"]
    return state


def read_task(task_id: str) -> dict[str, Any]:
    """The task's own fields (the native read adds ConductorOne's `taskView` and `expanded`, and
    `mayHold` for the caller)."""
    return {k: v for k, v in get_task(task_id).body.items() if k not in ("taskView", "expanded", "mayHold")}


class Assignment(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        run = uuid.uuid4().hex[:8]
        self.tasks: list[str] = []
        self.candidates: dict[str, list[str]] = {}
        self.seen: dict[str, dict[str, Any]] = {}
        for i, shape in enumerate(SHAPES):
            task_id = f"sm-{run}-{i}"
            r = call("POST", "/api/v1/tasks", {"id": task_id, "name": f"Task {i}", **shape}, user="root",
                     roles=ADMIN)
            assert r.status == 201, r
            self.tasks.append(task_id)
            self.candidates[task_id] = list(shape.get("candidateUsers", []))
            self.seen[task_id] = r.body

    @rule(action=st.sampled_from(["claim", "release", "assign", "unassign", "txn_assign", "reassign", "complete",
                                  "abandon"]),
          task=st.integers(0, len(SHAPES) - 1), user=st.sampled_from(USERS),
          to=st.lists(st.sampled_from(WORKERS), min_size=1, max_size=3, unique=True))
    def step(self, action: str, task: int, user: str, to: list[str]) -> None:
        task_id = self.tasks[task]
        before = self.seen[task_id]
        status, body = act(action, task_id, user, to)
        assert status in OK | REFUSED, (action, user, status, body)
        after = read_task(task_id)
        if before["status"] in FINISHED:
            assert status in REFUSED, ("a finished task accepted an action", action, user, status, body)
        if status in REFUSED or after["version"] == before["version"]:
            assert after == before, ("refused or empty, yet the task changed", action, status, after, before)
        else:
            assert after["version"] == before["version"] + 1, (before, after)
        self.seen[task_id] = after

    @invariant()
    def tasks_agree_with_their_history(self) -> None:
        for task_id in self.tasks:
            task = read_task(task_id)
            assert task == self.seen[task_id], "a task changed outside any step"
            assert task["assignee"] is None or task["assignee"] in USERS
            events = history(task_id)
            assert [e["version"] for e in events] == list(range(1, task["version"] + 1))
            state = replay(events, self.candidates[task_id])
            assert state["assignee"] == task["assignee"]
            assert state["status"] == task["status"]
            assert state["candidateUsers"] == task["candidateUsers"]
            if task["status"] in FINISHED:
                assert events[-1]["action"] in ("complete", "abandon")


def test_random_actions_keep_the_invariants(backend: str) -> None:
    """A short run on moto in the unit tier (a moto call costs ~10 ms here even with
    tests/support/fastmoto.py); the full run on DynamoDB Local in the integration tier."""
    seed()
    run_state_machine_as_test(Assignment, settings=settings(
        max_examples=8 if backend == "ddblocal" else 5, stateful_step_count=20, deadline=None, derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]))


@pytest.mark.usefixtures("moto_table")
def test_replay_catches_a_broken_history() -> None:
    """The replay is a real check: a history that skips a holder or acts after the end fails it."""
    created = {"action": "create", "from": None, "to": "open"}
    good = [created, {"action": "claim", "from": None, "to": "alice"},
            {"action": "release", "from": "alice", "to": None}]
    assert replay(good, [])["assignee"] is None
    with pytest.raises(AssertionError):
        replay([created, {"action": "claim", "from": None, "to": "alice"},
                {"action": "claim", "from": None, "to": "bob"}], [])
    with pytest.raises(AssertionError):
        replay([created, {"action": "complete", "from": "open", "to": "completed"},
                {"action": "claim", "from": None, "to": "bob"}], [])

