"""People: presence, capacity, skills and load on users; presence's own route; routing on groups;
requiredSkills on tasks and activities (API.md "People: presence, capacity, skills and routing")."""

from __future__ import annotations

import pytest

from baton.storage.dynamo import get_dynamo
from baton.storage.keys import Keys
from tests.support import ADMIN, OPS, TENANT, WRITER, call, seed

pytestmark = pytest.mark.usefixtures("backend")


@pytest.fixture(autouse=True)
def _seeded(backend: str) -> None:
    seed()


def user(uid: str) -> dict:
    r = call("GET", "/api/v1/users", query={"filter": uid})
    assert r.status == 200, r
    return next(u for u in r.body["items"] if u["id"] == uid)


def set_load(uid: str, load: int) -> None:
    """What the task writes do to a user's load, done by hand (the profile route must keep it)."""
    db = get_dynamo()
    db.client.update_item(TableName=db.table, Key={k: {"S": v} for k, v in Keys.person(TENANT, uid).items()},
                          UpdateExpression="SET #l = :l", ExpressionAttributeNames={"#l": "load"},
                          ExpressionAttributeValues={":l": {"N": str(load)}})


def test_users_show_presence_capacity_skills_and_load() -> None:
    alice = user("alice")
    assert alice["presence"] == "available" and alice["capacity"] is None
    assert alice["skills"] == [] and alice["load"] == 0


def test_put_user_sets_capacity_and_skills_and_keeps_presence_and_load() -> None:
    assert call("PUT", "/api/v1/users/alice/presence", {"status": "away"}, user="alice").status == 200
    set_load("alice", 2)
    r = call("PUT", "/api/v1/users/alice", {"username": "alice", "firstname": "Alice", "capacity": 3,
                                            "skills": ["german", "billing", "german"]}, user="root", roles=ADMIN)
    assert r.status == 200, r
    assert r.body["capacity"] == 3 and r.body["skills"] == ["billing", "german"]
    assert r.body["presence"] == "away" and r.body["load"] == 2
    alice = user("alice")
    assert (alice["capacity"], alice["skills"], alice["presence"], alice["load"]) == (3, ["billing", "german"],
                                                                                      "away", 2)
    # a write without capacity lifts the limit; the load stays
    r = call("PUT", "/api/v1/users/alice", {"username": "alice", "firstname": "Alice"}, user="root", roles=ADMIN)
    assert r.body["capacity"] is None and r.body["skills"] == [] and r.body["load"] == 2


def test_a_new_user_starts_available_at_load_zero() -> None:
    r = call("PUT", "/api/v1/users/erin", {"username": "erin", "capacity": 0}, user="root", roles=ADMIN)
    assert r.status == 201
    assert (r.body["presence"], r.body["load"], r.body["capacity"]) == ("available", 0, 0)


@pytest.mark.parametrize("body", [{"username": "x", "capacity": -1}, {"username": "x", "capacity": 10_001},
                                  {"username": "x", "capacity": "3"}, {"username": "x", "skills": "german"},
                                  {"username": "x", "skills": [""]}, {"username": "x", "skills": [" lead"]},
                                  {"username": "x", "skills": ["a,b"]}, {"username": "x", "skills": ["x" * 65]},
                                  {"username": "x", "skills": [f"s{i}" for i in range(51)]},
                                  {"username": "x", "load": 3}, {"username": "x", "presence": "away"}])
def test_bad_capacity_or_skills_are_400(body: dict) -> None:
    assert call("PUT", "/api/v1/users/x", body, user="root", roles=ADMIN).status == 400


def test_presence_by_the_user_itself() -> None:
    r = call("PUT", "/api/v1/users/bob/presence", {"status": "offline"}, user="bob")
    assert r.status == 200 and r.body["presence"] == "offline" and r.body["id"] == "bob"
    assert user("bob")["presence"] == "offline"
    assert call("PUT", "/api/v1/users/bob/presence", {"status": "available"}, user="bob").body["presence"] == \
        "available"


def test_presence_of_someone_else_needs_admin_or_apiwrite() -> None:
    r = call("PUT", "/api/v1/users/bob/presence", {"status": "away"}, user="alice", roles=OPS)
    assert r.status == 403 and user("bob")["presence"] == "available"
    assert call("PUT", "/api/v1/users/bob/presence", {"status": "away"}, user="root", roles=ADMIN).status == 200
    assert call("PUT", "/api/v1/users/bob/presence", {"status": "offline"}, user="svc", roles=WRITER).status == 200
    assert user("bob")["presence"] == "offline"


