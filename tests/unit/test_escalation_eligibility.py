"""An escalation's `reassign` goes through tasks.eligibility like every path that gives a task
(API.md "Time: escalation ladders", "People", "Separation of duties"): it gives the task to
`to.users[0]` only when that user may hold it (skills, capacity, separation), else it offers the
task to `to`; the write asserts what the decision relied on (the load under capacity, the holds in
the case), and a refusal found by the write is decided again as an offer, never a failed sweep.
Time moves through baton.clock. Tests taking `backend` run again on DynamoDB Local."""

from __future__ import annotations

from typing import Any

import pytest

from baton import clock
from baton.errors import Forbidden
from baton.storage.dynamo import get_dynamo
from baton.tasks import eligibility
from baton.tasks.sweeper import Escalator, Sweeper
from tests.support import ADMIN, TENANT, call, create_task, get_task, history, native, seed

pytestmark = pytest.mark.usefixtures("controlled_clock")
MINUTE = 60
REASSIGN_TO_DAVE = [{"id": "boss", "after": "PT5M", "action": "reassign", "to": {"users": ["dave"]}}]


@pytest.fixture(autouse=True)
def seeded(backend: str) -> str:
    seed()
    return backend


def set_user(uid: str, **fields: Any) -> None:
    r = call("PUT", f"/api/v1/users/{uid}", {"username": uid, "firstname": uid.title(), **fields}, user="root",
             roles=ADMIN)
    assert r.status in (200, 201), r


def load(uid: str) -> int:
    r = call("GET", "/api/v1/users", query={"filter": uid})
    return int(next(u for u in r.body["items"] if u["id"] == uid)["load"])


def sweep() -> Any:
    return Sweeper(get_dynamo()).sweep()


def escalated(task_id: str) -> list[dict[str, Any]]:
    return [e for e in history(task_id) if e["action"] == "escalated"]


def test_the_sweeper_asks_eligibility_for_a_reassign(monkeypatch: pytest.MonkeyPatch) -> None:
    create_task("asked", candidateGroups=["ops"], escalations=REASSIGN_TO_DAVE)
    asked: list[tuple[str, tuple[str, ...]]] = []
    real = eligibility.decide

    def spy(h: eligibility.Handover) -> Any:
        asked.append((h.via, h.targets))
        return real(h)
    monkeypatch.setattr(eligibility, "decide", spy)
    clock.advance(5 * MINUTE)
    assert sweep().fired == 1
    assert asked == [(eligibility.REASSIGN, ("dave",))] and get_task("asked").body["assignee"] == "dave"


def test_a_rule_about_the_holder_reaches_the_escalation_reassign(monkeypatch: pytest.MonkeyPatch) -> None:
    """What tests/unit/test_eligibility.py shows for every route: a rule added to `_may_hold` (absence,
    the next one) holds for an escalation too; the step offers the task instead."""
    def nobody(h: eligibility.Handover, user: str) -> None:
        raise Forbidden(f"{user} may hold nothing today", reason="accessDenied")
    monkeypatch.setattr(eligibility, "_may_hold", nobody)
    create_task("ruled", candidateGroups=["ops"], escalations=REASSIGN_TO_DAVE)
    clock.advance(5 * MINUTE)
    assert sweep().fired == 1
    task = get_task("ruled").body
    assert task["assignee"] is None and task["candidateUsers"] == ["dave"]


def test_a_reassign_to_a_user_without_the_skills_offers_the_task() -> None:
    set_user("dave", skills=["french"])
    create_task("german", candidateGroups=["ops"], requiredSkills=["german"], escalations=REASSIGN_TO_DAVE)
    create_task("french", candidateGroups=["ops"], requiredSkills=["french"], escalations=REASSIGN_TO_DAVE)
    clock.advance(5 * MINUTE)
    report = sweep()
    assert (report.fired, report.failed) == (2, 0)
    german, french = get_task("german").body, get_task("french").body
    assert german["assignee"] is None and "dave" in german["candidateUsers"]
    assert escalated("german")[0]["comment"].endswith("(offered)")
    assert french["assignee"] == "dave" and load("dave") == 1


def test_a_reassign_to_a_user_at_capacity_offers_the_task_and_keeps_the_load() -> None:
    set_user("dave", capacity=1)
    create_task("held", candidateUsers=["dave"])
    assert native("claim", "held", "dave").status == 200 and load("dave") == 1
    create_task("waits", candidateGroups=["ops"], escalations=REASSIGN_TO_DAVE)
    clock.advance(5 * MINUTE)
    report = sweep()
    assert (report.fired, report.failed) == (1, 0)  # an offer, not a failure retried forever
    task = get_task("waits").body
    assert task["assignee"] is None and task["candidateUsers"] == ["dave"] and load("dave") == 1


def test_capacity_reached_between_the_read_and_the_write_offers_the_task() -> None:
    """The sweeper read dave under capacity; dave took his last slot before its write: the write's
    condition on dave's load refuses it, and the step, decided again, offers the task."""
    set_user("dave", capacity=1)
    create_task("slot", candidateUsers=["dave"])
    create_task("late", candidateGroups=["ops"], escalations=REASSIGN_TO_DAVE)
    clock.advance(5 * MINUTE)
    escalator = Escalator(get_dynamo())
    real_read = escalator._read

    def read_then_fill(tenant: str, task_id: str, *users: str) -> Any:
        seen = real_read(tenant, task_id, *users)
        if users and load("dave") == 0:
            assert native("claim", "slot", "dave").status == 200
        return seen
    escalator._read = read_then_fill  # type: ignore[method-assign]
    [event] = escalator.fire_due(TENANT, "late")
    assert event.to is None and event.comment is not None and event.comment.endswith("(offered)")
    task = get_task("late").body
    assert task["assignee"] is None and task["candidateUsers"] == ["dave"] and load("dave") == 1


def test_a_reassign_respects_separation_and_records_the_holds() -> None:
    create_task("prepare", candidateUsers=["dave", "bob"], caseId="order-1")
    create_task("approve", candidateGroups=["ops"], caseId="order-1", separation={"tasks": ["prepare"]},
                escalations=REASSIGN_TO_DAVE)
    create_task("check", candidateUsers=["dave", "bob"], caseId="order-1", separation={"tasks": ["review"]})
    create_task("review", candidateGroups=["ops"], caseId="order-1", escalations=REASSIGN_TO_DAVE)
    assert native("claim", "prepare", "dave").status == 200
    clock.advance(5 * MINUTE)
    assert sweep().fired == 2
    approve, review = get_task("approve").body, get_task("review").body
    assert approve["assignee"] is None and approve["candidateUsers"] == ["dave"]  # dave held prepare
    assert review["assignee"] == "dave"
    # the escalation's reassign recorded dave's hold of review in the case: check is separated from it
    r = native("claim", "check", "dave")
    assert r.status == 409 and "Separation of duties" in r.body["message"], r
    assert native("claim", "check", "bob").status == 200
