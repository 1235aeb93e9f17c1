"""Separation of duties on every path (issue 27 item 4): declared on an activity, copied to the
tasks made from it (as its escalations and required skills are); refused on every path that gives
a task, admin included, with 409 `separation` in each dialect's shape, naming the rule and never
the other person."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support import ADMIN, TENANT, bulk, call, claim, create_task, get_task, native, seed

pytestmark = pytest.mark.usefixtures("backend")


@pytest.fixture(autouse=True)
def _case(backend: str) -> None:
    seed()
    r = call("PUT", "/api/v1/projects/prj/activities/check", {"name": "Check", "separation": {"activities": ["act"]}},
             user="root", roles=ADMIN)
    assert r.status == 201, r
    for uid in ("alice", "bob"):  # both may work on tasks of `check`
        r = call("POST", f"/api/1.0/{TENANT}/project/prj/activity/check/assignee",
                 {"aas_uid": uid, "aas_type": "user"}, user="root", roles=("PM_FACTORY",))
        assert r.status == 201, r
    create_task("fill", caseId="c1", projectId="prj", activityId="act")  # alice and ops may work on it
    create_task("verify", caseId="c1", projectId="prj", activityId="check")
    assert native("claim", "fill", "alice").status == 200


def names_the_rule(r: Any, status: int = 409) -> None:
    assert r.status == status, r
    text = str(r.body)
    assert "Separation of duties" in text and "(activities)" in text and "alice" not in text, r


def test_an_activitys_separation_is_copied_to_its_tasks() -> None:
    task = get_task("verify").body
    assert task["separation"] == {"excludeCreator": False, "tasks": [], "activities": ["act"]}
    create_task("own", caseId="c1", projectId="prj", activityId="check", separation={"excludeCreator": True})
    assert get_task("own").body["separation"]["activities"] == []  # the task's own wins


def test_a_bad_activity_separation_is_400() -> None:
    for bad in ({"activities": "act"}, {"tasks": [""]}, {"who": 1}, {"tasks": ["t"] * 21}):
        r = call("PUT", "/api/v1/projects/prj/activities/x", {"name": "X", "separation": bad}, user="root",
                 roles=ADMIN)
        assert r.status == 400, (bad, r)


GIVE = {
    "native claim": lambda: native("claim", "verify", "alice"),
    "Itential claim": lambda: claim("verify", "alice"),
    "Itential assign": lambda: call("POST", "/operations-manager/tasks/verify/assign", {"userId": "alice"}, user="bob"),
    "ConductorOne reassign": lambda: call("POST", "/api/v1/tasks/verify/action/reassign",
                                          {"newStepUserIds": ["alice"]}, user="bob"),
    "delegate": lambda: (native("claim", "verify", "bob"),
                         native("delegate", "verify", "bob", {"userId": "alice"}))[1],
    "admin's reassign": lambda: call("POST", "/api/v1/tasks/verify/action/reassign", {"newStepUserIds": ["alice"]},
                                     user="root", roles=ADMIN),
}


@pytest.mark.parametrize("path", list(GIVE))
def test_every_path_refuses_with_409_naming_the_rule(path: str) -> None:
    r = GIVE[path]()
    names_the_rule(r)
    if path.startswith("ConductorOne") or path == "admin's reassign":
        assert r.body["code"] in (9, 10)
    elif path.startswith("native") or path == "delegate":
        assert r.body["code"] == "separation"
    assert get_task("verify").body["assignee"] in (None, "bob")


def test_journey_managers_assign_refuses_with_its_error_key() -> None:
    call("PUT", "/api/v1/groups/ops", {"name": "Operations", "members": ["alice", "bob"]}, user="root", roles=ADMIN)
    create_task("queue", caseId="c1", candidateGroups=["ops"], separation={"activities": ["act"]})
    r = call("POST", "/workspaces/secure/api/v1/txn/assign", {"params": {"submitKey": "queue"}}, user="alice")
    assert r.status == 400 and r.body["errorKey"] == "separation", r
    assert "alice" not in r.body["message"] and "(activities)" in r.body["message"]


def test_bulk_refuses_each_naming_the_rule_and_atomic_all() -> None:
    r = bulk("claim", {"taskIds": ["verify"]}, user="alice")
    item = r.body["results"][0]
    assert item["status"] == 409 and "(activities)" in item["error"]["message"], r
    assert "alice" not in item["error"]["message"]
    # atomic: the case ledger's condition refuses the one transaction; the answer names the task
    # that refused and the rule, as the single task's refusal does, and never the other person
    r = bulk("claim", {"taskIds": ["verify"], "atomic": True}, user="alice")
    assert r.status == 409 and r.body["code"] == "atomicRefused" and "verify" in r.body["message"], r
    names_the_rule(r)
    assert get_task("verify").body["assignee"] is None
    # with other tasks in the request: the one refused is named with the rule, nothing is changed
    create_task("other", candidateUsers=["alice"])
    r = bulk("assign", {"taskIds": ["other", "verify"], "userId": "alice", "atomic": True}, user="root", roles=ADMIN)
    names_the_rule(r)
    assert "verify" in r.body["message"] and "other" not in r.body["message"], r
    assert get_task("other").body["assignee"] is None and get_task("verify").body["assignee"] is None


def test_bulk_atomic_two_separated_tasks_of_one_case_for_one_user_never_both() -> None:
    """Both in one atomic request: the user's holds in the case are one item, written once for both
    (one Update adding both), so the request is refused as a whole naming the rule (the item's
    condition cannot see the other task); two tasks of one case not separated are claimed together."""
    create_task("first", caseId="c2", candidateUsers=["bob"], separation={"tasks": ["second"]})
    create_task("second", caseId="c2", candidateUsers=["bob"])
    create_task("third", caseId="c2", candidateUsers=["bob"], projectId="prj", activityId="act")
    r = bulk("claim", {"taskIds": ["second", "first"], "atomic": True}, user="bob")
    assert r.status == 409 and r.body["code"] == "atomicRefused", r
    assert "(tasks)" in r.body["message"] and "bob" not in r.body["message"], r
    assert get_task("first").body["assignee"] is None and get_task("second").body["assignee"] is None
    r = bulk("claim", {"taskIds": ["second", "third"], "atomic": True}, user="bob")
    assert r.status == 200 and [i["status"] for i in r.body["results"]] == [200, 200], r
    r = native("claim", "first", "bob")  # the ledger holds both: first is separated from second
    assert (r.status, r.body["code"]) == (409, "separation"), r
