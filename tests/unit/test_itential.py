"""Itential claim, release and assign: every rule and status code of API.md, on both engines."""

from __future__ import annotations

import pytest

from tests.support import ADMIN, OPS, call, claim, get_task, history, release, seed

pytestmark = pytest.mark.usefixtures("backend")


@pytest.fixture(autouse=True)
def _seeded(backend: str) -> None:
    seed()


def test_claim_by_group_member_assigns_and_records_history() -> None:
    r = claim("t1", "alice")
    assert r.status == 200
    assert r.body["message"]
    assert r.body["data"]["_id"] == "t1"
    assert r.body["data"]["assignee"] == "alice"
    assert r.body["data"]["version"] == 2
    assert get_task("t1").body["assignee"] == "alice"
    events = history("t1")
    assert [e["action"] for e in events] == ["create", "claim"]
    assert events[1]["actor"] == "alice" and events[1]["to"] == "alice" and events[1]["from"] is None


def test_claim_is_idempotent_for_the_holder() -> None:
    assert claim("t2", "carol").status == 200
    again = claim("t2", "carol")
    assert again.status == 200
    assert again.body["data"]["version"] == 2
    assert [e["action"] for e in history("t2")] == ["create", "claim"]


def test_claim_held_by_other_is_409_naming_the_holder() -> None:
    assert claim("t1", "alice").status == 200
    r = claim("t1", "bob")
    assert r.status == 409
    assert "alice" in r.body["message"]
    assert r.body["holder"] == "alice"


def test_claim_by_non_candidate_is_403() -> None:
    r = claim("t1", "carol")
    assert r.status == 403
    assert get_task("t1").body["assignee"] is None


def test_claim_by_admin_who_is_not_a_candidate_is_allowed() -> None:
    assert claim("t1", "root", ADMIN).status == 200


def test_claim_automatic_or_finished_is_400() -> None:
    assert claim("t3", "alice").status == 400
    assert claim("t2", "carol").status == 200
    assert call("POST", "/api/v1/tasks/t2/action/complete", user="carol").status == 200
    assert claim("t2", "carol").status == 400


def test_claim_unknown_task_is_404() -> None:
    r = claim("nope", "alice")
    assert r.status == 404 and "nope" in r.body["message"]


def test_claim_without_a_role_is_403() -> None:
    assert claim("t1", "alice", roles=()).status == 403
    assert claim("t1", "alice", roles=("PM_FACTORY",)).status == 403


@pytest.mark.parametrize("role", ["admin", "apiwrite", "engineering", "operations"])
def test_each_work_role_may_claim(role: str) -> None:
    assert claim("t1", "alice", roles=(role,)).status == 200


def test_release_by_holder() -> None:
    claim("t1", "alice")
    r = release("t1", "alice")
    assert r.status == 200 and r.body["data"]["assignee"] is None
    assert [e["action"] for e in history("t1")] == ["create", "claim", "release"]
    assert history("t1")[-1]["from"] == "alice"


def test_release_unassigned_is_409() -> None:
    assert release("t1", "alice").status == 409


def test_release_of_someone_elses_task_is_403_unless_admin() -> None:
    claim("t1", "alice")
    assert release("t1", "bob").status == 403
    assert get_task("t1").body["assignee"] == "alice"
    assert release("t1", "root", ADMIN).status == 200


def test_release_finished_is_400_and_unknown_is_404() -> None:
    claim("t2", "carol")
    call("POST", "/api/v1/tasks/t2/action/abandon", user="carol")
    assert release("t2", "carol").status == 400
    assert release("missing", "carol").status == 404


def test_assign_unassigned_task_to_a_member() -> None:
    r = call("POST", "/operations-manager/tasks/t1/assign", {"userId": "bob"}, user="carol", roles=OPS)
    assert r.status == 200 and r.body["data"]["assignee"] == "bob"
    assert history("t1")[-1] == {**history("t1")[-1], "action": "assign", "actor": "carol", "to": "bob"}


