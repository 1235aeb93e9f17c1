"""ConductorOne reassign: policy rules, response shape, gRPC-gateway errors, history."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support import ADMIN, OPS, WRITER, call, claim, get_task, history, seed


def reassign(task: str, body: Any, user: str = "alice", roles: tuple[str, ...] = OPS, **kw: Any) -> Any:
    return call("POST", f"/api/v1/tasks/{task}/action/reassign", body, user=user, roles=roles, **kw)


@pytest.fixture(autouse=True)
def _seeded(backend: str) -> None:
    seed()
    r = call("POST", "/api/v1/tasks", {"id": "p1", "name": "Policy", "candidateUsers": ["alice", "bob", "carol"],
                                       "policy": {"allowedReassignees": ["bob", "carol"],
                                                  "requireReassignmentReason": True}}, roles=WRITER)
    assert r.status == 201
    r = call("POST", "/api/v1/tasks", {"id": "locked", "name": "Locked", "candidateUsers": ["alice"],
                                       "policy": {"allowReassignment": False}}, roles=WRITER)
    assert r.status == 201


def grpc(r: Any, status: int, code: int) -> None:
    assert r.status == status, r
    assert set(r.body) == {"code", "message", "details"} and r.body["code"] == code and r.body["details"] == []


def test_holder_reassigns_to_one_user_with_expansion() -> None:
    claim("t1", "alice")
    r = reassign("t1", {"comment": "your turn", "newStepUserIds": ["carol"], "expandMask": {"paths": ["*"]},
                        "policyStepId": "step-1"})
    assert r.status == 200
    assert r.body["taskView"]["task"]["assignee"] == "carol"
    assert r.body["expanded"] == [{"@type": "type.googleapis.com/c1.api.user.v1.User", "id": "carol",
                                   "displayName": "Carol Test", "username": "carol", "email": "",
                                   "status": "ENABLED"}]
    assert r.body["taskView"]["stepApproversPath"] == "$.expanded[*]"
    event = history("t1")[-1]
    assert event["id"] == r.body["ticketActionId"]
    assert (event["action"], event["actor"], event["from"], event["to"], event["comment"]) == (
        "reassign", "alice", "alice", "carol", "your turn")


def test_no_expand_mask_no_expansion() -> None:
    claim("t1", "alice")
    r = reassign("t1", {"newStepUserIds": ["carol"]})
    assert r.status == 200 and r.body["expanded"] == [] and "stepApproversPath" not in r.body["taskView"]


def test_several_users_are_offered_the_task() -> None:
    claim("t1", "alice")
    r = reassign("t1", {"newStepUserIds": ["carol", "dave"], "expandMask": ["users"]})
    assert r.status == 200
    task = r.body["taskView"]["task"]
    assert task["assignee"] is None and task["candidateUsers"] == ["carol", "dave"]
    assert [u["id"] for u in r.body["expanded"]] == ["carol", "dave"]
    assert history("t1")[-1]["candidates"] == ["carol", "dave"]
    assert claim("t1", "dave").status == 200


def test_candidate_of_unassigned_task_may_reassign_but_not_of_a_held_one() -> None:
    assert reassign("t1", {"newStepUserIds": ["carol"]}, user="bob").status == 200
    grpc(reassign("t1", {"newStepUserIds": ["bob"]}, user="alice"), 403, 7)
    assert reassign("t1", {"newStepUserIds": ["bob"]}, user="root", roles=ADMIN).status == 200


def test_policy_rules() -> None:
    claim("p1", "alice")
    grpc(reassign("p1", {"newStepUserIds": ["bob"]}), 400, 3)  # comment required
    grpc(reassign("p1", {"newStepUserIds": ["bob"], "comment": "   "}), 400, 3)
    grpc(reassign("p1", {"newStepUserIds": ["dave"], "comment": "x"}), 400, 3)  # not allowed reassignee
    assert reassign("p1", {"newStepUserIds": ["bob"], "comment": "x"}).status == 200
    claim("locked", "alice")
    grpc(reassign("locked", {"newStepUserIds": ["bob"]}), 403, 7)
    assert get_task("locked").body["assignee"] == "alice"


def test_bad_targets_and_states() -> None:
    claim("t1", "alice")
    grpc(reassign("t1", {"newStepUserIds": ["ghost"]}), 400, 3)
    grpc(reassign("t1", {"newStepUserIds": []}), 400, 3)
    grpc(reassign("t1", {}), 400, 3)
    grpc(reassign("nope", {"newStepUserIds": ["bob"]}), 404, 5)
    grpc(reassign("t3", {"newStepUserIds": ["bob"]}, user="root", roles=ADMIN), 400, 3)
    grpc(reassign("t1", {"newStepUserIds": ["bob"], "unknown": 1}), 400, 3)
    grpc(reassign("t1", {"newStepUserIds": "bob"}), 400, 3)
    grpc(reassign("t1", "{oops"), 400, 3)
    grpc(reassign("t1", {"newStepUserIds": ["bob"]}, roles=()), 403, 7)
    call("POST", "/api/v1/tasks/t1/action/complete", user="alice")
    grpc(reassign("t1", {"newStepUserIds": ["bob"]}), 400, 9)
    assert get_task("t1").body["assignee"] == "alice"


def test_stale_if_match_is_412_code_9() -> None:
    claim("t1", "alice")
    grpc(reassign("t1", {"newStepUserIds": ["bob"]}, headers={"If-Match": '"1"'}), 412, 9)
    assert reassign("t1", {"newStepUserIds": ["bob"]}, headers={"If-Match": '"2"'}).status == 200