def test_presence_of_an_unknown_user_is_404_and_bad_status_400() -> None:
    assert call("PUT", "/api/v1/users/ghost/presence", {"status": "away"}, user="ghost").status == 404
    for body in ({"status": "busy"}, {}, {"status": "away", "extra": 1}, None):
        assert call("PUT", "/api/v1/users/alice/presence", body, user="alice").status == 400


def test_groups_route_pull_by_default_and_take_a_strategy() -> None:
    r = call("PUT", "/api/v1/groups/crew", {"name": "Crew", "members": ["alice"]}, user="root", roles=ADMIN)
    assert r.status == 201 and r.body["routing"] == {"strategy": "pull", "offerSeconds": None}
    r = call("PUT", "/api/v1/groups/crew", {"name": "Crew", "members": ["alice", "bob"],
                                            "routing": {"strategy": "round-robin", "offerSeconds": 30}},
             user="root", roles=ADMIN)
    assert r.status == 200 and r.body["routing"] == {"strategy": "round-robin", "offerSeconds": 30}


@pytest.mark.parametrize("routing", [{"strategy": "random"}, {"strategy": "pull", "offerSeconds": 30},
                                     {"strategy": "least-loaded", "offerSeconds": 0},
                                     {"strategy": "least-loaded", "offerSeconds": 86_401}, {"other": 1}])
def test_bad_routing_is_400(routing: dict) -> None:
    r = call("PUT", "/api/v1/groups/crew", {"name": "Crew", "routing": routing}, user="root", roles=ADMIN)
    assert r.status == 400, r


def test_tasks_carry_required_skills() -> None:
    r = call("POST", "/api/v1/tasks", {"id": "s1", "name": "s1", "requiredSkills": ["german", "billing", "german"]},
             roles=WRITER)
    assert r.status == 201 and r.body["requiredSkills"] == ["billing", "german"]
    assert call("GET", "/api/v1/tasks/s1").body["requiredSkills"] == ["billing", "german"]
    assert call("POST", "/api/v1/tasks", {"name": "x"}, roles=WRITER).body["requiredSkills"] == []
    for bad in ("german", [""], [1], ["a,b"]):
        assert call("POST", "/api/v1/tasks", {"name": "x", "requiredSkills": bad}, roles=WRITER).status == 400


def test_activities_carry_required_skills_to_their_tasks() -> None:
    r = call("PUT", "/api/v1/projects/p1/activities/a1", {"name": "Review", "requiredSkills": ["legal"]},
             roles=ADMIN)
    assert r.status == 201 and r.body["requiredSkills"] == ["legal"]
    r = call("POST", "/api/v1/tasks", {"name": "x", "projectId": "p1", "activityId": "a1"}, roles=WRITER)
    assert r.body["requiredSkills"] == ["legal"]
    r = call("POST", "/api/v1/tasks", {"name": "y", "projectId": "p1", "activityId": "a1", "requiredSkills": []},
             roles=WRITER)
    assert r.body["requiredSkills"] == []  # the task's own (none) over the activity's
    # the activity without skills: its next tasks need none
    assert call("PUT", "/api/v1/projects/p1/activities/a1", {"name": "Review"}, roles=ADMIN).status == 200
    r = call("POST", "/api/v1/tasks", {"name": "z", "projectId": "p1", "activityId": "a1"}, roles=WRITER)
    assert r.body["requiredSkills"] == []
    assert call("PUT", "/api/v1/projects/p1/activities/a1", {"name": "R", "requiredSkills": [" x"]},
                roles=ADMIN).status == 400


def test_group_stats_show_the_queue_and_the_members() -> None:
    from baton import clock

    r = call("GET", "/api/v1/groups/ops/stats")
    assert r.status == 200, r
    assert r.body["queue"]["depth"] == 1 and r.body["queue"]["pastDue"] == 0  # the seed's t1
    assert [m["id"] for m in r.body["members"]] == ["alice", "bob"]
    call("POST", "/api/v1/tasks", {"id": "late", "name": "late", "candidateGroups": ["ops"],
                                   "dueDate": "2020-01-01T00:00:00Z"}, roles=WRITER)
    call("PUT", "/api/v1/users/bob/presence", {"status": "away"}, user="bob")
    assert call("POST", "/api/v1/tasks/t1/action/claim", user="alice").status == 200
    clock.advance(0.001)
    body = call("GET", "/api/v1/groups/ops/stats", user="carol").body  # any caller of the tenant
    assert body["queue"]["depth"] == 1 and body["queue"]["pastDue"] == 1 and body["queue"]["offered"] == 0
    assert body["queue"]["oldestAgeSeconds"] >= 0
    alice, bob = body["members"]
    assert (alice["load"], alice["presence"], alice["routable"]) == (1, "available", True)
    assert (bob["load"], bob["presence"], bob["routable"]) == (0, "away", False)
    assert call("GET", "/api/v1/groups/ghost/stats").status == 404
