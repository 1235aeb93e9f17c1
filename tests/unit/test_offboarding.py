"""Offboarding (issue 27 item 3; API.md "Absence, delegation, offboarding"):
`POST /api/v1/users/{id}/offboard {"to"?, "dryRun"?}` by admin. The user ends inactive, out of
every group and candidate list, holding and offered nothing, and can claim nothing on any path;
each task moves by its own conditional write with its event (reason `offboarding`); a dry run
writes nothing; a call killed half way is finished by the next, which moves no task twice; the
loads stay exact. On moto and (integration tier) DynamoDB Local."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from baton.domain import Caller
from baton.storage.dynamo import get_dynamo
from baton.tasks import eligibility
from baton.tasks.listings import TaskListings
from baton.tasks.offers import OfferService
from baton.tasks.repository import TaskRepository
from baton.tasks.service import TaskService
from tests.support import ADMIN, TENANT, bulk, call, claim, create_task, get_task, history, native, seed, table_items

pytestmark = pytest.mark.usefixtures("backend")


def offboard(user: str, body: dict[str, Any] | None = None, by: str = "root",
             roles: tuple[str, ...] = ADMIN) -> Any:
    return call("POST", f"/api/v1/users/{user}/offboard", body if body is not None else {}, user=by, roles=roles)


def user(uid: str) -> dict[str, Any]:
    found = {u["id"]: u for u in call("GET", "/api/v1/users", query={"limit": "100"}).body["items"]}
    return found[uid]


def offboarding_events(task: str) -> list[dict[str, Any]]:
    return [e for e in history(task) if e["reason"] == "offboarding"]


def held_by(uid: str) -> list[str]:
    r = call("GET", "/api/v1/tasks", query={"assignee": uid, "status": "open", "limit": "100"})
    assert r.status == 200, r
    return sorted(t["id"] for t in r.body["items"])


def scene() -> None:
    """alice holds h1 (a direct task also open to bob) and h2 (a group task), is a candidate of q1
    (with carol) and of q2 (alone), and is in group ops."""
    seed()
    create_task("h1", candidateUsers=["alice", "bob"])
    create_task("h2", candidateGroups=["ops"])
    create_task("q1", candidateUsers=["alice", "carol"])
    create_task("q2", candidateUsers=["alice"])
    for t in ("h1", "h2"):
        assert native("claim", t, "alice").status == 200


def outcomes(body: dict[str, Any]) -> dict[str, tuple[int, str | None, str | None]]:
    return {r["taskId"]: (r["status"], r.get("outcome"), r.get("assignee")) for r in body["results"]}


EXPECTED = {"h1": (200, "reassigned", "dave"), "h2": (200, "reassigned", "dave"),
            "q1": (200, "candidateRemoved", None), "q2": (200, "candidateRemoved", None),
            "t3": (200, "candidateRemoved", None)}  # the seed's automatic task names alice too


def test_offboarding_moves_every_task_and_leaves_the_user_inactive_in_no_group_or_candidate_list() -> None:
    scene()
    r = offboard("alice", {"to": "dave"})
    assert r.status == 200, r
    assert outcomes(r.body) == EXPECTED
    assert r.body["dryRun"] is False and r.body["groupsLeft"] == ["ops"]
    assert (r.body["user"]["active"], r.body["user"]["groups"], r.body["user"]["load"]) == (False, [], 0)
    assert all(item["task"]["version"] >= 2 for item in r.body["results"])
    # the user: inactive, in no group; the group without it; the loads exact
    assert (user("alice")["active"], user("alice")["groups"], user("alice")["load"]) == (False, [], 0)
    assert user("dave")["load"] == 2 and held_by("dave") == ["h1", "h2"] and held_by("alice") == []
    assert call("GET", "/api/v1/groups/ops/stats").status == 200
    # the tasks: held by dave, out of every candidate list; q2 without any other candidate gets dave
    assert get_task("h1").body["candidateUsers"] == ["bob"]
    assert get_task("q1").body["candidateUsers"] == ["carol"]
    assert get_task("q2").body["candidateUsers"] == ["dave"]
    for t in EXPECTED:
        [event] = offboarding_events(t)
        assert event["actor"] == "root"
    assert [e["action"] for e in offboarding_events("h1")] == ["reassign"]
    assert offboarding_events("h1")[0]["changes"]["assignee"] == {"from": "alice", "to": "dave"}
    assert "alice" not in call("GET", "/api/v1/tasks", query={"candidate": "me"}, user="alice").body["items"]
    # the second call finds nothing left to do
    again = offboard("alice", {"to": "dave"})
    assert again.status == 200 and again.body["results"] == [] and again.body["groupsLeft"] == []
    assert user("dave")["load"] == 2


def test_without_to_held_tasks_go_back_to_their_queues() -> None:
    scene()
    r = offboard("alice")
    assert r.status == 200, r
    assert outcomes(r.body) == {"h1": (200, "queued", None), "h2": (200, "queued", None),
                                "q1": (200, "candidateRemoved", None), "q2": (200, "candidateRemoved", None),
                                "t3": (200, "candidateRemoved", None)}
    assert held_by("alice") == [] and user("alice")["load"] == 0
    assert get_task("q2").body["candidateUsers"] == []  # nobody to stand in: admin's to give
    assert native("claim", "h2", "bob").status == 200  # back in the group's queue
    assert [e["action"] for e in offboarding_events("h1")] == ["unassign"]


def test_a_dry_run_answers_the_same_results_and_writes_nothing() -> None:
    scene()
    before = table_items()
    r = offboard("alice", {"to": "dave", "dryRun": True})
    assert r.status == 200, r
    assert r.body["dryRun"] is True and r.body["groupsLeft"] == ["ops"] and r.body["user"]["active"] is False
    assert outcomes(r.body) == EXPECTED and all("task" not in i for i in r.body["results"])
    assert table_items() == before
    assert outcomes(offboard("alice", {"to": "dave"}).body) == EXPECTED


def test_to_gets_only_what_it_may_hold_the_rest_goes_back_to_the_queue() -> None:
    """`to` is given a task only where eligibility grants it: its capacity (counted as it fills,
    in a dry run too), the task's reassignment policy; the rest goes back to its queues."""
    seed()
    assert call("PUT", "/api/v1/users/dave", {"username": "dave", "capacity": 1}, user="root",
                roles=ADMIN).status == 200
    create_task("p1", candidateUsers=["alice"], policy={"allowReassignment": False})
    create_task("c1", candidateUsers=["alice"])
    create_task("c2", candidateUsers=["alice"])
    for t in ("p1", "c1", "c2"):
        assert native("claim", t, "alice").status == 200
    want = {"p1": (200, "queued", None), "c1": (200, "reassigned", "dave"), "c2": (200, "queued", None),
            "t3": (200, "candidateRemoved", None)}
    assert outcomes(offboard("alice", {"to": "dave", "dryRun": True}).body) == want
    assert outcomes(offboard("alice", {"to": "dave"}).body) == want
    assert user("dave")["load"] == 1 and user("alice")["load"] == 0
    assert get_task("c2").body["candidateUsers"] == ["dave"]  # no candidate left: `to` stands in


