"""The router (baton.tasks.routing): what stream records trigger it, and how it gives a push
group's free tasks to members through the same conditional write as an assign (API.md "People")."""

from __future__ import annotations

from typing import Any

import pytest

from baton.attrs import to_attr
from baton.storage.dynamo import get_dynamo
from baton.storage.keys import TASK_SK, Keys
from baton.tasks.routing import ROUTER, Router
from baton.tasks.stream import Trigger, routing_triggers
from tests.support import ADMIN, TENANT, call, create_task, history, seed

pytestmark = pytest.mark.usefixtures("backend")

CREW = ["alice", "bob", "carol"]


@pytest.fixture(autouse=True)
def _seeded(backend: str) -> None:
    seed()


def group(strategy: str, members: list[str] = CREW, gid: str = "crew") -> None:
    r = call("PUT", f"/api/v1/groups/{gid}", {"name": gid, "members": members, "routing": {"strategy": strategy}},
             user="root", roles=ADMIN)
    assert r.status in (200, 201), r


def assignee(task: str) -> str | None:
    value = call("GET", f"/api/v1/tasks/{task}").body["assignee"]
    return str(value) if value is not None else None


def load(uid: str) -> int:
    return int(next(u for u in call("GET", "/api/v1/users", query={"filter": uid}).body["items"]
                    if u["id"] == uid)["load"])


def record(name: str, key: dict[str, str], new: dict[str, Any] | None, old: dict[str, Any] | None = None
           ) -> dict[str, Any]:
    image = {k: to_attr(v) for k, v in (new or {}).items()}
    before = {k: to_attr(v) for k, v in (old or {}).items()}
    return {"eventName": name, "dynamodb": {"Keys": {k: {"S": v} for k, v in key.items()},
                                            "NewImage": image, **({"OldImage": before} if old else {})}}


def test_triggers_are_free_group_tasks_and_users_who_may_take_work_again() -> None:
    task = Keys.task(TENANT, "t9")
    user = Keys.user(TENANT, "alice")
    free = {"id": "t9", "status": "open", "type": "manual", "candidateGroups": ["crew"]}
    records = [
        record("INSERT", task, free),
        record("MODIFY", task, free, {**free, "assignee": "bob"}),  # released: again (once per batch)
        record("MODIFY", task, {**free, "priority": 3}, free),  # free before and after: no news
        record("INSERT", Keys.task(TENANT, "t8"), {**free, "id": "t8", "candidateGroups": []}),  # no group
        record("MODIFY", Keys.task(TENANT, "t7"), {**free, "id": "t7", "assignee": "bob"}, free),  # claimed
        record("MODIFY", user, {"userId": "alice", "groups": {"crew"}, "presence": "available", "load": 1},
               {"userId": "alice", "groups": {"crew"}, "presence": "away", "load": 1}),
        record("MODIFY", user, {"userId": "alice", "groups": {"crew"}, "load": 0},
               {"userId": "alice", "groups": {"crew"}, "load": 1}),
        record("MODIFY", user, {"userId": "alice", "groups": {"crew"}, "load": 2},
               {"userId": "alice", "groups": {"crew"}, "load": 1}),  # more work: no news
        record("REMOVE", task, None),
        # a history item (DynamoDB Local streams an empty map as `{}`): never decoded
        {"eventName": "INSERT", "dynamodb": {"Keys": {"pk": {"S": task["pk"]}, "sk": {"S": "H#000000000002"}},
                                             "NewImage": {"changes": {}}}},
    ]
    assert task["sk"] == TASK_SK
    assert routing_triggers(records) == [Trigger(TENANT, "task", "t9"), Trigger(TENANT, "user", "alice", ("crew",))]


def test_round_robin_gives_each_member_in_turn_with_the_reason() -> None:
    group("round-robin")
    router = Router(get_dynamo())
    for i in range(6):
        create_task(f"r{i}", candidateGroups=["crew"])
        assert router.route_task(TENANT, f"r{i}") == 1
    assert [assignee(f"r{i}") for i in range(6)] == CREW * 2
    event = history("r0")[-1]
    assert (event["action"], event["actor"], event["to"], event["comment"]) == (
        "assign", ROUTER, "alice", "routing:round-robin")
    assert [load(u) for u in CREW] == [2, 2, 2]
    assert router.route_task(TENANT, "r0") == 0  # held already: nothing to do


def test_pull_groups_are_never_routed_and_nobody_eligible_waits_in_the_queue() -> None:
    group("pull")
    create_task("p0", candidateGroups=["crew"])
    assert Router(get_dynamo()).route_task(TENANT, "p0") == 0 and assignee("p0") is None
    group("least-loaded")
    for u in CREW:
        assert call("PUT", f"/api/v1/users/{u}/presence", {"status": "away"}, user=u).status == 200
    router = Router(get_dynamo())
    assert router.route_task(TENANT, "p0") == 0 and assignee("p0") is None
    assert call("PUT", "/api/v1/users/bob/presence", {"status": "available"}, user="bob").status == 200
    assert router.handle([Trigger(TENANT, "user", "bob", ("crew",))]) == 1 and assignee("p0") == "bob"


