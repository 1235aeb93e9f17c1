"""Passing a held task to someone else is a reassignment in every dialect (issue 23, item 1): the
task's `policy` (`allowReassignment`, `allowedReassignees`, `requireReassignmentReason`) holds for
an Itential assign by the holder (or admin), a bulk `assign` and a Journey Manager assign exactly
as for a ConductorOne reassign, each refusing in its own dialect's shape, and the reason is
recorded. A free task given to someone is an assignment, not a reassignment: the policy does not
apply to it (as before)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support import ADMIN, OPS, WRITER, bulk, call, claim, get_task, history, seed

pytestmark = pytest.mark.usefixtures("backend")
CANDIDATES = ["alice", "bob", "carol"]


def assign(task: str, target: str, user: str = "alice", roles: tuple[str, ...] = OPS) -> Any:
    return call("POST", f"/operations-manager/tasks/{task}/assign", {"userId": target}, user=user, roles=roles)


def reassign(task: str, body: Any, user: str = "alice", roles: tuple[str, ...] = OPS) -> Any:
    return call("POST", f"/api/v1/tasks/{task}/action/reassign", body, user=user, roles=roles)


def journey_assign(task: str, user_key: str, user: str = "root", roles: tuple[str, ...] = ADMIN) -> Any:
    return call("POST", "/workspaces/secure/api/v1/txn/assign", {"params": {"submitKey": task, "userKey": user_key}},
                user=user, roles=roles)


def create(task: str, **fields: Any) -> None:
    r = call("POST", "/api/v1/tasks", {"id": task, "name": task, **fields}, roles=WRITER)
    assert r.status == 201, r


@pytest.fixture(autouse=True)
def _seeded(backend: str) -> None:
    seed()
    create("locked", candidateUsers=CANDIDATES, policy={"allowReassignment": False})
    create("picky", candidateUsers=CANDIDATES,
           policy={"allowedReassignees": ["carol"], "requireReassignmentReason": True})
    create("group", candidateGroups=["ops"], policy={"allowReassignment": False})
    for task in ("locked", "picky", "group"):
        assert claim(task, "alice").status == 200


def unchanged(task: str) -> None:
    assert get_task(task).body["assignee"] == "alice"
    assert [e["action"] for e in history(task)] == ["create", "claim"]


def itential_refused(r: Any, status: int) -> None:
    assert r.status == status and set(r.body) == {"message"} and r.body["message"], r


def test_reassignment_not_allowed_is_refused_in_every_dialect() -> None:
    c1 = reassign("locked", {"newStepUserIds": ["bob"], "comment": "x"})
    assert c1.status == 403 and c1.body["code"] == 7, c1
    itential_refused(assign("locked", "bob"), 403)  # the holder passing it on
    itential_refused(assign("locked", "bob", user="root", roles=ADMIN), 403)  # admin taking it from the holder
    one = bulk("assign", {"taskIds": ["locked"], "userId": "bob"})
    assert one.status == 200 and one.body["results"][0]["status"] == 403, one
    assert one.body["results"][0]["error"]["code"] == "reassignmentNotAllowed"
    atomic = bulk("assign", {"taskIds": ["locked"], "userId": "bob", "atomic": True})
    assert atomic.status == 409 and atomic.body["code"] == "atomicRefused", atomic
    jm = journey_assign("group", "bob")  # a held group task never passes from its holder in Journey Manager
    assert jm.status == 400 and jm.body["errorKey"], jm
    for task in ("locked", "group"):
        unchanged(task)
    # the holder giving it to itself is no reassignment: nothing to do
    assert assign("locked", "alice").status == 200
    unchanged("locked")


def test_allowed_reassignees_and_a_required_reason_hold_in_every_dialect() -> None:
    c1 = reassign("picky", {"newStepUserIds": ["bob"], "comment": "x"})
    assert c1.status == 400 and c1.body["code"] == 3, c1
    itential_refused(assign("picky", "bob"), 400)  # not an allowed reassignee
    itential_refused(assign("picky", "carol"), 400)  # allowed, but an Itential assign carries no reason
    r = bulk("assign", {"taskIds": ["picky"], "userId": "bob", "comment": "x"})
    assert r.body["results"][0]["status"] == 400 and "bob" in r.body["results"][0]["error"]["message"], r
    r = bulk("assign", {"taskIds": ["picky"], "userId": "carol"})
    assert r.body["results"][0]["status"] == 400 and "comment" in r.body["results"][0]["error"]["message"], r
    r = bulk("assign", {"taskIds": ["picky"], "userId": "carol", "comment": "   "})
    assert r.body["results"][0]["status"] == 400, r
    unchanged("picky")
    r = bulk("assign", {"taskIds": ["picky"], "userId": "carol", "comment": "on leave"})
    assert r.body["results"][0]["status"] == 200, r
    event = history("picky")[-1]
    assert (event["action"], event["actor"], event["from"], event["to"], event["comment"]) == (
        "assign", "alice", "alice", "carol", "on leave")


def test_giving_a_free_task_is_an_assignment_not_a_reassignment() -> None:
    create("free", candidateUsers=CANDIDATES, policy={"allowReassignment": False})
    assert assign("free", "bob").status == 200
    assert get_task("free").body["assignee"] == "bob"
    create("free2", candidateUsers=CANDIDATES, policy={"allowedReassignees": ["carol"],
                                                       "requireReassignmentReason": True})
    r = bulk("assign", {"taskIds": ["free2"], "userId": "bob"}, user="root", roles=ADMIN)
    assert r.body["results"][0]["status"] == 200, r


def test_a_bulk_comment_applies_to_assign_but_not_to_claim() -> None:
    assert bulk("claim", {"taskIds": ["t1"], "comment": "x"}).status == 400
    r = bulk("assign", {"taskIds": ["t1"], "userId": "bob", "comment": "yours"}, user="root", roles=ADMIN)
    assert r.status == 200 and r.body["results"][0]["status"] == 200, r
    assert history("t1")[-1]["comment"] == "yours"