def test_a_task_held_as_a_delegate_goes_back_to_its_owner_and_an_offer_is_withdrawn() -> None:
    seed()
    create_task("d1", candidateUsers=["bob"])
    assert native("claim", "d1", "bob").status == 200
    assert native("delegate", "d1", "bob", {"userId": "alice"}).status == 200
    create_task("o1", candidateGroups=["ops"])
    service = TaskService(get_dynamo(), Caller("root", "root", TENANT, frozenset({"admin"})))
    OfferService(service).offer("o1", "alice", 600, "routing:round-robin")
    assert user("alice")["load"] == 2  # the delegated task and the offer
    r = offboard("alice", {"to": "dave"})
    assert outcomes(r.body) == {"d1": (200, "returnedToOwner", "bob"), "o1": (200, "offerWithdrawn", None),
                                "t3": (200, "candidateRemoved", None)}
    d1, o1 = get_task("d1").body, get_task("o1").body
    assert (d1["assignee"], d1["delegationState"]) == ("bob", "resolved")
    assert (o1["offeredTo"], o1["assignee"], "alice" in o1["offerTried"]) == (None, None, True)
    assert user("alice")["load"] == 0 and user("bob")["load"] == 1


def test_an_inactive_user_can_claim_nothing_on_any_path_in_each_dialects_shape() -> None:
    seed()
    assert offboard("alice").status == 200
    create_task("n1", candidateUsers=["alice"])  # named a candidate after it left: it still claims nothing
    create_task("n2", candidateGroups=["ops"])
    assert call("PUT", "/api/v1/groups/ops", {"name": "Operations", "members": ["alice", "bob"]}, user="root",
                roles=ADMIN).status == 200  # back in a group: still inactive
    r = native("claim", "n1", "alice")
    assert (r.status, r.body["code"]) == (409, "userInactive"), r
    r = claim("n2", "alice")  # Itential
    assert r.status == 409, r
    r = call("POST", "/workspaces/secure/api/v1/txn/assign", {"params": {"submitKey": "n2"}}, user="alice")
    assert (r.status, r.body["errorKey"]) == (400, "userInactive"), r  # Journey Manager
    r = call("POST", "/api/v1/tasks/n1/action/reassign", {"newStepUserIds": ["alice"]}, user="root", roles=ADMIN)
    assert r.status == 409, r  # ConductorOne
    r = bulk("assign", {"taskIds": ["n1", "n2"], "userId": "alice"}, user="root", roles=ADMIN)
    assert {i["status"] for i in r.body["results"]} == {409}, r
    r = call("POST", "/api/v1/tasks/claim-next", {}, user="alice")
    assert r.status in (204, 409), r
    assert native("claim", "n2", "root", roles=ADMIN).status == 200
    r = native("delegate", "n2", "root", roles=ADMIN, body={"userId": "alice"})
    assert (r.status, r.body["code"]) == (409, "userInactive"), r
    assert get_task("n1").body["assignee"] is None and get_task("n2").body["assignee"] == "root"
    assert user("alice")["load"] == 0