def test_least_loaded_respects_capacity_and_skills() -> None:
    group("least-loaded")
    call("PUT", "/api/v1/users/alice", {"username": "alice", "capacity": 1, "skills": ["de"]}, user="root",
         roles=ADMIN)
    call("PUT", "/api/v1/users/bob", {"username": "bob", "skills": ["de"]}, user="root", roles=ADMIN)
    router = Router(get_dynamo())
    for i in range(4):
        create_task(f"s{i}", candidateGroups=["crew"], requiredSkills=["de"])
        assert router.route_task(TENANT, f"s{i}") == 1
    assert [assignee(f"s{i}") for i in range(4)] == ["alice", "bob", "bob", "bob"]  # alice is full at 1
    assert (load("alice"), load("bob"), load("carol")) == (1, 3, 0)  # carol lacks the skill


def test_longest_idle_gives_to_whom_waited_longest() -> None:
    group("longest-idle")
    router = Router(get_dynamo())
    for i in range(3):
        create_task(f"i{i}", candidateGroups=["crew"])
        router.route_task(TENANT, f"i{i}")
    assert sorted(assignee(f"i{i}") or "" for i in range(3)) == CREW
    call("POST", "/api/v1/tasks/i1/action/complete", user=assignee("i1") or "")
    create_task("i3", candidateGroups=["crew"])
    router.route_task(TENANT, "i3")
    assert assignee("i3") == assignee("i0")  # the first one given is the longest idle


def offers(strategy: str = "round-robin", seconds: int = 60) -> None:
    r = call("PUT", "/api/v1/groups/crew", {"name": "crew", "members": CREW,
                                            "routing": {"strategy": strategy, "offerSeconds": seconds}},
             user="root", roles=ADMIN)
    assert r.status in (200, 201), r


def task_of(task: str) -> dict[str, Any]:
    body: dict[str, Any] = call("GET", f"/api/v1/tasks/{task}").body
    return body


def queue(user: str) -> list[str]:
    return [t["id"] for t in call("GET", "/api/v1/tasks", query={"candidate": "me"}, user=user).body["items"]]


@pytest.mark.usefixtures("controlled_clock")
def test_an_offer_reserves_the_task_for_one_member_until_accepted() -> None:
    offers()
    create_task("o1", candidateGroups=["crew"])
    assert Router(get_dynamo()).route_task(TENANT, "o1") == 1
    task = task_of("o1")
    assert task["offeredTo"] == "alice" and task["assignee"] is None and task["offerExpiresAt"]
    assert load("alice") == 1  # the offer holds a slot
    assert "o1" in queue("alice") and "o1" not in queue("bob")  # hidden from the others' queues
    r = call("POST", "/api/v1/tasks/o1/action/claim", user="bob")
    assert r.status == 409 and r.body["code"] == "offered"
    assert call("POST", "/api/v1/tasks/claim-next", {"groupId": "crew"}, user="bob").status == 204
    assert call("POST", "/api/v1/tasks/o1/action/accept", user="bob").status == 409
    r = call("POST", "/api/v1/tasks/o1/action/accept", user="alice")
    assert r.status == 200 and r.body["assignee"] == "alice" and r.body["offeredTo"] is None
    assert load("alice") == 1
    assert [e["action"] for e in history("o1")][-2:] == ["offer", "claim"]
    assert history("o1")[-2]["comment"] == history("o1")[-2]["reason"] == "routing:round-robin"


@pytest.mark.usefixtures("controlled_clock")
def test_a_rejected_or_expired_offer_goes_to_the_next_member_then_round_again() -> None:
    from baton import clock

    offers(seconds=30)
    create_task("o2", candidateGroups=["crew"])
    router = Router(get_dynamo())
    assert router.route_task(TENANT, "o2") == 1 and task_of("o2")["offeredTo"] == "alice"
    r = call("POST", "/api/v1/tasks/o2/action/reject", user="alice")
    assert r.status == 200 and r.body["offeredTo"] is None and load("alice") == 0
    assert history("o2")[-1]["comment"] == "offer-rejected"
    assert router.route_task(TENANT, "o2") == 1 and task_of("o2")["offeredTo"] == "bob"
    clock.advance(31)
    router.handle([Trigger(TENANT, "offer", "o2", at=task_of("o2")["offerExpiresAt"])])
    assert router.sweep() == 1
    task = task_of("o2")
    assert task["offeredTo"] == "carol" and (load("bob"), load("carol")) == (0, 1)
    assert history("o2")[-1]["comment"] == "offer-expired" and history("o2")[-1]["from"] == "bob"
    clock.advance(31)
    assert router.route_task(TENANT, "o2") == 1  # everyone has been offered it: a new round
    assert task_of("o2")["offeredTo"] in CREW and load("carol") + load("alice") + load("bob") == 1


