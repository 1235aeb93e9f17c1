"""Load, capacity and skills on every path that gives or takes a task (API.md "People"): the load
moves in the task's own transaction; a user at capacity is refused with 409 `capacity` (in each
dialect's shape); a task's requiredSkills only to users holding them (admin too)."""

from __future__ import annotations

from typing import Any

import pytest

from baton import clock
from tests.support import ADMIN, WRITER, bulk, call, claim, create_task, native, seed

pytestmark = pytest.mark.usefixtures("backend", "controlled_clock")


@pytest.fixture(autouse=True)
def _seeded(backend: str) -> None:
    seed()


def person(uid: str) -> dict[str, Any]:
    r = call("GET", "/api/v1/users", query={"filter": uid})
    return next(u for u in r.body["items"] if u["id"] == uid)


def load(uid: str) -> int:
    return int(person(uid)["load"])


def set_user(uid: str, **fields: Any) -> None:
    r = call("PUT", f"/api/v1/users/{uid}", {"username": uid, "firstname": uid.title(), **fields}, user="root",
             roles=ADMIN)
    assert r.status in (200, 201), r


def tasks(prefix: str, n: int, **fields: Any) -> list[str]:
    ids = [f"{prefix}{i}" for i in range(n)]
    for t in ids:
        create_task(t, **fields)
    return ids


def test_load_follows_claim_release_complete_and_abandon() -> None:
    a, b, c = tasks("l", 3, candidateGroups=["ops"])
    assert load("alice") == 0
    assert native("claim", a, "alice").status == 200 and load("alice") == 1
    assert claim(b, "alice").status == 200 and load("alice") == 2  # Itential's claim
    assert native("release", a, "alice").status == 200 and load("alice") == 1
    assert native("complete", b, "alice").status == 200 and load("alice") == 0
    assert native("claim", c, "alice").status == 200 and load("alice") == 1
    assert native("abandon", c, "root", roles=ADMIN).status == 200 and load("alice") == 0
    assert native("claim", a, "bob").status == 200 and (load("bob"), load("alice")) == (1, 0)


def test_load_follows_assign_reassign_and_unassign() -> None:
    (a,) = tasks("g", 1, candidateGroups=["ops"])
    r = call("POST", f"/operations-manager/tasks/{a}/assign", {"userId": "bob"}, user="alice")
    assert r.status == 200 and (load("alice"), load("bob")) == (0, 1)
    r = call("POST", f"/api/v1/tasks/{a}/action/reassign", {"newStepUserIds": ["alice"], "comment": "over"},
             user="bob")
    assert r.status == 200 and (load("alice"), load("bob")) == (1, 0)
    r = call("POST", "/workspaces/secure/api/v1/txn/unassign", {"params": {"submitKey": a}}, user="alice")
    assert r.status == 200 and load("alice") == 0
    r = call("POST", "/workspaces/secure/api/v1/txn/assign", {"params": {"submitKey": a}}, user="bob")
    assert r.status == 200 and load("bob") == 1
    # offered to several: nobody holds it, the holder's slot is free again
    r = call("POST", f"/api/v1/tasks/{a}/action/reassign", {"newStepUserIds": ["alice", "carol"]}, user="bob")
    assert r.status == 200 and (load("alice"), load("bob"), load("carol")) == (0, 0, 0)


def test_claim_next_and_bulk_move_the_load() -> None:
    ids = tasks("n", 4, candidateGroups=["ops"])
    assert call("POST", "/api/v1/tasks/claim-next", user="bob").status == 200 and load("bob") == 1
    r = bulk("claim", {"taskIds": ids})
    won = [i["taskId"] for i in r.body["results"] if i["status"] == 200]
    assert r.status == 200 and load("alice") == len(won) >= 3
    r = bulk("release", {"taskIds": won})
    assert load("alice") == 0 and r.status == 200
    assert bulk("claim", {"taskIds": won[:2], "atomic": True}).status == 200 and load("alice") == 2
    assert bulk("complete", {"taskIds": won[:2], "atomic": True}).status == 200 and load("alice") == 0


def test_a_passed_lease_taken_over_moves_the_load() -> None:
    (a,) = tasks("z", 1, candidateGroups=["ops"])
    assert native("claim", a, "alice", {"leaseSeconds": 60}).status == 200 and load("alice") == 1
    clock.advance(120)
    assert native("claim", a, "bob").status == 200
    assert (load("alice"), load("bob")) == (0, 1)


