"""Absence on every path that gives or offers work (API.md "Absence, delegation, offboarding",
issue 27 item 1): an assign in every dialect, a reassign, bulk (each and atomic), a delegation,
a resolution. Work given to an absent user goes to who stands in (`redirect`) or to both
(`share`), the event records `onBehalfOf` and reason `absence:<mode>`; the delegate's own rules
(skills, capacity, separation) apply; a dead end leaves the task where it is (409 `absent`, in
each dialect's shape); the write pins the absences it was decided on (a race with PUT absence is
decided again)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from baton import clock
from baton.directory.absence import Absence
from baton.directory.repository import DirectoryRepository
from baton.tasks.repository import TaskRepository
from tests.support import ADMIN, OPS, TENANT, bulk, call, create_task, get_task, history, native, seed

pytestmark = pytest.mark.usefixtures("backend")
FROM, UNTIL = "2026-01-01T00:00:00Z", "2099-12-31T00:00:00Z"


@pytest.fixture(autouse=True)
def _seeded(backend: str) -> None:
    seed()
    create_task("g1", candidateGroups=["ops"])  # alice and bob
    create_task("h1", candidateUsers=["bob"])
    assert native("claim", "h1", "bob").status == 200


def away(uid: str, delegate: str | None, mode: str = "redirect", **extra: Any) -> None:
    body = {"from": FROM, "until": UNTIL, "mode": mode, **extra}
    if delegate is not None:
        body["delegateTo"] = delegate
    r = call("PUT", f"/api/v1/users/{uid}/absence", body, user=uid)
    assert r.status == 200, r


def give(path: str, to: str = "alice") -> Any:
    """Give g1 (h1 for a delegation) to `to` on one path; the reply."""
    if path == "Itential assign":
        return call("POST", "/operations-manager/tasks/g1/assign", {"userId": to}, user="bob")
    if path == "Journey Manager assign":
        return call("POST", "/workspaces/secure/api/v1/txn/assign", {"params": {"submitKey": "g1", "userKey": to}},
                    user="root", roles=ADMIN)
    if path == "ConductorOne reassign":
        return call("POST", "/api/v1/tasks/g1/action/reassign", {"newStepUserIds": [to]}, user="bob")
    if path == "bulk assign":
        return bulk("assign", {"taskIds": ["g1"], "userId": to}, user="bob")
    if path == "bulk assign, atomic":
        return bulk("assign", {"taskIds": ["g1"], "userId": to, "atomic": True}, user="bob")
    if path == "bulk reassign":
        return bulk("reassign", {"taskIds": ["g1"], "userId": to}, user="root", roles=ADMIN)
    assert path == "delegate"
    return native("delegate", "h1", "bob", {"userId": to})


PATHS = ["Itential assign", "Journey Manager assign", "ConductorOne reassign", "bulk assign", "bulk assign, atomic",
         "bulk reassign", "delegate"]


def ok(r: Any) -> None:
    assert r.status == 200, r
    if "results" in r.body:
        assert [i["status"] for i in r.body["results"]] == [200], r


def task_of(path: str) -> str:
    return "h1" if path == "delegate" else "g1"


def last_event(task: str) -> dict[str, Any]:
    return history(task)[-1]


@pytest.mark.parametrize("path", PATHS)
def test_redirect_gives_the_work_to_the_delegate_on_behalf_of_the_absent_user(path: str) -> None:
    away("alice", "carol")
    ok(give(path))
    task = get_task(task_of(path)).body
    assert task["assignee"] == "carol", task
    event = last_event(task_of(path))
    assert (event["to"], event["onBehalfOf"], event["reason"]) == ("carol", "alice", "absence:redirect"), event
    if path == "delegate":
        assert (task["owner"], task["delegationState"]) == ("bob", "pending")


@pytest.mark.parametrize("path", PATHS)
def test_a_present_user_gets_it_with_reason_request(path: str) -> None:
    away("alice", "carol", until="2026-01-02T00:00:00Z")  # over already: it ended by itself
    ok(give(path))
    event = last_event(task_of(path))
    assert (get_task(task_of(path)).body["assignee"], event["onBehalfOf"], event["reason"]) == (
        "alice", None, "request")


@pytest.mark.parametrize("path", [p for p in PATHS if p != "delegate"])
def test_share_offers_it_to_both(path: str) -> None:
    away("alice", "carol", "share")
    ok(give(path))
    task = get_task("g1").body
    assert task["assignee"] is None and {"alice", "carol"} <= set(task["candidateUsers"]), task
    event = last_event("g1")
    assert (event["onBehalfOf"], event["reason"]) == ("alice", "absence:share")
    assert native("claim", "g1", "carol").status == 200  # the delegate is a candidate now


def test_share_on_a_delegation_gives_it_to_the_delegate() -> None:
    away("alice", "carol", "share")
    ok(give("delegate"))
    task = get_task("h1").body
    assert (task["assignee"], task["owner"]) == ("carol", "bob")
    assert last_event("h1")["reason"] == "absence:share"


def test_a_chain_is_followed_and_recorded_for_the_first_absent_user() -> None:
    away("alice", "bob")
    away("bob", "carol")
    ok(give("Itential assign"))
    assert get_task("g1").body["assignee"] == "carol"
    assert last_event("g1")["onBehalfOf"] == "alice"


DIALECT_REFUSALS: dict[str, Callable[[Any], bool]] = {
    "Itential assign": lambda r: r.status == 409 and "absent" in r.body["message"],
    "Journey Manager assign": lambda r: r.status == 400 and r.body["errorKey"] == "absent",
    "ConductorOne reassign": lambda r: r.status == 409 and r.body["code"] in (9, 10) and "absent" in r.body["message"],
    "bulk assign": lambda r: r.body["results"][0]["status"] == 409,
    "bulk assign, atomic": lambda r: r.status == 409,
    "bulk reassign": lambda r: r.body["results"][0]["status"] == 409,
    "delegate": lambda r: r.status == 409 and r.body["code"] == "absent",
}


@pytest.mark.parametrize("path", PATHS)
def test_a_dead_end_leaves_the_task_where_it_is_in_each_dialects_shape(path: str) -> None:
    away("alice", "carol")
    away("carol", None)  # the chain ends at an absent user without a delegate
    before = get_task(task_of(path)).body
    r = give(path)
    assert DIALECT_REFUSALS[path](r), r
    after = get_task(task_of(path)).body
    assert (after["assignee"], after["version"]) == (before["assignee"], before["version"])


def offboard(uid: str) -> None:
    r = call("POST", f"/api/v1/users/{uid}/offboard", {}, user="root", roles=ADMIN)
    assert r.status == 200, r


@pytest.mark.parametrize("path", PATHS)
def test_an_inactive_delegate_stands_in_for_nobody_the_work_stays_where_it_is(path: str) -> None:
    """An offboarded delegate ends the chain as an absent user without a delegate would: the work
    is refused as a dead end (409 `absent`, in each dialect's shape), not given to the inactive
    delegate (`userInactive`)."""
    away("alice", "carol")
    offboard("carol")
    before = get_task(task_of(path)).body
    r = give(path)
    assert DIALECT_REFUSALS[path](r), r
    after = get_task(task_of(path)).body
    assert (after["assignee"], after["version"]) == (before["assignee"], before["version"])


def test_an_inactive_delegate_down_the_chain_or_shared_is_a_dead_end_and_active_again_stands_in() -> None:
    away("alice", "dave", "share")
    away("dave", "carol")  # alice -> dave -> carol, carol offboarded
    offboard("carol")
    r = give("Itential assign")
    assert r.status == 409 and "absent" in r.body["message"], r
    assert call("PUT", "/api/v1/users/carol", {"username": "carol", "active": True}, user="root",
                roles=ADMIN).status == 200  # back: its absences' entries were kept, it stands in again
    ok(give("ConductorOne reassign"))
    assert set(get_task("g1").body["candidateUsers"]) == {"alice", "carol"}
    assert (last_event("g1")["onBehalfOf"], last_event("g1")["reason"]) == ("alice", "absence:share")


def test_an_absent_user_taking_work_for_themselves_is_not_redirected() -> None:
    away("alice", "carol")
    assert native("claim", "g1", "alice").status == 200
    assert get_task("g1").body["assignee"] == "alice" and last_event("g1")["onBehalfOf"] is None


def test_the_delegates_own_rules_apply() -> None:
    away("alice", "carol")
    # skills: the task needs one alice has and carol lacks
    for uid, skills in (("alice", ["sql"]), ("carol", [])):
        call("PUT", f"/api/v1/users/{uid}", {"username": uid, "skills": skills}, user="root", roles=ADMIN)
    create_task("s1", candidateUsers=["alice"], requiredSkills=["sql"])
    r = call("POST", "/operations-manager/tasks/s1/assign", {"userId": "alice"}, user="root", roles=ADMIN)
    assert r.status == 403 and "carol" in r.body["message"], r
    # capacity: carol may hold nothing
    call("PUT", "/api/v1/users/carol", {"username": "carol", "capacity": 0}, user="root", roles=ADMIN)
    r = call("POST", "/operations-manager/tasks/g1/assign", {"userId": "alice"}, user="bob")
    assert r.status == 409 and "capacity" in r.body["message"], r
    assert get_task("g1").body["assignee"] is None


def test_separation_applies_to_the_delegate() -> None:
    away("alice", "carol")
    create_task("prepare", candidateUsers=["carol"], caseId="case-1")
    create_task("approve", candidateUsers=["alice"], caseId="case-1", separation={"tasks": ["prepare"]})
    assert native("claim", "prepare", "carol").status == 200
    r = call("POST", "/api/v1/tasks/approve/action/reassign", {"newStepUserIds": ["alice"]}, user="root",
             roles=ADMIN)
    assert r.status == 409 and "Separation of duties" in r.body["message"] and "carol" not in r.body["message"], r


def test_reassign_to_several_replaces_each_absent_one() -> None:
    away("alice", "carol")
    r = call("POST", "/api/v1/tasks/g1/action/reassign", {"newStepUserIds": ["alice", "dave"]}, user="bob")
    assert r.status == 200, r
    assert r.body["taskView"]["task"]["stepApproverIds"] == ["carol", "dave"]
    assert last_event("g1")["onBehalfOf"] == "alice"


def _racing_absence(monkeypatch: pytest.MonkeyPatch, absence: Absence | None, was: Absence | None) -> list[int]:
    """Make the first task write find alice's absence changed since its read (set, or ended)."""
    original = TaskRepository.write
    writes: list[int] = []

    def write(self: TaskRepository, tenant: str, change: Any) -> None:
        if not writes:
            DirectoryRepository(self.db).set_absence(TENANT, "alice", absence, {"alice": was}, "alice")
        writes.append(1)
        return original(self, tenant, change)
    monkeypatch.setattr(TaskRepository, "write", write)
    return writes


def test_an_absence_set_between_the_read_and_the_write_is_decided_again(monkeypatch: pytest.MonkeyPatch) -> None:
    absence = Absence.model_validate({"from": clock.stamp(), "until": clock.after(3600), "delegateTo": "carol"})
    writes = _racing_absence(monkeypatch, absence, None)
    ok(give("Itential assign"))
    assert len(writes) == 2  # the first write was refused on alice's absence
    assert get_task("g1").body["assignee"] == "carol"
    assert [e["action"] for e in history("g1")].count("assign") == 1


def test_an_absence_ended_between_the_read_and_the_write_is_decided_again(monkeypatch: pytest.MonkeyPatch) -> None:
    away("alice", "carol")
    listed = call("GET", "/api/v1/users", query={"filter": "alice"}).body["items"][0]
    was = Absence.model_validate(listed["absence"])
    writes = _racing_absence(monkeypatch, None, was)
    ok(give("ConductorOne reassign"))
    assert len(writes) == 2
    assert get_task("g1").body["assignee"] == "alice" and last_event("g1")["onBehalfOf"] is None


def test_a_resolution_to_an_absent_owner_goes_to_who_stands_in() -> None:
    assert native("delegate", "h1", "bob", {"userId": "dave"}).status == 200
    away("bob", "carol")
    r = native("resolve", "h1", "dave")
    assert r.status == 200 and r.body["assignee"] == "carol", r
    assert (last_event("h1")["onBehalfOf"], r.body["owner"]) == ("bob", "bob")


def test_ops_roles_are_enough_to_be_given_work_on_behalf() -> None:
    away("alice", "carol")
    r = call("POST", "/operations-manager/tasks/g1/assign", {"userId": "alice"}, user="bob", roles=OPS)
    assert r.status == 200 and r.body["data"]["metrics"]["user"] == "carol", r