def test_assign_held_task_needs_admin() -> None:
    claim("t1", "alice")
    r = call("POST", "/operations-manager/tasks/t1/assign", {"userId": "bob"}, user="carol")
    assert r.status == 409 and "alice" in r.body["message"]
    r = call("POST", "/operations-manager/tasks/t1/assign", {"userId": "bob"}, user="root", roles=ADMIN)
    assert r.status == 200 and r.body["data"]["assignee"] == "bob"
    assert history("t1")[-1]["from"] == "alice"


def test_assign_unknown_or_ineligible_user_is_400() -> None:
    assert call("POST", "/operations-manager/tasks/t1/assign", {"userId": "ghost"}).status == 400
    assert call("POST", "/operations-manager/tasks/t1/assign", {"userId": "carol"}).status == 400
    assert get_task("t1").body["assignee"] is None


def test_assign_body_is_validated() -> None:
    assert call("POST", "/operations-manager/tasks/t1/assign", {}).status == 400
    assert call("POST", "/operations-manager/tasks/t1/assign", {"userId": "bob", "x": 1}).status == 400
    assert call("POST", "/operations-manager/tasks/t1/assign", {"userId": 7}).status == 400


def test_claim_body_must_be_empty_object() -> None:
    assert claim("t1", "alice", body={"force": True}).status == 400
    assert claim("t1", "alice", body="{not json").status == 400
    assert get_task("t1").body["assignee"] is None
    assert claim("t1", "alice", body={}).status == 200


def test_if_match_stale_is_412_and_changes_nothing() -> None:
    r = claim("t1", "alice", headers={"If-Match": '"5"'})
    assert r.status == 412
    assert get_task("t1").body["version"] == 1
    assert claim("t1", "alice", headers={"If-Match": '"1"'}).status == 200
    assert release("t1", "alice", headers={"If-Match": "1"}).status == 412
    assert release("t1", "alice", headers={"If-Match": "2"}).status == 200
    assert claim("t1", "alice", headers={"If-Match": "x"}).status == 400


def test_group_membership_is_checked_at_write_time() -> None:
    # bob leaves ops; his claim must now be refused.
    r = call("PUT", "/api/v1/groups/ops", {"name": "Operations", "members": ["alice"]}, user="root", roles=ADMIN)
    assert r.status == 200
    assert claim("t1", "bob").status == 403
    assert claim("t1", "alice").status == 200


def test_answers_are_itential_task_documents_with_the_version_in_etag() -> None:
    r = claim("t1", "alice")
    assert r.status == 200 and r.headers["etag"] == '"2"'
    data = r.body["data"]
    assert (data["_id"], data["name"], data["status"], data["type"], data["groups"]) == (
        "t1", "Group task", "running", "manual", ["ops"])
    assert data["metrics"]["user"] == "alice" and data["last_updated"] == data["updatedAt"]
    assert data["version"] == 2 and data["assignee"] == "alice"  # Baton's own fields alongside
    r = release("t1", "alice")
    assert r.headers["etag"] == '"3"' and r.body["data"]["metrics"]["user"] == ""
    r = call("POST", "/operations-manager/tasks/t1/assign", {"userId": "bob"}, user="alice")
    assert r.status == 200 and r.headers["etag"] == '"4"' and r.body["data"]["metrics"]["user"] == "bob"
    assert call("POST", "/api/v1/tasks/t1/action/complete", user="bob").status == 200
    r = call("GET", "/api/v1/tasks/t1")
    assert r.headers["etag"] == '"5"'


def test_the_holder_may_pass_its_own_task_on() -> None:
    assert claim("t1", "alice").status == 200
    r = call("POST", "/operations-manager/tasks/t1/assign", {"userId": "bob"}, user="alice")
    assert r.status == 200 and r.body["data"]["assignee"] == "bob"
    assert history("t1")[-1] == {**history("t1")[-1], "action": "assign", "actor": "alice", "from": "alice",
                                 "to": "bob"}
    # bob now holds it: alice (no longer the holder, not admin) may not take it back
    r = call("POST", "/operations-manager/tasks/t1/assign", {"userId": "alice"}, user="alice")
    assert r.status == 409 and r.body["holder"] == "bob"
