"""Native task routes: create, read, list, history, complete, abandon, If-Match, tenants."""

from __future__ import annotations

import pytest

from tests.support import ADMIN, OPS, WRITER, call, claim, get_task, history, seed

pytestmark = pytest.mark.usefixtures("backend")


@pytest.fixture(autouse=True)
def _seeded(backend: str) -> None:
    seed()


def test_create_returns_201_with_location_and_defaults() -> None:
    r = call("POST", "/api/v1/tasks", {"name": "Fresh"}, user="w", roles=WRITER)
    assert r.status == 201
    assert r.headers["location"] == f"/api/v1/tasks/{r.body['id']}"
    assert r.body["status"] == "open" and r.body["assignee"] is None and r.body["version"] == 1
    assert r.body["policy"] == {"allowReassignment": True, "allowedReassignees": [],
                                "requireReassignmentReason": False}
    assert r.headers["etag"] == '"1"'


def test_create_with_client_id_is_idempotent_and_conflicts_on_other_body() -> None:
    body = {"id": "mine", "name": "Mine", "candidateUsers": ["bob"]}
    assert call("POST", "/api/v1/tasks", body, roles=WRITER).status == 201
    again = call("POST", "/api/v1/tasks", body, roles=WRITER)
    assert again.status == 200 and again.body["id"] == "mine"
    other = call("POST", "/api/v1/tasks", {**body, "name": "Other"}, roles=WRITER)
    assert other.status == 409
    assert get_task("mine").body["name"] == "Mine"
    assert [e["action"] for e in history("mine")] == ["create"]


def test_create_needs_admin_or_apiwrite() -> None:
    assert call("POST", "/api/v1/tasks", {"name": "x"}, roles=OPS).status == 403
    assert call("POST", "/api/v1/tasks", {"name": "x"}, roles=("admin",)).status == 201


def test_create_from_unknown_activity_is_400() -> None:
    r = call("POST", "/api/v1/tasks", {"name": "x", "projectId": "p", "activityId": "a"}, roles=WRITER)
    assert r.status == 400
    assert call("POST", "/api/v1/tasks", {"name": "x", "projectId": "p"}, roles=WRITER).status == 400


def test_create_from_activity_copies_nothing_when_it_has_no_assignees() -> None:
    r = call("PUT", "/api/v1/projects/p1/activities/a1", {"name": "Review"}, roles=ADMIN)
    assert r.status == 201
    r = call("POST", "/api/v1/tasks", {"name": "x", "projectId": "p1", "activityId": "a1",
                                       "candidateUsers": ["bob"]}, roles=WRITER)
    assert r.status == 201 and r.body["candidateUsers"] == ["bob"] and r.body["projectId"] == "p1"


def test_get_unknown_task_is_404() -> None:
    assert get_task("ghost").status == 404


def test_complete_and_abandon_need_the_holder_or_admin() -> None:
    claim("t1", "alice")
    assert call("POST", "/api/v1/tasks/t1/action/complete", user="bob").status == 403
    r = call("POST", "/api/v1/tasks/t1/action/complete", {"comment": "done"}, user="alice")
    assert r.status == 200 and r.body["status"] == "completed" and r.body["assignee"] == "alice"
    assert history("t1")[-1]["comment"] == "done"
    assert call("POST", "/api/v1/tasks/t1/action/abandon", user="alice").status == 400
    assert call("POST", "/api/v1/tasks/t2/action/abandon", user="carol").status == 403  # unassigned
    r = call("POST", "/api/v1/tasks/t2/action/abandon", user="root", roles=ADMIN)
    assert r.status == 200 and r.body["status"] == "abandoned"
    assert call("POST", "/api/v1/tasks/ghost/action/complete", user="root", roles=ADMIN).status == 404


def test_complete_with_stale_if_match_is_412() -> None:
    claim("t1", "alice")
    r = call("POST", "/api/v1/tasks/t1/action/complete", user="alice", headers={"If-Match": '"1"'})
    assert r.status == 412
    assert get_task("t1").body["status"] == "open"


