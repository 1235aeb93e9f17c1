"""Absence where the system gives or offers work (API.md "Absence, delegation, offboarding"): the
router never routes to an absent member (assign or offer), an ended absence makes the member
routable again (a stream trigger), and an escalation's `reassign` and `offer` give or offer the
task to who stands in, recorded `onBehalfOf` with reason `absence:<mode>`."""

from __future__ import annotations

from typing import Any

import pytest

from baton import clock
from baton.attrs import to_attr
from baton.directory.repository import DirectoryRepository
from baton.storage.dynamo import get_dynamo
from baton.storage.keys import Keys
from baton.tasks.repository import TaskRepository
from baton.tasks.routing import Router
from baton.tasks.stream import Trigger, routing_triggers
from baton.tasks.sweeper import Sweeper
from tests.support import ADMIN, TENANT, call, create_task, get_task, history, seed

pytestmark = pytest.mark.usefixtures("controlled_clock")
MINUTE = 60


@pytest.fixture(autouse=True)
def _seeded(backend: str) -> None:
    seed()


def away(uid: str, delegate: str | None, mode: str = "redirect", hours: int = 8) -> None:
    body: dict[str, Any] = {"from": clock.stamp(), "until": clock.after(hours * 3600), "mode": mode}
    if delegate:
        body["delegateTo"] = delegate
    r = call("PUT", f"/api/v1/users/{uid}/absence", body, user=uid)
    assert r.status == 200, r


def crew(strategy: str, offer_seconds: int | None = None) -> None:
    routing: dict[str, Any] = {"strategy": strategy, **({"offerSeconds": offer_seconds} if offer_seconds else {})}
    r = call("PUT", "/api/v1/groups/crew", {"name": "crew", "members": ["alice", "bob"], "routing": routing},
             user="root", roles=ADMIN)
    assert r.status in (200, 201), r


@pytest.mark.parametrize("offer_seconds", [None, 60])
def test_absent_members_are_never_routed_to(offer_seconds: int | None) -> None:
    crew("round-robin", offer_seconds)
    away("alice", "carol")
    router = Router(get_dynamo())
    for i in range(3):
        create_task(f"r{i}", candidateGroups=["crew"])
        assert router.route_task(TENANT, f"r{i}") == 1
    got = [get_task(f"r{i}").body for i in range(3)]
    field = "offeredTo" if offer_seconds else "assignee"
    assert [t[field] for t in got] == ["bob"] * 3, got


def test_nobody_present_waits_in_the_queue_and_an_ended_absence_routes_again() -> None:
    crew("least-loaded")
    away("alice", None)
    away("bob", None)
    router = Router(get_dynamo())
    create_task("w", candidateGroups=["crew"])
    assert router.route_task(TENANT, "w") == 0 and get_task("w").body["assignee"] is None
    user = Keys.user(TENANT, "bob")
    ended = {"userId": "bob", "groups": {"crew"}, "presence": "available"}
    record = {"eventName": "MODIFY", "dynamodb": {
        "Keys": {k: {"S": v} for k, v in user.items()},
        "NewImage": {k: to_attr(v) for k, v in ended.items()},
        "OldImage": {k: to_attr(v) for k, v in {**ended, "absence": {"until": "x"}}.items()}}}
    assert routing_triggers([record]) == [Trigger(TENANT, "user", "bob", ("crew",))]
    assert call("DELETE", "/api/v1/users/bob/absence", user="bob").status == 200
    assert router.handle(routing_triggers([record])) == 1 and get_task("w").body["assignee"] == "bob"


def test_an_absence_that_ended_by_itself_is_routed_to_again() -> None:
    crew("round-robin")
    away("alice", "carol", hours=1)
    clock.advance(3601)
    create_task("x", candidateGroups=["crew"])
    assert Router(get_dynamo()).route_task(TENANT, "x") == 1 and get_task("x").body["assignee"] == "alice"


def escalate(task_id: str, action: str, users: list[str]) -> None:
    step = {"id": "s1", "after": "PT5M", "action": action, "to": {"users": users}}
    r = call("POST", "/api/v1/tasks", {"id": task_id, "name": task_id, "candidateGroups": ["ops"],
                                       "escalations": [step]}, user="root", roles=ADMIN)
    assert r.status == 201, r


def fire() -> dict[str, Any]:
    clock.advance(5 * MINUTE)
    assert Sweeper(get_dynamo()).sweep().fired >= 1
    return history_of_escalation()


def history_of_escalation() -> dict[str, Any]:
    return [e for e in history("e") if e["action"] == "escalated"][-1]


def test_an_escalations_reassign_goes_to_who_stands_in() -> None:
    away("dave", "carol")
    escalate("e", "reassign", ["dave"])
    event = fire()
    assert get_task("e").body["assignee"] == "carol"
    assert (event["to"], event["onBehalfOf"], event["reason"]) == ("carol", "dave", "absence:redirect"), event


def test_an_escalations_reassign_with_share_offers_it_to_both() -> None:
    away("dave", "carol", "share")
    escalate("e", "reassign", ["dave"])
    event = fire()
    task = get_task("e").body
    assert task["assignee"] is None and task["candidateUsers"] == ["dave", "carol"], task
    assert (event["onBehalfOf"], event["reason"]) == ("dave", "absence:share")


@pytest.mark.parametrize(("mode", "offered"), [("redirect", ["carol"]), ("share", ["dave", "carol"])])
def test_an_escalations_offer_goes_to_who_stands_in(mode: str, offered: list[str]) -> None:
    away("dave", "carol", mode)
    escalate("e", "offer", ["dave"])
    event = fire()
    assert get_task("e").body["candidateUsers"] == offered
    assert (event["onBehalfOf"], event["reason"]) == ("dave", f"absence:{mode}")


def test_an_escalation_to_a_dead_end_offers_it_to_the_rest() -> None:
    away("dave", None)
    escalate("e", "reassign", ["dave"])
    event = fire()
    task = get_task("e").body
    assert task["assignee"] is None and "dave" not in task["candidateUsers"], task
    assert event["reason"] == "escalation:s1"


def test_a_present_user_is_escalated_to_as_before() -> None:
    escalate("e", "reassign", ["dave"])
    event = fire()
    assert get_task("e").body["assignee"] == "dave"
    assert (event["onBehalfOf"], event["reason"]) == (None, "escalation:s1")


def test_a_delegate_made_inactive_between_the_read_and_the_write_is_a_dead_end(monkeypatch: pytest.MonkeyPatch
                                                                                ) -> None:
    """The escalation's write pins who stands in as active: carol offboarded meanwhile refuses it,
    and the step is decided again on carol read anew (an inactive delegate stands in for nobody)."""
    away("dave", "carol")
    escalate("e", "offer", ["dave"])
    write = TaskRepository.write
    writes: list[str] = []

    def racing(self: TaskRepository, tenant: str, change: Any) -> None:
        if not writes:
            users = DirectoryRepository(self.db)
            users.put_user(TENANT, users.users(TENANT, ["carol"])["carol"].model_copy(update={"active": False}))
        writes.append(change.after.id)
        write(self, tenant, change)

    monkeypatch.setattr(TaskRepository, "write", racing)
    event = fire()
    assert len(writes) == 2, writes  # the first was refused on carol's `active`
    task = get_task("e").body
    assert "carol" not in task["candidateUsers"] and "dave" not in task["candidateUsers"], task
    assert event["reason"] == "escalation:s1"
