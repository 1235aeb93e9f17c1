"""Escalation ladders as pure rules (baton.tasks.escalations): the accepted durations, the
validation of a ladder, when each step is due, which steps are pending, and what each action
changes on a task. No I/O."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from baton.errors import BadRequest
from baton.tasks import escalations as ladder
from baton.tasks.domain import Task

T0 = "2026-03-01T10:00:00.000000Z"


def task(**fields: Any) -> Task:
    base: dict[str, Any] = {"id": "t", "name": "t", "createdAt": T0, "updatedAt": T0, "candidateGroups": ["ops"]}
    base.update(fields)
    return Task.model_validate(base)


def step(**fields: Any) -> dict[str, Any]:
    return {"id": "s1", "after": "PT1H", "action": "notify", **fields}


@pytest.mark.parametrize(("text", "length"), [
    ("PT1M", timedelta(minutes=1)), ("PT60S", timedelta(minutes=1)), ("PT4H", timedelta(hours=4)),
    ("P1DT12H", timedelta(days=1, hours=12)), ("P2W", timedelta(weeks=2)), ("P365D", timedelta(days=365)),
    ("PT90M", timedelta(minutes=90)), ("P1DT1H1M1S", timedelta(days=1, hours=1, minutes=1, seconds=1)),
])
def test_accepted_durations(text: str, length: timedelta) -> None:
    assert ladder.parse_duration(text) == length


@pytest.mark.parametrize("text", [
    "PT59S", "P366D", "P53W", "P1Y", "P1M", "PT", "P", "P1DT", "PT1.5H", "1H", "pt1h", "PT-1H", "", 60, None,
    "P1W2D", "PT1H" * 20,
])
def test_refused_durations(text: Any) -> None:
    with pytest.raises(ValueError):
        ladder.parse_duration(text)


@pytest.mark.parametrize(("raw", "message"), [
    ("x", "must be a list"),
    ([step(id=f"s{i}") for i in range(6)], "at most 5 steps"),
    ([step(), step()], "step id 's1' is used twice"),
    ([step(after="PT30S")], "at least PT1M"),
    ([step(after="P2Y")], "not an ISO 8601 duration"),
    ([step(action="explode")], "action must be one of"),
    ([step(action="offer")], "action offer needs to"),
    ([step(action="reassign", to={"users": []})], "action reassign needs to"),
    ([step(action="notify", to={"users": ["bob"]})], "action notify takes no to"),
    ([step(action="raise-priority")], "raise-priority needs priority"),
    ([step(action="raise-priority", priority=101)], "raise-priority needs priority"),
    ([step(action="raise-priority", priority=True)], "raise-priority needs priority"),
    ([step(priority=80)], "priority goes with raise-priority only"),
    ([step(**{"from": "later"})], "from must be one of"),
    ([step(unless="never")], "unless must be claimed or completed"),
    ([step(**{"from": "claimed"}, unless="claimed")], "would never fire"),
    ([step(dueAt=T0)], "unknown property dueAt"),
    ([step(id="")], "id must be a string"),
    ([step(id="x" * 65)], "id must be a string"),
    ([step(action="offer", to={"users": "bob"})], "must be a list of ids"),
    ([step(action="offer", to={"people": ["bob"]})], "to must be an object"),
    ([{"id": "s1", "action": "notify"}], "after"),
])
def test_a_bad_ladder_is_a_400_naming_what_is_wrong(raw: Any, message: str) -> None:
    with pytest.raises(BadRequest) as refused:
        ladder.parse_ladder(raw)
    assert message in refused.value.message
    assert refused.value.status == 400


def test_a_good_ladder_parses_with_defaults() -> None:
    steps = ladder.parse_ladder([
        step(), step(id="s2", action="offer", to={"groups": ["leads"]}, unless="claimed"),
        step(id="s3", action="reassign", to={"users": ["bob", "bob"]}, **{"from": "due"}),
        step(id="s4", action="raise-priority", priority=90, **{"from": "claimed"}),
        step(id="s5", action="release", **{"from": "claimed"}, after="P1D")])
    assert [s.from_ for s in steps] == ["created", "created", "due", "claimed", "claimed"]
    assert steps[2].to is not None and steps[2].to.users == ["bob"]
    assert ladder.referenced(steps) == ({"bob"}, {"leads"})
    assert steps[0].model_dump()["from"] == "created"  # written with its contract name


def test_due_times_count_from_their_anchor() -> None:
    steps = ladder.parse_ladder([step(id="c"), step(id="d", **{"from": "due"}, after="PT30M"),
                                 step(id="k", **{"from": "claimed"}, after="PT2H")])
    t = task(escalations=steps, dueDate="2026-03-02T00:00:00.000000Z")
    armed = {s.id: s.dueAt for s in ladder.arm(None, t, T0, False)}
    assert armed == {"c": "2026-03-01T11:00:00.000000Z", "d": "2026-03-02T00:30:00.000000Z", "k": None}


def test_a_claim_arms_claimed_steps_and_every_new_claim_re_arms_them() -> None:
    steps = ladder.parse_ladder([step(id="k", **{"from": "claimed"}, after="PT2H")])
    free = task(escalations=ladder.arm(None, task(escalations=steps), T0, False))
    assert free.escalations[0].dueAt is None
    held = task(escalations=free.escalations, assignee="alice")
    at = "2026-03-01T12:00:00.000000Z"
    armed = ladder.arm(free, held, at, True)
    assert armed[0].dueAt == "2026-03-01T14:00:00.000000Z"
    fired = [armed[0].model_copy(update={"firedAt": "2026-03-01T14:00:00.000000Z"})]
    held = task(escalations=fired, assignee="alice")
    assert ladder.arm(held, held, "2026-03-01T15:00:00.000000Z", False)[0].firedAt is not None  # stays fired
    regained = ladder.arm(held, task(escalations=fired, assignee="bob"), "2026-03-01T16:00:00.000000Z", True)
    assert regained[0].firedAt is None and regained[0].dueAt == "2026-03-01T18:00:00.000000Z"
    released = ladder.arm(held, task(escalations=fired), "2026-03-01T16:00:00.000000Z", False)
    assert released[0].dueAt is None


def test_due_steps_follow_a_changed_due_date_until_they_fire() -> None:
    steps = ladder.parse_ladder([step(id="d", **{"from": "due"})])
    old = task(escalations=ladder.arm(None, task(escalations=steps, dueDate=T0), T0, False), dueDate=T0)
    assert old.escalations[0].dueAt == "2026-03-01T11:00:00.000000Z"
    later = "2026-03-05T10:00:00.000000Z"
    moved = ladder.arm(old, task(escalations=old.escalations, dueDate=later), T0, False)
    assert moved[0].dueAt == "2026-03-05T11:00:00.000000Z"
    gone = ladder.arm(old, task(escalations=old.escalations), T0, False)
    assert gone[0].dueAt is None


def test_a_changed_ladder_keeps_the_state_of_unchanged_steps_and_arms_the_others() -> None:
    old = ladder.parse_ladder([step(id="a"), step(id="b")])
    old = [old[0].model_copy(update={"dueAt": "x", "firedAt": "y"}), old[1].model_copy(update={"dueAt": "z"})]
    new = ladder.replace_ladder(old, ladder.parse_ladder([step(id="a"), step(id="b", after="PT2H")]))
    assert (new[0].dueAt, new[0].firedAt) == ("x", "y")
    assert (new[1].dueAt, new[1].firedAt) == (None, None)


def test_pending_steps_and_the_timer() -> None:
    steps = ladder.arm(None, task(escalations=ladder.parse_ladder([
        step(id="a", after="PT2H"), step(id="b", unless="claimed"), step(id="c", after="PT3H")])), T0, False)
    free = task(escalations=steps)
    assert ladder.next_due(free) == "2026-03-01T11:00:00.000000Z"  # b
    held = task(escalations=steps, assignee="alice")
    assert ladder.next_due(held) == "2026-03-01T12:00:00.000000Z"  # b waits while its unless holds
    assert ladder.next_due(task(escalations=steps, status="completed")) is None
    assert [s.id for s in ladder.due_steps(free, "2026-03-01T12:30:00.000000Z")] == ["b", "a"]
    assert [s.id for s in ladder.due_steps(held, "2026-03-01T12:30:00.000000Z")] == ["a"]
    assert ladder.due_steps(free, "2026-03-01T10:59:59.999999Z") == []


def _fired(t: Task, step_id: str, may_hold: bool = True) -> ladder.Firing:
    s = next(s for s in t.escalations if s.id == step_id)
    return ladder.fire(t, s, "2026-03-01T12:00:00.000000Z", lambda _: may_hold)


def _armed(*steps: dict[str, Any], **fields: Any) -> Task:
    t = task(escalations=ladder.parse_ladder(list(steps)), **fields)
    return t.model_copy(update={"escalations": ladder.arm(None, t, T0, False)})


def test_notify_changes_nothing_but_the_step() -> None:
    f = _fired(_armed(step()), "s1")
    assert set(f.update) == {"escalations"} and f.update["escalations"][0].firedAt == "2026-03-01T12:00:00.000000Z"
    assert f.changes["escalations"]["to"] == {"s1": {"firedAt": "2026-03-01T12:00:00.000000Z"}}
    assert f.reason == "escalation:s1"


def test_raise_priority_raises_and_never_lowers() -> None:
    t = _armed(step(action="raise-priority", priority=90))
    assert _fired(t, "s1").update["priority"] == 90
    assert _fired(t, "s1").changes["priority"] == {"from": 50, "to": 90}
    assert "priority" not in _fired(t.model_copy(update={"priority": 95}), "s1").update


def test_offer_adds_to_the_candidates() -> None:
    f = _fired(_armed(step(action="offer", to={"users": ["dave"], "groups": ["leads", "ops"]})), "s1")
    assert f.update["candidateUsers"] == ["dave"] and f.update["candidateGroups"] == ["ops", "leads"]
    assert f.holder_to is None and "assignee" not in f.update


def test_reassign_gives_it_to_the_first_user_if_eligible_else_offers_it() -> None:
    t = _armed(step(action="reassign", to={"users": ["dave", "erin"], "groups": ["leads"]}), assignee="alice")
    given = _fired(t, "s1")
    assert given.update["assignee"] == "dave" and given.holder_from == "alice" and given.holder_to == "dave"
    offered = _fired(t, "s1", may_hold=False)
    assert offered.update["assignee"] is None and offered.holder_to is None
    assert offered.update["candidateUsers"] == ["dave", "erin"]
    assert offered.update["candidateGroups"] == ["ops", "leads"]


def test_release_ends_the_claim() -> None:
    f = _fired(_armed(step(action="release", **{"from": "claimed"}), assignee="alice",
                      leaseExpiresAt="2026-03-02T00:00:00.000000Z"), "s1")
    assert f.update["assignee"] is None and f.update["leaseExpiresAt"] is None and f.outcome == "released"


def test_overdue_is_past_the_due_date_or_a_fired_step() -> None:
    assert not ladder.is_overdue(task(), T0)
    assert ladder.is_overdue(task(dueDate=T0), T0)
    assert not ladder.is_overdue(task(dueDate="2026-03-02T00:00:00.000000Z"), T0)
    fired = _armed(step()).escalations[0].model_copy(update={"firedAt": T0})
    assert ladder.is_overdue(task(escalations=[fired]), T0)
    assert not ladder.is_overdue(task(escalations=[fired], status="completed"), T0)


def test_an_edited_ladder_re_arms_what_changed_and_keeps_the_rest() -> None:
    armed = _armed(step(id="a"), step(id="b", after="PT2H"))
    fired = [armed.escalations[0].model_copy(update={"firedAt": "2026-03-01T11:00:00.000000Z"}), armed.escalations[1]]
    before = armed.model_copy(update={"escalations": fired})
    given = ladder.parse_ladder([step(id="a"), step(id="b", after="PT3H"), step(id="c", **{"from": "due"})])
    after = before.model_copy(update={"escalations": ladder.edited(before.escalations, given),
                                      "dueDate": "2026-03-02T00:00:00.000000Z"})
    steps = {s.id: s for s in ladder.rearmed(before, after, "2026-03-01T11:30:00.000000Z").escalations}
    assert steps["a"].firedAt == "2026-03-01T11:00:00.000000Z"  # unchanged: stays fired
    assert steps["b"].dueAt == "2026-03-01T13:00:00.000000Z" and steps["b"].firedAt is None  # changed: re-armed
    assert steps["c"].dueAt == "2026-03-02T01:00:00.000000Z"  # new: armed from the new dueDate
    assert ladder.rearmed(before, task(), T0) == task()
