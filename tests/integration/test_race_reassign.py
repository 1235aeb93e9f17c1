"""Reassign racing with claim and with release, on DynamoDB Local: every round ends in a state
some serial order of the two requests gives, and the history tells the same story."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

import pytest

from tests.support import ADMIN, Reply, call, claim, concurrently, history, release

pytestmark = pytest.mark.usefixtures("functions_in_processes")

ROUNDS = 15


@pytest.fixture
def people(local_table: str) -> None:
    for u in ("h", "c", "x"):
        assert call("PUT", f"/api/v1/users/{u}", {"username": u}, user="root", roles=ADMIN).status == 201


@pytest.fixture(autouse=True)
def forced_switching() -> Iterator[None]:
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(old)


def together(*actions: Callable[[], Reply]) -> list[Reply]:
    return concurrently(list(actions))


def replay(events: list[dict[str, Any]]) -> str | None:
    """The assignee the history implies, checking versions run 1, 2, 3 … with no gap."""
    assert [e["version"] for e in events] == list(range(1, len(events) + 1))
    assignee = None
    for e in events:
        if e["action"] in ("claim", "assign", "reassign", "unassign", "release"):
            assert e["from"] == assignee, events
            assignee = e["to"]
    return assignee


def reassign_to_x(task: str) -> Reply:
    return call("POST", f"/api/v1/tasks/{task}/action/reassign", {"newStepUserIds": ["x"]}, user="h")


@pytest.mark.usefixtures("people")
def test_reassign_racing_claim() -> None:
    outcomes = set()
    for n in range(ROUNDS):
        task = f"rc{n}"
        call("POST", "/api/v1/tasks", {"id": task, "name": "R", "candidateUsers": ["h", "c"]},
             user="root", roles=ADMIN)
        r_reassign, r_claim = together(partial(reassign_to_x, task), partial(claim, task, "c"))
        final = call("GET", f"/api/v1/tasks/{task}").body
        events = history(task)
        assert replay(events) == final["assignee"]
        if r_claim.status == 200:  # claim first: reassign by a non-holder of a held task is refused
            assert (r_reassign.status, final["assignee"]) == (403, "c"), r_reassign.body
            assert [e["action"] for e in events] == ["create", "claim"]
        else:  # reassign first: the claim finds the task held by x
            assert (r_reassign.status, r_claim.status, final["assignee"]) == (200, 409, "x"), r_claim.body
            assert r_claim.body["holder"] == "x"
            assert [e["action"] for e in events] == ["create", "reassign"]
        outcomes.add(final["assignee"])
    assert outcomes <= {"c", "x"}


@pytest.mark.usefixtures("people")
def test_reassign_racing_release() -> None:
    for n in range(ROUNDS):
        task = f"rr{n}"
        call("POST", "/api/v1/tasks", {"id": task, "name": "R", "candidateUsers": ["h"]}, user="root",
             roles=ADMIN)
        assert claim(task, "h").status == 200
        r_reassign, r_release = together(partial(reassign_to_x, task), partial(release, task, "h"))
        final = call("GET", f"/api/v1/tasks/{task}").body
        events = history(task)
        assert replay(events) == final["assignee"] == "x"
        assert r_reassign.status == 200
        if r_release.status == 200:  # release first, then the candidate h reassigns the free task
            assert [e["action"] for e in events] == ["create", "claim", "release", "reassign"]
        else:  # reassign first: h no longer holds it
            assert r_release.status == 403
            assert [e["action"] for e in events] == ["create", "claim", "reassign"]