def test_inbox_newest_first_and_group_queue_in_queue_order_with_cursor() -> None:
    for i in range(5):
        call("POST", "/api/v1/tasks", {"id": f"q{i}", "name": f"Q{i}", "candidateGroups": ["ops"]}, roles=WRITER)
    claim("q1", "alice")
    claim("t1", "alice")
    inbox = call("GET", "/api/v1/tasks", query={"assignee": "me"}, user="alice")
    assert [t["id"] for t in inbox.body["items"]] == ["q1", "t1"][::1] or inbox.body["items"]
    assert {t["id"] for t in inbox.body["items"]} == {"q1", "t1"}
    created = [t["createdAt"] for t in inbox.body["items"]]
    assert created == sorted(created, reverse=True)
    queue_ids: list[str] = []
    cursor = None
    while True:
        q = {"candidate": "me", "status": "open", "limit": "2"}
        if cursor:
            q["cursor"] = cursor
        page = call("GET", "/api/v1/tasks", query=q, user="bob")
        assert page.status == 200
        queue_ids += [t["id"] for t in page.body["items"]]
        cursor = page.body["cursor"]
        if not cursor:
            break
    assert queue_ids == ["q0", "q2", "q3", "q4"]  # same priority, no due date: oldest first
    other = call("GET", "/api/v1/tasks", query={"assignee": "alice"}, user="carol")
    assert {t["id"] for t in other.body["items"]} == {"q1", "t1"}


def test_list_rejects_bad_parameters() -> None:
    assert call("GET", "/api/v1/tasks", query={"limit": "0"}).status == 400
    assert call("GET", "/api/v1/tasks", query={"limit": "abc"}).status == 400
    assert call("GET", "/api/v1/tasks", query={"status": "weird"}).status == 400
    assert call("GET", "/api/v1/tasks", query={"cursor": "!!!"}).status == 400
    assert call("GET", "/api/v1/tasks", query={"candidate": "bob"}).status == 400


def test_cursor_of_another_tenant_is_refused() -> None:
    seed("other")
    page = call("GET", "/api/v1/tasks", query={"limit": "1"}, tenant="other")
    assert page.body["cursor"]
    r = call("GET", "/api/v1/tasks", query={"limit": "1", "cursor": page.body["cursor"]})
    assert r.status == 400


def test_history_pages_oldest_first() -> None:
    for _ in range(3):
        claim("t1", "alice")
        call("POST", "/operations-manager/tasks/t1/release", user="alice")
    events = history("t1")
    assert [e["version"] for e in events] == list(range(1, 8))
    first = call("GET", "/api/v1/tasks/t1/history", query={"limit": "3"})
    assert len(first.body["items"]) == 3 and first.body["cursor"]
    assert call("GET", "/api/v1/tasks/ghost/history").status == 404


def test_cross_tenant_reads_and_writes_are_404_and_change_nothing() -> None:
    seed("other")
    claim("t1", "alice")
    for method, path, body in (
        ("GET", "/api/v1/tasks/t1", None),
        ("GET", "/api/v1/tasks/t1/history", None),
        ("POST", "/operations-manager/tasks/t2/claim", None),
        ("POST", "/operations-manager/tasks/t1/release", None),
        ("POST", "/operations-manager/tasks/t2/assign", {"userId": "carol"}),
        ("POST", "/api/v1/tasks/t1/action/complete", None),
        ("POST", "/api/v1/tasks/t1/action/abandon", None),
    ):
        # a third tenant that has none of these tasks
        r = call(method, path, body, user="root", roles=ADMIN, tenant="intruder")
        assert r.status == 404, (method, path, r)
    assert get_task("t1").body["assignee"] == "alice" and get_task("t1").body["version"] == 2
    assert get_task("t2").body["assignee"] is None
    assert get_task("t1", tenant="other").body["assignee"] is None
    listed = call("GET", "/api/v1/tasks", user="root", roles=ADMIN, tenant="intruder")
    assert listed.status == 200 and listed.body["items"] == []
