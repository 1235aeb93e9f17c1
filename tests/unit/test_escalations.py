"""Escalation ladders through the functions and the sweeper (API.md "Time: escalation ladders"):
validation (400), the steps shown with `dueAt`/`firedAt`, each action firing once as one
conditional write with its history event, `unless` evaluated at firing time, `from: claimed`
re-armed by every claim, and the timers as data (the sweep reads only what is due). Time moves
through baton.clock (`clock.advance`), never by sleeping. Tests taking `backend` run
again on DynamoDB Local in the integration tier."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from baton import clock
from baton.storage.dynamo import get_dynamo
from baton.tasks.events import cloud_event
from baton.tasks.sweeper import Escalator, Sweeper
from baton.tasks.timers import TimerRepository
from tests.support import ADMIN, TENANT, WRITER, call, claim, get_task, history, native, seed

pytestmark = pytest.mark.usefixtures("controlled_clock")
MINUTE = 60
HOUR = 3600


@pytest.fixture
def seeded(backend: str) -> str:
    seed()
    return backend


def create(task_id: str, steps: list[dict[str, Any]], **fields: Any) -> dict[str, Any]:
    body = {"id": task_id, "name": task_id, "candidateGroups": ["ops"], "escalations": steps, **fields}
    r = call("POST", "/api/v1/tasks", body, user="root", roles=ADMIN)
    assert r.status == 201, r
    return dict(r.body)


def sweep() -> Any:
    return Sweeper(get_dynamo()).sweep()


def steps_of(task_id: str) -> dict[str, dict[str, Any]]:
    return {s["id"]: s for s in get_task(task_id).body["escalations"]}


def escalated(task_id: str) -> list[dict[str, Any]]:
    return [e for e in history(task_id) if e["action"] == "escalated"]


# ---- validation and display -------------------------------------------------------------------

@pytest.mark.parametrize(("steps", "message"), [
    ([{"id": "a", "after": "PT30S", "action": "notify"}], "at least PT1M"),
    ([{"id": f"s{i}", "after": "PT1H", "action": "notify"} for i in range(6)], "at most 5 steps"),
    ([{"id": "a", "after": "PT1H", "action": "reassign"}], "needs to"),
    ([{"id": "a", "after": "PT1H", "action": "offer", "to": {"users": ["nobody"]}}], "unknown user: nobody"),
    ([{"id": "a", "after": "PT1H", "action": "offer", "to": {"groups": ["ghosts"]}}], "unknown group: ghosts"),
])
def test_a_bad_ladder_is_refused_with_a_clear_400(moto_table: str, steps: list[dict[str, Any]], message: str) -> None:
    seed()
    r = call("POST", "/api/v1/tasks", {"id": "x", "name": "x", "escalations": steps}, user="root", roles=ADMIN)
    assert r.status == 400, r
    assert message in r.body["message"]
    assert get_task("x").status == 404  # nothing written


def test_the_task_shows_each_step_with_its_due_time(seeded: str) -> None:
    created = create("e1", [{"id": "n", "after": "PT1H", "action": "notify"},
                            {"id": "k", "after": "PT2H", "from": "claimed", "action": "release"}])
    shown = {s["id"]: s for s in created["escalations"]}
    assert shown["n"]["from"] == "created" and shown["n"]["firedAt"] is None
    assert shown["n"]["dueAt"] > created["createdAt"]
    assert shown["k"]["dueAt"] is None  # nobody holds it: nothing to count from
    assert steps_of("e1") == shown


def test_an_activity_s_ladder_is_copied_to_its_tasks(seeded: str) -> None:
    ladder = [{"id": "late", "after": "P1D", "action": "raise-priority", "priority": 90}]
    r = call("PUT", "/api/v1/projects/prj/activities/act", {"name": "Act", "escalations": ladder}, user="root",
             roles=ADMIN)
    assert r.status == 200, r
    bad = call("PUT", "/api/v1/projects/prj/activities/act",
               {"name": "Act", "escalations": [{"id": "x", "after": "P400D", "action": "notify"}]},
               user="root", roles=ADMIN)
    assert bad.status == 400 and "P365D" in bad.body["message"], bad
    r = call("POST", "/api/v1/tasks", {"id": "from-act", "name": "n", "projectId": "prj", "activityId": "act"},
             user="root", roles=WRITER)
    assert r.status == 201, r
    assert [(s["id"], s["priority"]) for s in r.body["escalations"]] == [("late", 90)]


# ---- firing -----------------------------------------------------------------------------------

def test_a_due_step_fires_once_with_its_history_event_and_cloud_event(seeded: str) -> None:
    create("e1", [{"id": "ping", "after": "PT1H", "action": "notify"}])
    clock.advance(HOUR - 1)
    assert sweep().fired == 0 and escalated("e1") == []
    clock.advance(1)
    report = sweep()
    assert report.fired == 1
    [event] = escalated("e1")
    assert event["actor"] == "system" and event["version"] == 2
    assert "ping" in event["comment"]
    assert cloud_event(TENANT, event)["type"] == "baton.task.escalated"
    assert steps_of("e1")["ping"]["firedAt"] == event["at"]
    clock.advance(HOUR)
    assert sweep().fired == 0 and len(escalated("e1")) == 1  # never twice


def test_raise_priority_moves_the_task_up_the_queue(seeded: str) -> None:
    create("low", [{"id": "up", "after": "PT10M", "action": "raise-priority", "priority": 95}], priority=10)
    create("mid", [], priority=50)

    def queue() -> list[str]:
        r = call("GET", "/api/v1/tasks", query={"candidate": "me", "status": "open"}, user="alice")
        return [t["id"] for t in r.body["items"] if t["id"] in ("low", "mid")]
    assert queue() == ["mid", "low"]
    clock.advance(10 * MINUTE)
    assert sweep().fired == 1
    assert get_task("low").body["priority"] == 95 and queue() == ["low", "mid"]


def test_offer_adds_candidates_and_reassign_gives_the_task(seeded: str) -> None:
    create("o", [{"id": "wider", "after": "PT5M", "action": "offer", "to": {"users": ["carol"]}}])
    create("r", [{"id": "boss", "after": "PT5M", "action": "reassign", "to": {"users": ["dave"]}}])
    clock.advance(5 * MINUTE)
    assert sweep().fired == 2
    assert get_task("o").body["candidateUsers"] == ["carol"]
    r = get_task("r").body
    assert r["assignee"] == "dave"
    assert escalated("r")[0]["from"] is None and escalated("r")[0]["to"] == "dave"


def test_release_ends_the_claim_counted_from_the_claim(seeded: str) -> None:
    create("c", [{"id": "free", "after": "PT30M", "from": "claimed", "action": "release"}])
    clock.advance(HOUR)
    assert sweep().fired == 0  # not claimed: nothing to count from
    assert claim("c", "alice").status == 200
    assert steps_of("c")["free"]["dueAt"] is not None
    clock.advance(30 * MINUTE)
    assert sweep().fired == 1
    assert get_task("c").body["assignee"] is None
    # a new claim re-arms it
    assert claim("c", "bob").status == 200
    armed = steps_of("c")["free"]
    assert armed["firedAt"] is None and armed["dueAt"] is not None
    clock.advance(30 * MINUTE)
    assert sweep().fired == 1 and get_task("c").body["assignee"] is None


def test_a_task_completed_just_before_its_step_fires_nothing(seeded: str) -> None:
    create("done", [{"id": "late", "after": "PT1H", "action": "notify"}])
    assert claim("done", "alice").status == 200
    clock.advance(HOUR - 1)
    assert native("complete", "done", "alice").status == 200
    clock.advance(1)
    assert sweep().fired == 0 and escalated("done") == []


def test_unless_claimed_is_evaluated_when_the_step_is_due(seeded: str) -> None:
    create("u", [{"id": "nobody", "after": "PT1H", "unless": "claimed", "action": "offer",
                  "to": {"groups": ["ops"], "users": ["dave"]}}])
    clock.advance(HOUR - 1)
    assert claim("u", "alice").status == 200
    clock.advance(1)
    assert sweep().fired == 0 and escalated("u") == []


def test_a_stale_read_fires_nothing(seeded: str) -> None:
    """The sweeper read the task while the step was due; the task was completed before its write:
    the write's condition (the version it read) refuses it, and the step is decided again."""
    create("race", [{"id": "late", "after": "PT1H", "action": "notify"}])
    clock.advance(HOUR)
    escalator = Escalator(get_dynamo())
    real_read = escalator._read

    def read_then_complete(tenant: str, task_id: str, *users: str) -> Any:
        seen = real_read(tenant, task_id, *users)
        if seen[0] is not None and seen[0].status == "open":
            assert native("complete", "race", "root", roles=ADMIN).status == 200
        return seen
    escalator._read = read_then_complete  # type: ignore[method-assign]
    assert escalator.fire_due(TENANT, "race") == []
    assert escalated("race") == [] and get_task("race").body["status"] == "completed"