def test_capacity_refuses_with_409_capacity_in_every_dialect() -> None:
    set_user("alice", capacity=1)
    a, b, c, d = tasks("c", 4, candidateGroups=["ops"])
    assert native("claim", a, "alice").status == 200
    r = native("claim", b, "alice")
    assert r.status == 409 and r.body["code"] == "capacity" and "capacity" in r.body["message"]
    r = claim(b, "alice")  # Itential
    assert r.status == 409 and "capacity" in r.body["message"]
    r = call("POST", "/workspaces/secure/api/v1/txn/assign", {"params": {"submitKey": b}}, user="alice")
    assert r.status == 400 and r.body["errorKey"] == "capacity"  # Journey Manager: 400 + errorKey
    r = call("POST", f"/api/v1/tasks/{b}/action/reassign", {"newStepUserIds": ["alice"]}, user="bob")
    assert r.status == 409 and r.body["code"] == 10  # ConductorOne: ABORTED
    r = call("POST", f"/operations-manager/tasks/{b}/assign", {"userId": "alice"}, user="bob")
    assert r.status == 409
    r = call("POST", "/api/v1/tasks/claim-next", user="alice")
    assert r.status == 409 and r.body["code"] == "capacity"
    r = bulk("claim", {"taskIds": [b, c]})
    assert r.status == 200 and [i["status"] for i in r.body["results"]] == [409, 409]
    assert bulk("claim", {"taskIds": [b, c], "atomic": True}).status == 409
    assert load("alice") == 1
    # a slot frees: the next claim fits; an admin write raising the capacity lets more in
    assert native("complete", a, "alice").status == 200 and native("claim", b, "alice").status == 200
    set_user("alice", capacity=3)
    assert bulk("claim", {"taskIds": [c, d], "atomic": True}).status == 200 and load("alice") == 3
    assert native("release", d, "alice").status == 200
    set_user("alice", capacity=2)  # under the current load: nothing more until it drops
    assert native("claim", d, "alice").status == 409 and load("alice") == 2


def test_bulk_atomic_over_capacity_changes_nothing() -> None:
    set_user("alice", capacity=2)
    ids = tasks("b", 3, candidateGroups=["ops"])
    r = bulk("claim", {"taskIds": ids, "atomic": True})
    assert r.status == 409 and load("alice") == 0
    assert all(call("GET", f"/api/v1/tasks/{t}").body["assignee"] is None for t in ids)


def test_capacity_zero_holds_nothing_and_skills_gate_every_path() -> None:
    set_user("carol", capacity=0)
    create_task("d0", candidateUsers=["carol"])
    assert native("claim", "d0", "carol").status == 409
    create_task("s0", candidateGroups=["ops"], requiredSkills=["german"])
    r = native("claim", "s0", "alice")
    assert r.status == 403 and r.body["code"] == "missingSkills"
    assert native("claim", "s0", "root", roles=ADMIN).status == 403  # admin too: the work needs the skill
    r = call("POST", "/operations-manager/tasks/s0/assign", {"userId": "bob"}, user="root", roles=ADMIN)
    assert r.status == 403
    set_user("bob", skills=["german", "french"])
    assert call("POST", "/operations-manager/tasks/s0/assign", {"userId": "bob"}, user="root",
                roles=ADMIN).status == 200
    assert load("bob") == 1
    # claim-next passes over what the caller cannot do
    create_task("s1", candidateGroups=["ops"], requiredSkills=["legal"])
    assert call("POST", "/api/v1/tasks/claim-next", user="alice").body["id"] == "t1"  # the seed's
    assert call("POST", "/api/v1/tasks/claim-next", user="alice").status == 204


def test_users_outside_the_directory_still_claim_and_nothing_is_created_for_them() -> None:
    create_task("x0", candidateUsers=["zed"])
    assert native("claim", "x0", "zed").status == 200
    assert call("GET", "/api/v1/users", query={"filter": "zed"}).body["items"] == []
    assert native("complete", "x0", "zed").status == 200
    assert call("GET", "/api/v1/users", query={"filter": "zed"}).body["items"] == []
    # created while it holds nothing: counted from then on
    create_task("x1", candidateUsers=["zed"])
    set_user("zed")
    assert native("claim", "x1", "zed").status == 200 and load("zed") == 1


def test_the_load_is_no_profile_field() -> None:
    (a,) = tasks("p", 1, candidateGroups=["ops"])
    assert native("claim", a, "alice").status == 200
    set_user("alice", capacity=5, skills=["x"])
    assert load("alice") == 1
    r = call("PUT", "/api/v1/users/alice", {"username": "alice", "load": 0}, user="root", roles=ADMIN)
    assert r.status == 400 and load("alice") == 1
    assert call("POST", "/api/v1/tasks", {"name": "x", "requiredSkills": ["x"]}, roles=WRITER).status == 201

