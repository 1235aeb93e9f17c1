"""The router routes a batch of triggers together (tasks.routing `Router.handle` → `route_tasks`):
one read of the batch's tasks and of each group's members, the picks in turn on what was read plus
the batch's own picks, the writes concurrently (one at a time on moto), each still the claim's
conditional transaction; a pick the write refuses is routed again alone on fresh reads."""

from __future__ import annotations

from typing import Any

import pytest

from baton.storage.dynamo import get_dynamo
from baton.tasks import routing
from baton.tasks.routing import Router
from baton.tasks.stream import Trigger
from tests.support import ADMIN, TENANT, call, create_task, history, seed

pytestmark = pytest.mark.usefixtures("backend")

CREW = ["alice", "bob", "carol"]


@pytest.fixture(autouse=True)
def _seeded(backend: str) -> None:
    seed()


def group(strategy: str, members: list[str] = CREW, **routing_: Any) -> None:
    r = call("PUT", "/api/v1/groups/crew", {"name": "crew", "members": members,
                                            "routing": {"strategy": strategy, **routing_}}, user="root", roles=ADMIN)
    assert r.status in (200, 201), r


def holder(task: str) -> str | None:
    value = call("GET", f"/api/v1/tasks/{task}").body["assignee"]
    return str(value) if value is not None else None


def load(uid: str) -> int:
    return int(next(u for u in call("GET", "/api/v1/users", query={"filter": uid}).body["items"]
                    if u["id"] == uid)["load"])


def counted(db: Any) -> dict[str, int]:
    calls: dict[str, int] = {}

    def count(model: Any, **_: Any) -> None:
        calls[model.name] = calls.get(model.name, 0) + 1
    db.client.meta.events.register("before-parameter-build.dynamodb", count)
    return calls


def test_a_batch_goes_round_in_turn_with_one_read_of_tasks_and_members() -> None:
    group("round-robin")
    ids = [f"b{i}" for i in range(7)]
    for t in ids:
        create_task(t, candidateGroups=["crew"])
    db = get_dynamo()
    router = Router(db)
    calls = counted(db)
    triggers = [Trigger(TENANT, "task", t) for t in ids] + [Trigger(TENANT, "task", "b0")]  # b0 twice: once
    assert router.handle(triggers) == 7
    made = dict(calls)
    # the tasks (1 BatchGetItem), the group (1 GetItem), its members (1 BatchGetItem), 7 writes, 1 position
    assert made == {"BatchGetItem": 2, "GetItem": 1, "TransactWriteItems": 7, "UpdateItem": 1}, made
    assert [holder(t) for t in ids] == (CREW * 3)[:7]
    assert [load(u) for u in CREW] == [3, 2, 2]
    assert all(history(t)[-1]["reason"] == "routing:round-robin" for t in ids)
    create_task("b7", candidateGroups=["crew"])
    assert Router(db).handle([Trigger(TENANT, "task", "b7")]) == 1 and holder("b7") == "bob"  # goes on after alice


def test_least_loaded_counts_the_batch_own_picks_and_capacity_leaves_the_rest_waiting() -> None:
    group("least-loaded")
    for u in CREW:
        call("PUT", f"/api/v1/users/{u}", {"username": u, "capacity": 2}, user="root", roles=ADMIN)
    ids = [f"l{i}" for i in range(8)]
    for t in ids:
        create_task(t, candidateGroups=["crew"])
    assert Router(get_dynamo()).handle([Trigger(TENANT, "task", t) for t in ids]) == 6
    assert [holder(t) for t in ids[:6]] == CREW * 2 and holder("l6") is None and holder("l7") is None
    assert [load(u) for u in CREW] == [2, 2, 2]
    assert call("POST", "/api/v1/tasks/l0/action/complete", user="alice").status == 200
    # a slot freed: the queue's head goes to alice (a user trigger routes the group's queue once)
    assert Router(get_dynamo()).handle([Trigger(TENANT, "user", "alice", ("crew",)),
                                        Trigger(TENANT, "user", "alice")]) == 1
    assert holder("l6") == "alice" and holder("l7") is None


def test_a_pick_the_write_refuses_is_routed_again_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    group("round-robin")
    for t in ("f0", "f1"):
        create_task(t, candidateGroups=["crew"])
    # alice fills up between the batch's read and its write: her write is refused, the task routed again
    read_people = routing.TaskRepository.read_people
    filled: list[int] = []

    def then_full(self: Any, tenant: str, users: Any) -> Any:
        found = read_people(self, tenant, users)
        if not filled:
            filled.append(1)
            r = call("PUT", "/api/v1/users/alice", {"username": "alice", "capacity": 0}, user="root", roles=ADMIN)
            assert r.status == 200, r
        return found

    monkeypatch.setattr(routing.TaskRepository, "read_people", then_full)
    assert Router(get_dynamo()).handle([Trigger(TENANT, "task", "f0"), Trigger(TENANT, "task", "f1")]) == 2
    assert {holder("f0"), holder("f1")} == {"bob", "carol"} and load("alice") == 0


def test_a_task_claimed_meanwhile_is_left_to_its_claimant(monkeypatch: pytest.MonkeyPatch) -> None:
    group("round-robin")
    create_task("c0", candidateGroups=["crew"])
    create_task("c1", candidateGroups=["crew"])
    router = Router(get_dynamo())
    original = Router._give

    def claim_first(self: Router, tenant: str, task: Any, group_: Any, user: str, people: Any) -> None:
        if task.id == "c0":
            assert call("POST", "/api/v1/tasks/c0/action/claim", user="carol").status == 200
        original(self, tenant, task, group_, user, people)

    monkeypatch.setattr(Router, "_give", claim_first)
    assert router.handle([Trigger(TENANT, "task", "c0"), Trigger(TENANT, "task", "c1")]) == 1
    assert holder("c0") == "carol" and holder("c1") == "bob"
    assert [e["action"] for e in history("c0")] == ["create", "claim"]


def test_a_group_changed_while_cached_routes_to_its_new_members() -> None:
    """The router keeps a group for a moment; when its members change meanwhile, the pick the
    write refuses (the member has left) is made again on the group read afresh, not on the
    cached copy (which would pick the member who left again, and leave the task in the queue)."""
    group("round-robin", ["alice"])
    router = Router(get_dynamo())
    create_task("g0", candidateGroups=["crew"])
    assert router.handle([Trigger(TENANT, "task", "g0")]) == 1 and holder("g0") == "alice"
    group("round-robin", ["bob", "carol"])  # replaced within the cache's life
    create_task("g1", candidateGroups=["crew"])
    assert router.handle([Trigger(TENANT, "task", "g1")]) == 1
    assert holder("g1") in ("bob", "carol")
