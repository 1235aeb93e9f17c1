"""Claim leases (API.md "Queues, leases, claim-next, bulk actions, events"): a claim under a
lease ends by itself, with no background job; the next claim takes the task over, writing
`lease-expired` (actor `system`) before its own claim in one transaction. Time moves through
baton.clock, never by sleeping."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from baton import clock
from tests.support import ADMIN, WRITER, call, claim, get_task, history, native, release, seed

pytestmark = pytest.mark.usefixtures("controlled_clock")


def queue(user: str) -> list[str]:
    r = call("GET", "/api/v1/tasks", query={"candidate": "me", "status": "open"}, user=user)
    assert r.status == 200, r
    return [t["id"] for t in r.body["items"]]


def inbox(user: str) -> list[str]:
    r = call("GET", "/api/v1/tasks", query={"assignee": user, "status": "open"}, user=user)
    assert r.status == 200, r
    return [t["id"] for t in r.body["items"]]


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.fixture
def seeded(moto_table: str) -> None:
    seed()


@pytest.mark.usefixtures("seeded")
def test_native_claim_with_lease_shows_when_it_ends_and_moves_to_the_inbox() -> None:
    before = clock.current()
    r = native("claim", "t1", "alice", {"leaseSeconds": 300})
    assert r.status == 200, r
    assert r.body["assignee"] == "alice" and r.body["version"] == 2
    ends = at(r.body["leaseExpiresAt"])
    assert before + timedelta(seconds=300) <= ends <= clock.current() + timedelta(seconds=300)
    assert get_task("t1").body["leaseExpiresAt"] == r.body["leaseExpiresAt"]
    assert "t1" in inbox("alice") and "t1" not in queue("bob")


@pytest.mark.usefixtures("seeded")
def test_after_the_lease_the_task_is_back_in_its_queue_and_the_takeover_is_recorded() -> None:
    assert native("claim", "t1", "alice", {"leaseSeconds": 60}).status == 200
    assert claim("t1", "bob").status == 409  # still held
    clock.advance(59)
    assert "t1" not in queue("bob") and claim("t1", "bob").status == 409
    clock.advance(1)  # the lease has passed: no write happened, yet the queues show it
    assert "t1" in queue("bob") and "t1" not in inbox("alice")
    r = claim("t1", "bob")
    assert r.status == 200, r
    assert r.body["data"]["assignee"] == "bob" and r.body["data"]["leaseExpiresAt"] is None
    events = history("t1")
    assert [e["action"] for e in events] == ["create", "claim", "lease-expired", "claim"]
    expired = events[2]
    assert expired["actor"] == "system" and expired["from"] == "alice" and expired["to"] is None
    assert [e["version"] for e in events] == [1, 2, 3, 4] and events[3]["actor"] == "bob"
    assert "t1" in inbox("bob") and "t1" not in queue("alice")


@pytest.mark.usefixtures("seeded")
@pytest.mark.parametrize("action", ["release", "complete", "abandon", "heartbeat"])
def test_the_old_holder_is_refused_after_expiry(action: str) -> None:
    assert native("claim", "t1", "alice", {"leaseSeconds": 60}).status == 200
    clock.advance(61)
    r = native(action, "t1", "alice")
    assert r.status == 409 and r.body["code"] == "leaseExpired" and "expired" in r.body["message"], r
    assert [e["action"] for e in history("t1")] == ["create", "claim"]  # nothing written


@pytest.mark.usefixtures("seeded")
def test_itential_release_after_expiry_is_409_and_after_a_takeover_too() -> None:
    assert native("claim", "t1", "alice", {"leaseSeconds": 60}).status == 200
    clock.advance(120)
    assert release("t1", "alice").status == 409
    assert claim("t1", "bob").status == 200
    r = release("t1", "alice")
    assert r.status == 403  # now someone else's task, as for any non-holder


@pytest.mark.usefixtures("seeded")
def test_the_old_holder_may_claim_again_after_expiry() -> None:
    assert native("claim", "t1", "alice", {"leaseSeconds": 60}).status == 200
    clock.advance(61)
    r = native("claim", "t1", "alice", {"leaseSeconds": 30})
    assert r.status == 200 and r.body["assignee"] == "alice"
    assert [e["action"] for e in history("t1")][-2:] == ["lease-expired", "claim"]


@pytest.mark.usefixtures("seeded")
def test_heartbeat_extends_for_the_holder_only() -> None:
    first = native("claim", "t1", "alice", {"leaseSeconds": 60}).body
    clock.advance(50)
    r = native("heartbeat", "t1", "alice", {"leaseSeconds": 120})
    assert r.status == 200, r
    assert at(r.body["leaseExpiresAt"]) >= at(first["leaseExpiresAt"]) + timedelta(seconds=100)
    assert r.body["assignee"] == "alice" and r.body["version"] == 3
    last = history("t1")[-1]
    assert last["action"] == "heartbeat" and last["from"] == first["leaseExpiresAt"]
    assert last["to"] == r.body["leaseExpiresAt"]
    clock.advance(100)  # past the first lease, within the extended one
    assert claim("t1", "bob").status == 409 and "t1" not in queue("bob")
    # the task's default serves when the body names none; here there is none
    assert native("heartbeat", "t1", "alice").status == 400
    assert native("heartbeat", "t1", "bob", {"leaseSeconds": 60}).status == 403
    assert native("heartbeat", "t2", "carol", {"leaseSeconds": 60}).status == 409  # nobody holds t2
    assert native("heartbeat", "t1", "alice", {"leaseSeconds": 0}).status == 400
    assert native("heartbeat", "t1", "alice", {"leaseSeconds": "x"}).status == 400


@pytest.mark.usefixtures("seeded")
def test_heartbeat_of_a_lease_free_claim_starts_a_lease() -> None:
    assert claim("t1", "alice").status == 200
    r = native("heartbeat", "t1", "alice", {"leaseSeconds": 30})
    assert r.status == 200 and r.body["leaseExpiresAt"] is not None
    clock.advance(31)
    assert claim("t1", "bob").status == 200


@pytest.mark.usefixtures("seeded")
@pytest.mark.parametrize("body", [{"leaseSeconds": 0}, {"leaseSeconds": 604801}, {"leaseSeconds": 1.5},
                                  {"leaseSeconds": None, "x": 1}])
def test_bad_lease_is_400(body: dict[str, Any]) -> None:
    assert native("claim", "t1", "alice", body).status == 400
    assert call("POST", "/api/v1/tasks/claim-next", body, user="alice").status == 400
    assert call("POST", "/api/v1/tasks", {"name": "x", **body}, roles=WRITER).status == 400
    assert get_task("t1").body["version"] == 1


@pytest.mark.usefixtures("seeded")
def test_native_release_and_claim_follow_itential_rules() -> None:
    assert native("release", "t1", "alice").status == 409  # not assigned
    assert native("claim", "t1", "carol").status == 403  # not a candidate
    assert native("claim", "t3", "alice").status == 400  # automatic
    assert native("claim", "ghost", "alice").status == 404
    r = native("claim", "t1", "alice")
    assert r.status == 200 and r.body["leaseExpiresAt"] is None and r.headers["etag"] == '"2"'
    assert native("claim", "t1", "bob").status == 409
    assert native("release", "t1", "bob").status == 403
    r = native("release", "t1", "alice")
    assert r.status == 200 and r.body["assignee"] is None


@pytest.mark.usefixtures("seeded")
def test_a_release_ends_the_lease() -> None:
    assert native("claim", "t1", "alice", {"leaseSeconds": 60}).status == 200
    r = native("release", "t1", "alice")
    assert r.status == 200 and r.body["leaseExpiresAt"] is None
    assert "t1" in queue("bob") and "t1" in queue("alice") and "t1" not in inbox("alice")


@pytest.mark.usefixtures("seeded")
def test_task_default_lease_applies_to_itential_and_journey_claims() -> None:
    r = call("POST", "/api/v1/tasks", {"id": "l1", "name": "Leased", "candidateGroups": ["ops"],
                                       "leaseSeconds": 45}, roles=WRITER)
    assert r.status == 201 and r.body["leaseSeconds"] == 45 and r.body["leaseExpiresAt"] is None
    r = claim("l1", "alice")  # Itential: no lease field of its own
    assert r.status == 200 and r.body["data"]["leaseExpiresAt"] is not None
    clock.advance(46)
    r = call("POST", "/workspaces/secure/api/v1/txn/assign", {"params": {"submitKey": "l1"}}, user="bob")
    assert r.status == 200, r
    task = get_task("l1").body
    assert task["assignee"] == "bob" and at(task["leaseExpiresAt"]) > clock.current()
    assert [e["action"] for e in history("l1")] == ["create", "claim", "lease-expired", "assign"]


@pytest.mark.usefixtures("seeded")
def test_activity_lease_is_copied_at_creation() -> None:
    r = call("PUT", "/api/v1/projects/p9/activities/a9", {"name": "Check", "leaseSeconds": 90}, roles=ADMIN)
    assert r.status == 201 and r.body["leaseSeconds"] == 90
    r = call("POST", "/api/v1/tasks", {"name": "x", "projectId": "p9", "activityId": "a9",
                                       "candidateUsers": ["bob"]}, roles=WRITER)
    assert r.status == 201 and r.body["leaseSeconds"] == 90
    own = call("POST", "/api/v1/tasks", {"name": "y", "projectId": "p9", "activityId": "a9", "leaseSeconds": 5,
                                         "candidateUsers": ["bob"]}, roles=WRITER)
    assert own.body["leaseSeconds"] == 5  # the task's own wins
    # the only candidate's claim of a task with a default lease is leased too
    r = claim(r.body["id"], "bob")
    assert r.status == 200 and r.body["data"]["leaseExpiresAt"] is not None
    # an update without a lease removes it
    assert call("PUT", "/api/v1/projects/p9/activities/a9", {"name": "Check"}, roles=ADMIN).status == 200
    r = call("POST", "/api/v1/tasks", {"name": "z", "projectId": "p9", "activityId": "a9"}, roles=WRITER)
    assert r.body["leaseSeconds"] is None


@pytest.mark.usefixtures("seeded")
def test_lease_free_dialect_claims_are_unchanged() -> None:
    r = claim("t2", "carol")  # the only candidate: the one-write claim
    assert r.status == 200 and r.body["data"]["leaseExpiresAt"] is None
    clock.advance(10 ** 6)
    assert get_task("t2").body["assignee"] == "carol"
    assert call("POST", "/api/v1/tasks", {"id": "t4", "name": "x", "candidateUsers": ["carol"]},
                roles=WRITER).status == 201
    assert claim("t4", "carol").status == 200
    assert [e["action"] for e in history("t2")] == ["create", "claim"]


@pytest.mark.usefixtures("seeded")
def test_claim_next_with_a_lease_and_taking_over_an_expired_one() -> None:
    r = call("POST", "/api/v1/tasks/claim-next", {"groupId": "ops", "leaseSeconds": 30}, user="alice")
    assert r.status == 200 and r.body["id"] == "t1" and r.body["leaseExpiresAt"] is not None
    assert call("POST", "/api/v1/tasks/claim-next", {"groupId": "ops"}, user="bob").status == 204
    clock.advance(31)
    r = call("POST", "/api/v1/tasks/claim-next", {}, user="bob")
    assert r.status == 200 and r.body["id"] == "t1" and r.body["assignee"] == "bob"
    assert r.body["leaseExpiresAt"] is None
    assert [e["action"] for e in history("t1")][-2:] == ["lease-expired", "claim"]


@pytest.mark.usefixtures("seeded")
def test_admin_may_finish_a_task_whose_lease_passed() -> None:
    assert native("claim", "t1", "alice", {"leaseSeconds": 10}).status == 200
    clock.advance(11)
    r = native("complete", "t1", "root", roles=ADMIN)
    assert r.status == 200 and r.body["status"] == "completed"
    assert [e["action"] for e in history("t1")][-2:] == ["lease-expired", "complete"]