def test_the_write_itself_refuses_an_inactive_holder_whatever_was_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """A claim or an offer's acceptance that read the user before it became inactive (here: no
    rule about the holder asked at all) is refused by its write's condition on the user's load
    item, so it cannot win after the user is inactive."""
    seed()
    create_task("n1", candidateUsers=["alice"])
    create_task("o1", candidateGroups=["ops"])
    service = TaskService(get_dynamo(), Caller("root", "root", TENANT, frozenset({"admin"})))
    OfferService(service).offer("o1", "alice", 600, "routing:round-robin")
    # inactive, its tasks not moved yet (as between offboarding's first step and its moves)
    assert call("PUT", "/api/v1/users/alice", {"username": "alice", "active": False}, user="root",
                roles=ADMIN).status == 200
    monkeypatch.setattr(eligibility, "_may_hold", lambda h, u: None)
    r = native("claim", "n1", "alice")
    assert (r.status, r.body["code"]) == (409, "userInactive"), r
    r = native("accept", "o1", "alice")  # the offer's bearer is alice already: no load moves, still pinned
    assert (r.status, r.body["code"]) == (409, "userInactive"), r
    assert get_task("n1").body["assignee"] is None and get_task("o1").body["assignee"] is None
    r = offboard("alice")
    assert outcomes(r.body)["o1"][1] == "offerWithdrawn" and user("alice")["load"] == 0


def test_a_call_killed_half_way_is_finished_by_the_next_and_no_task_moves_twice(
        monkeypatch: pytest.MonkeyPatch) -> None:
    seed()
    ids = [f"k{i}" for i in range(8)]
    for t in ids:
        create_task(t, candidateUsers=["alice", "bob"])
        assert native("claim", t, "alice").status == 200
    create_task("kq", candidateUsers=["alice"])
    write = TaskRepository.write
    done: list[str] = []

    def dies_after_three(self: TaskRepository, tenant: str, change: Any) -> None:
        if len(done) == 3:
            raise RuntimeError("killed")  # the process dies here: nothing after it runs
        write(self, tenant, change)
        done.append(change.after.id)

    monkeypatch.setattr(TaskRepository, "write", dies_after_three)
    assert offboard("alice", {"to": "dave"}).status == 500
    monkeypatch.setattr(TaskRepository, "write", write)
    assert user("alice")["active"] is False and user("alice")["groups"] == []  # those came first
    assert sorted(held_by("dave")) == sorted(done)
    r = offboard("alice", {"to": "dave"})
    assert r.status == 200, r
    finished = [i["taskId"] for i in r.body["results"]]
    assert not set(finished) & set(done) and set(finished) | set(done) == {*ids, "kq", "t3"}
    assert Counter(len(offboarding_events(t)) for t in [*ids, "kq", "t3"]) == {1: 10}
    assert held_by("dave") == sorted(ids) and held_by("alice") == []
    assert (user("dave")["load"], user("alice")["load"]) == (8, 0)
    assert offboard("alice", {"to": "dave"}).body["results"] == []


@pytest.mark.parametrize(("who", "body", "roles", "status"), [
    ("alice", {}, ("apiwrite",), 403),  # admin only
    ("alice", {}, ("operations",), 403),
    ("nobody", {}, ADMIN, 404),
    ("alice", {"to": "nobody"}, ADMIN, 400),
    ("alice", {"to": "alice"}, ADMIN, 400),
    ("alice", {"to": ""}, ADMIN, 400),
    ("alice", {"dryRun": "maybe"}, ADMIN, 400),
    ("alice", {"other": 1}, ADMIN, 400),
    ("alice", {"to": ["bob"]}, ADMIN, 400),
])
def test_bad_input_is_a_clear_4xx_and_changes_nothing(who: str, body: dict[str, Any], roles: tuple[str, ...],
                                                       status: int) -> None:
    seed()
    before = table_items()
    r = offboard(who, body, roles=roles)
    assert r.status == status, r
    assert r.body["message"]
    assert table_items() == before


def test_work_cannot_go_to_an_inactive_user() -> None:
    seed()
    assert offboard("dave").status == 200
    r = offboard("alice", {"to": "dave"})
    assert (r.status, r.body["code"]) == (409, "userInactive"), r
    assert user("alice")["active"] is True


def test_a_task_the_index_shows_late_is_found_while_the_user_still_bears_something(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A GSI is eventually consistent: a task claimed just before the user became inactive may be
    missing from the first listing. Its load (read consistently) says so, and the next pass
    finds it."""
    scene()
    involving = TaskListings.involving
    calls: list[int] = []

    def late(self: TaskListings, tenant: str, uid: str) -> list[str]:
        calls.append(1)
        found = involving(self, tenant, uid)
        return [t for t in found if t != "h2"] if len(calls) == 1 else found

    monkeypatch.setattr(TaskListings, "involving", late)
    r = offboard("alice", {"to": "dave"})
    assert r.status == 200 and outcomes(r.body) == EXPECTED, r
    assert len(calls) == 2 and r.body["user"]["load"] == 0
    assert held_by("alice") == [] and user("dave")["load"] == 2
