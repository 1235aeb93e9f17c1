"""Separation of duties (API.md "Separation of duties"): a user who held a task (or a task of an
activity) of the case may not hold one separated from it, nor may its creator when
`excludeCreator`; every path that gives a task, every dialect, admin included; 409 `separation`
naming the rule, never the other person."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support import ADMIN, call, claim, create_task, get_task, native, seed

pytestmark = pytest.mark.usefixtures("backend")


@pytest.fixture(autouse=True)
def _case(backend: str) -> None:
    seed()
    create_task("prepare", candidateUsers=["alice", "bob", "root"], caseId="order-1")
    create_task("approve", candidateUsers=["alice", "bob", "root"], caseId="order-1",
                separation={"tasks": ["prepare"]})
    create_task("other-case", candidateUsers=["alice"], caseId="order-2", separation={"tasks": ["prepare"]})


def refused(r: Any) -> None:
    assert r.status == 409, r
    message = r.body["message"]
    assert "Separation of duties" in message and "(tasks)" in message and "alice" not in message


def test_who_held_the_first_task_may_not_hold_the_second() -> None:
    assert native("claim", "prepare", "alice").status == 200
    refused(native("claim", "approve", "alice"))
    assert native("release", "prepare", "alice").status == 200
    refused(native("claim", "approve", "alice"))  # held once is enough
    assert native("claim", "approve", "bob").status == 200  # someone else may
    assert native("claim", "other-case", "alice").status == 200  # another case: no rule


def test_every_path_and_dialect_refuses_in_its_own_shape() -> None:
    native("claim", "prepare", "alice")
    r = claim("approve", "alice")  # Itential
    assert r.status == 409 and "Separation of duties" in r.body["message"]
    r = call("POST", "/operations-manager/tasks/approve/assign", {"userId": "alice"}, user="bob")
    assert r.status == 409, r
    r = call("POST", "/api/v1/tasks/approve/action/reassign", {"newStepUserIds": ["alice"]}, user="bob")
    assert r.status == 409 and r.body["code"] in (9, 10), r  # ConductorOne's gRPC shape
    r = call("POST", "/api/v1/task-actions/claim", {"taskIds": ["approve"]}, user="alice")
    assert r.body["results"][0]["status"] == 409
    r = call("POST", "/api/v1/tasks/claim-next", {}, user="alice")
    assert r.status in (200, 204) and (r.status == 204 or r.body["id"] != "approve")
    assert get_task("approve").body["assignee"] is None


def test_admin_is_bound_too_and_the_creator_rule() -> None:
    assert native("claim", "prepare", "root", roles=ADMIN).status == 200
    refused_root = native("claim", "approve", "root", roles=ADMIN)
    assert refused_root.status == 409 and "(tasks)" in refused_root.body["message"]
    create_task("mine", candidateUsers=["root", "alice"], separation={"excludeCreator": True})
    r = native("claim", "mine", "root", roles=ADMIN)
    assert r.status == 409 and "excludeCreator" in str(r.body)
    assert native("claim", "mine", "alice").status == 200


def test_activities_of_the_case() -> None:
    create_task("filled", caseId="order-3", projectId="prj", activityId="act")  # alice: the activity's assignee
    create_task("checked", candidateUsers=["alice", "bob"], caseId="order-3", separation={"activities": ["act"]})
    assert native("claim", "filled", "alice").status == 200
    r = native("claim", "checked", "alice")
    assert r.status == 409 and "(activities)" in str(r.body)


def test_bad_separations_are_400() -> None:
    for body in ({"tasks": "x"}, {"tasks": [""]}, {"tasks": ["t"] * 21}, {"excludeCreator": "yes"}, {"who": 1}):
        r = call("POST", "/api/v1/tasks", {"name": "x", "separation": body}, user="root", roles=ADMIN)
        assert r.status == 400, (body, r)


def test_a_task_says_whether_the_caller_may_hold_it() -> None:
    """`mayHold` on a task's get and in listings (for the inbox: why instead of a Claim button),
    computed by tasks.eligibility with the caller's holds in the case, naming the rule only."""
    def may(task: str, user: str, roles: tuple[str, ...] | None = None) -> dict[str, Any]:
        r = call("GET", f"/api/v1/tasks/{task}", user=user, **({"roles": roles} if roles else {}))
        assert r.status == 200, r
        found: dict[str, Any] = r.body["mayHold"]
        return found

    assert may("approve", "alice") == {"mayHold": True}
    assert native("claim", "prepare", "alice").status == 200
    shown = may("approve", "alice")
    assert shown["mayHold"] is False and shown["reason"] == "separation" and "(tasks)" in shown["message"]
    assert "alice" not in shown["message"]
    assert may("approve", "bob") == {"mayHold": True}
    assert may("other-case", "alice") == {"mayHold": True}  # another case
    listed = call("GET", "/api/v1/tasks", user="alice", query={"candidate": "me", "status": "open"}).body["items"]
    shown = {t["id"]: t["mayHold"]["mayHold"] for t in listed}
    assert shown["approve"] is False and shown["other-case"] is True
    case = call("GET", "/api/v1/tasks", user="alice", query={"caseId": "order-1"}).body["items"]
    assert {t["id"]: t["mayHold"]["mayHold"] for t in case} == {"prepare": True, "approve": False}
    create_task("mine", candidateUsers=["root", "alice"], separation={"excludeCreator": True})
    assert "excludeCreator" in may("mine", "root", ADMIN)["message"]
    assert may("mine", "alice") == {"mayHold": True}