def test_two_sweepers_fire_a_step_once(seeded: str) -> None:
    create("twice", [{"id": "once", "after": "PT1M", "action": "raise-priority", "priority": 70}])
    clock.advance(MINUTE)
    first, second = Escalator(get_dynamo()), Escalator(get_dynamo())
    assert len(first.fire_due(TENANT, "twice")) == 1
    assert second.fire_due(TENANT, "twice") == []
    assert len(escalated("twice")) == 1


def test_a_failed_write_arms_nothing(seeded: str) -> None:
    create("taken", [])
    r = call("POST", "/api/v1/tasks", {"id": "taken", "name": "other", "escalations": [
        {"id": "x", "after": "PT1M", "action": "notify"}]}, user="root", roles=ADMIN)
    assert r.status == 409
    clock.advance(HOUR)
    report = sweep()
    assert report.due == 0 and report.fired == 0 and get_task("taken").body["escalations"] == []


# ---- the timers as data -----------------------------------------------------------------------

def test_the_sweep_reads_only_due_timers_and_closes_past_hours(seeded: str) -> None:
    for n in range(5):
        create(f"soon{n}", [{"id": "s", "after": "PT1M", "action": "notify"}])
    for n in range(20):
        create(f"later{n}", [{"id": "s", "after": "P30D", "action": "notify"}])
    clock.advance(MINUTE)
    report = sweep()
    assert (report.due, report.fired) == (5, 5)
    clock.advance(3 * HOUR)
    report = sweep()
    assert (report.due, report.fired) == (0, 0)
    through = TimerRepository(get_dynamo()).swept_through()
    assert through is not None and through < clock.stamp()[:13]