@pytest.mark.usefixtures("controlled_clock")
def test_an_expired_offer_nobody_can_take_goes_back_to_the_queue() -> None:
    from baton import clock

    offers(seconds=10)
    create_task("o3", candidateGroups=["crew"])
    router = Router(get_dynamo())
    assert router.route_task(TENANT, "o3") == 1
    for u in CREW:
        call("PUT", f"/api/v1/users/{u}/presence", {"status": "offline"}, user=u)
    clock.advance(11)
    assert router.route_task(TENANT, "o3") == 0
    task = task_of("o3")
    assert task["offeredTo"] is None and load("alice") == 0 and "o3" in queue("bob")


@pytest.mark.usefixtures("controlled_clock")
def test_routing_and_offers_give_their_reason_in_the_ledger_field_through_history_and_audit() -> None:
    """The reason codes are the ledger's `reason` (hashed in the chain), not only a comment: GET
    history and the tenant audit both serve them, and the audit's action filter knows offers."""
    from baton import clock

    start = clock.stamp()
    group("least-loaded", gid="desk")
    create_task("w1", candidateGroups=["desk"])
    router = Router(get_dynamo())
    assert router.route_task(TENANT, "w1") == 1
    offers(seconds=30)
    create_task("w2", candidateGroups=["crew"])
    assert router.route_task(TENANT, "w2") == 1  # offered to alice (routing:round-robin)
    clock.advance(1)
    assert call("POST", "/api/v1/tasks/w2/action/reject", user="alice").status == 200
    assert router.route_task(TENANT, "w2") == 1  # offered to bob
    clock.advance(31)
    assert router.route_task(TENANT, "w2") == 1  # bob's offer expired: carol
    for u in CREW:
        call("PUT", f"/api/v1/users/{u}/presence", {"status": "offline"}, user=u)
    clock.advance(31)
    assert router.route_task(TENANT, "w2") == 0  # carol's expired too, nobody left: back to the queue
    assert [(e["action"], e["reason"]) for e in history("w1")] == [("create", "request"),
                                                                  ("assign", "routing:least-loaded")]
    assert [(e["action"], e["from"], e["to"], e["reason"]) for e in history("w2")] == [
        ("create", None, "open", "request"), ("offer", None, "alice", "routing:round-robin"),
        ("reject", "alice", None, "offer-rejected"), ("offer", None, "bob", "routing:round-robin"),
        ("offer", "bob", "carol", "offer-expired"), ("offer", "carol", None, "offer-expired")]
    verified = call("GET", "/api/v1/tasks/w2/history", query={"verify": "true"})
    assert verified.status == 200 and verified.body["verified"] is True, verified.body
    clock.advance(1)
    window = {"from": start, "to": clock.stamp()}
    r = call("GET", "/api/v1/audit", user="root", roles=ADMIN, query={**window, "action": "offer"})
    assert r.status == 200, r
    assert [(e["taskId"], e["to"], e["reason"]) for e in r.body["items"]] == [
        ("w2", "alice", "routing:round-robin"), ("w2", "bob", "routing:round-robin"),
        ("w2", "carol", "offer-expired"), ("w2", None, "offer-expired")]
    r = call("GET", "/api/v1/audit", user="root", roles=ADMIN, query={**window, "action": "reject"})
    assert [(e["taskId"], e["reason"]) for e in r.body["items"]] == [("w2", "offer-rejected")]
    r = call("GET", "/api/v1/audit", user="root", roles=ADMIN, query={**window, "action": "assign"})
    assert [(e["taskId"], e["actor"], e["reason"]) for e in r.body["items"]] == [
        ("w1", ROUTER, "routing:least-loaded")]


def test_a_claim_that_wins_while_the_router_decides_is_never_taken_over(monkeypatch: pytest.MonkeyPatch) -> None:
    """The router decides on a free task, a member claims it before the router's write lands: the
    write is refused and decided again on the claimed task, where the router gives up (an admin's
    assign would have reassigned it: a double assignment, found by `make bench`'s routing race)."""
    from baton.tasks.repository import TaskRepository

    group("round-robin")
    create_task("x1", candidateGroups=["crew"])
    original = TaskRepository.read_people
    raced: list[bool] = []

    def racing(self: TaskRepository, tenant: str, users: Any) -> Any:
        out = original(self, tenant, users)
        if not raced:
            raced.append(True)
            assert call("POST", "/api/v1/tasks/x1/action/claim", user="carol").status == 200
        return out

    monkeypatch.setattr(TaskRepository, "read_people", racing)
    assert Router(get_dynamo()).route_task(TENANT, "x1") == 0
    assert raced and assignee("x1") == "carol"
    assert [e["action"] for e in history("x1")] == ["create", "claim"]
    assert (load("alice"), load("carol")) == (0, 1)