def test_steps_due_while_nothing_swept_fire_when_the_sweep_comes_back(seeded: str) -> None:
    create("outage", [{"id": "a", "after": "PT1H", "action": "notify"},
                      {"id": "b", "after": "PT2H", "action": "raise-priority", "priority": 60}])
    clock.advance(26 * HOUR)
    report = sweep()
    assert report.fired == 2 and report.lag_seconds >= 24 * HOUR
    assert [e["comment"].split(":")[0] for e in escalated("outage")] == ["escalation a", "escalation b"]


def test_the_aws_function_sweeps_and_reports_its_metrics(seeded: str, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from baton_functions import sweeper

    create("fn", [{"id": "s", "after": "PT1M", "action": "notify"}])
    clock.advance(2 * MINUTE)
    report = sweeper.lambda_handler({"source": "aws.scheduler"}, None)
    assert report["fired"] == 1 and report["failed"] == 0
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert line["SweepFired"] == 1 and line["SweepLagSeconds"] >= 60 and line["SweepFailures"] == 0
    metrics = {m["Name"] for m in line["_aws"]["CloudWatchMetrics"][0]["Metrics"]}
    assert metrics == {"SweepFailures", "SweepLagSeconds", "SweepFired"}


def test_overdue_lists_tasks_past_due_or_escalated(seeded: str) -> None:
    soon = clock.stamp(clock.current() + timedelta(minutes=30))
    create("past-due", [], dueDate=soon)
    create("escalates", [{"id": "s", "after": "PT10M", "action": "notify"}])
    create("calm", [{"id": "s", "after": "P1D", "action": "notify"}])

    def overdue(**query: str) -> list[str]:
        r = call("GET", "/api/v1/tasks", query={"status": "open", "overdue": "true", **query}, user="alice")
        assert r.status == 200, r
        return sorted(t["id"] for t in r.body["items"] if t["id"] in ("past-due", "escalates", "calm"))
    assert overdue(candidate="me") == []
    clock.advance(10 * MINUTE)
    assert overdue(candidate="me") == []  # due, not fired yet
    assert sweep().fired == 1
    assert overdue(candidate="me") == ["escalates"]
    clock.advance(20 * MINUTE)  # the dueDate passes: no write needed
    assert overdue(candidate="me") == ["escalates", "past-due"]
    assert claim("escalates", "alice").status == 200
    assert overdue(candidate="me") == ["past-due"] and overdue(assignee="me") == ["escalates"]
    every = call("GET", "/api/v1/tasks", query={"candidate": "me", "status": "open"}, user="alice").body["items"]
    assert {"calm", "past-due"} <= {t["id"] for t in every}
    assert call("GET", "/api/v1/tasks", query={"candidate": "me", "overdue": "maybe"}, user="alice").status == 400


def test_itential_s_task_document_carries_priority_due_date_and_the_ladder(seeded: str) -> None:
    create("it", [{"id": "s", "after": "PT1H", "action": "notify"}], priority=80, dueDate="2030-01-01T00:00:00Z")
    r = call("POST", "/operations-manager/tasks/it/claim", {}, user="alice")
    assert r.status == 200, r
    data = r.body["data"]
    assert data["priority"] == 80 and data["dueDate"] == "2030-01-01T00:00:00.000000Z"
    assert data["escalations"][0]["id"] == "s" and data["escalations"][0]["dueAt"]


def test_the_task_update_route_changes_the_ladder_and_re_arms_what_changed(seeded: str) -> None:
    create("p", [{"id": "a", "after": "PT10M", "action": "notify"}, {"id": "b", "after": "PT1H", "action": "notify"}])
    clock.advance(10 * MINUTE)
    assert sweep().fired == 1
    fired_a = steps_of("p")["a"]["firedAt"]
    r = call("PATCH", "/api/v1/tasks/p", {"escalations": [
        {"id": "a", "after": "PT10M", "action": "notify"},
        {"id": "b", "after": "PT2H", "action": "notify"},
        {"id": "c", "after": "PT1M", "from": "due", "action": "raise-priority", "priority": 80}],
        "dueDate": "2031-01-01T00:00:00Z"}, user="root", roles=ADMIN)
    assert r.status == 200, r
    shown = {s["id"]: s for s in r.body["escalations"]}
    assert shown["a"]["firedAt"] == fired_a  # unchanged: stays fired
    assert shown["b"]["firedAt"] is None and shown["b"]["dueAt"] > steps_of("p")["a"]["dueAt"]
    assert shown["c"]["dueAt"] == "2031-01-01T00:01:00.000000Z"
    assert history("p")[-1]["action"] == "update"
    bad = call("PATCH", "/api/v1/tasks/p", {"escalations": [{"id": "x", "after": "PT5S", "action": "notify"}]},
               user="root", roles=ADMIN)
    assert bad.status == 400 and "PT1M" in bad.body["message"], bad
    same = call("PATCH", "/api/v1/tasks/p", {"escalations": r.body["escalations"] and [
        {k: v for k, v in s.items() if k not in ("dueAt", "firedAt")} for s in r.body["escalations"]]},
        user="root", roles=ADMIN)
    assert same.status == 200 and same.body["version"] == r.body["version"]  # nothing changed: nothing written
    assert call("PATCH", "/api/v1/tasks/p", {"escalations": []}, user="root", roles=ADMIN).body["escalations"] == []
    clock.advance(3 * HOUR)
    assert sweep().fired == 0
