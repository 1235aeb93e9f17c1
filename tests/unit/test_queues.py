"""Queues: queue order and fields, pages that cost O(page) at any history size, a user in
1,000 groups, claim-next, and the migration of data written before queue keys existed."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from baton.storage.dynamo import get_dynamo, serialize
from baton.storage.keys import Keys
from baton.tasks.domain import Task
from baton.tasks.layout import task_item
from tests.support import ADMIN, WRITER, call, claim, get_task, history, seed

T0 = "2026-01-01T00:00:00.000000Z"


def create(task_id: str, **fields: Any) -> dict[str, Any]:
    r = call("POST", "/api/v1/tasks", {"id": task_id, "name": task_id, **fields}, user="root", roles=ADMIN)
    assert r.status == 201, r
    body: dict[str, Any] = r.body
    return body


def pages(query: dict[str, str], user: str = "bob", limit: int = 2) -> list[list[str]]:
    """Every page of a listing, following cursors; asserts no page is empty with a cursor."""
    out: list[list[str]] = []
    cursor = None
    while True:
        q = {**query, "limit": str(limit), **({"cursor": cursor} if cursor else {})}
        r = call("GET", "/api/v1/tasks", query=q, user=user)
        assert r.status == 200, r
        ids = [t["id"] for t in r.body["items"]]
        cursor = r.body["cursor"]
        assert ids or not cursor, "an empty page with a cursor"
        if cursor:
            assert len(ids) == limit, "a short page with a cursor"
        out.append(ids)
        if not cursor:
            return out


@contextmanager
def counted() -> Iterator[dict[str, Any]]:
    """Count the DynamoDB calls (and items read) the store's client makes meanwhile."""
    client = get_dynamo().client
    seen: dict[str, Any] = {"calls": 0, "items": 0, "writes": 0}

    def after(parsed: dict[str, Any], model: Any, **_: Any) -> None:
        seen["calls"] += 1
        seen["items"] += len(parsed.get("Items", []))
        seen["items"] += sum(len(v) for v in (parsed.get("Responses") or {}).values()) \
            if isinstance(parsed.get("Responses"), dict) else 0
        if model.name in ("PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"):
            seen["writes"] += 1

    client.meta.events.register("after-call.dynamodb", after)
    try:
        yield seen
    finally:
        client.meta.events.unregister("after-call.dynamodb", after)


def put_finished(tenant: str, n: int, group: str = "ops") -> None:
    """`n` completed tasks written straight to the table (a tenant's history, quickly)."""
    store = get_dynamo()
    items = []
    for i in range(n):
        task = Task(id=f"old-{i:06d}", name="Old", status="completed", assignee="alice", candidateGroups=[group],
                    createdAt=f"2025-01-01T00:00:00.{i:06d}Z", updatedAt=T0, version=3)
        items.append({"PutRequest": {"Item": task_item(tenant, task)}})
    for start in range(0, len(items), 25):
        store.client.batch_write_item(RequestItems={store.table: items[start:start + 25]})


pytestmark = pytest.mark.usefixtures("backend")


@pytest.fixture(autouse=True)
def _seeded(backend: str) -> None:
    seed()


def test_task_fields_default_and_validate() -> None:
    body = create("f1", candidateGroups=["ops"])
    assert body["priority"] == 50 and body["dueDate"] is None and body["followUpDate"] is None
    body = create("f2", priority=0, dueDate="2026-03-01T10:00:00+02:00", followUpDate="2026-02-01T00:00:00Z")
    assert body["priority"] == 0
    assert body["dueDate"] == "2026-03-01T08:00:00.000000Z" and body["followUpDate"] == "2026-02-01T00:00:00.000000Z"
    for bad in ({"priority": 101}, {"priority": -1}, {"priority": "5"}, {"priority": True}, {"priority": 1.5},
                {"dueDate": "2026-03-01"}, {"dueDate": "2026-03-01T10:00:00"}, {"dueDate": "tomorrow"},
                {"dueDate": 5}, {"followUpDate": "2026-13-01T00:00:00Z"}):
        r = call("POST", "/api/v1/tasks", {"name": "x", **bad}, roles=WRITER)
        assert r.status == 400, (bad, r)


def test_too_many_candidates_is_400_and_writes_nothing() -> None:
    users = [f"u{i}" for i in range(60)]
    groups = [f"g{i}" for i in range(60)]
    r = call("POST", "/api/v1/tasks", {"id": "crowd", "name": "x", "candidateUsers": users,
                                       "candidateGroups": groups}, roles=WRITER)
    assert r.status == 400 and "at most 97 candidates" in r.body["message"], r
    assert get_task("crowd").status == 404


def test_queue_is_in_queue_order() -> None:
    # priority desc, then dueDate asc (none last), then createdAt asc, then id
    create("low", priority=10, candidateGroups=["ops"])
    create("due-late", priority=60, dueDate="2026-05-01T00:00:00Z", candidateGroups=["ops"])
    create("nodue-a", priority=60, candidateGroups=["ops"])
    create("due-soon", priority=60, dueDate="2026-04-01T00:00:00+05:00", candidateUsers=["bob"])
    create("urgent", priority=100, candidateUsers=["bob"], candidateGroups=["ops"])
    create("nodue-b", priority=60, candidateGroups=["ops"])
    create("default", candidateGroups=["ops"])
    create("not-mine", priority=100, candidateUsers=["carol"])
    expected = ["urgent", "due-soon", "due-late", "nodue-a", "nodue-b", "t1", "default", "low"]
    assert sum(pages({"candidate": "me", "status": "open"}), []) == expected
    assert sum(pages({"candidate": "me"}, limit=3), []) == expected
    assert pages({"candidate": "me", "status": "completed"}) == [[]]
    # a claimed task leaves every queue it was in and shows in the holder's inbox, in queue order
    assert claim("urgent", "alice").status == 200
    assert claim("low", "alice").status == 200
    assert claim("due-late", "alice").status == 200
    assert sum(pages({"candidate": "me"}), []) == ["due-soon", "nodue-a", "nodue-b", "t1", "default"]
    assert sum(pages({"assignee": "me", "status": "open"}, user="alice"), []) == ["urgent", "due-late", "low"]
    # other listings: newest first
    newest = sum(pages({"assignee": "alice"}, user="alice"), [])
    assert newest == ["urgent", "due-late", "low"]
    # released: back in its queues
    assert call("POST", "/operations-manager/tasks/urgent/release", user="alice").status == 200
    assert sum(pages({"candidate": "me"}), [])[0] == "urgent"
    # finished: in no queue and not in the open inbox; listed by status, newest first
    assert call("POST", "/api/v1/tasks/low/action/complete", user="alice").status == 200
    assert sum(pages({"assignee": "me", "status": "open"}, user="alice"), []) == ["due-late"]
    assert sum(pages({"assignee": "me", "status": "completed"}, user="alice"), []) == ["low"]
    everything = sum(pages({}, limit=5), [])
    assert len(everything) == len(set(everything)) == 11
    assert sum(pages({"status": "completed"}), []) == ["low"]


def test_a_task_in_several_of_my_queues_is_listed_once() -> None:
    create("both", candidateUsers=["alice", "bob"], candidateGroups=["ops"])
    queue = sum(pages({"candidate": "me"}, user="alice", limit=1), [])
    assert queue == ["t1", "both"]


def test_reassign_to_several_moves_the_queue_entries() -> None:
    create("r1", candidateUsers=["alice", "bob"])
    r = call("POST", "/api/v1/tasks/r1/action/reassign", {"newStepUserIds": ["carol", "dave"]}, user="alice")
    assert r.status == 200, r
    assert "r1" not in sum(pages({"candidate": "me"}, user="alice"), [])
    assert "r1" not in sum(pages({"candidate": "me"}, user="bob"), [])
    assert "r1" in sum(pages({"candidate": "me"}, user="carol"), [])
    assert "r1" in sum(pages({"candidate": "me"}, user="dave"), [])


def test_queue_cursor_of_another_user_or_listing_is_refused() -> None:
    for i in range(3):
        create(f"c{i}", candidateGroups=["ops"])
    first = call("GET", "/api/v1/tasks", query={"candidate": "me", "limit": "1"}, user="bob").body
    assert first["cursor"]
    assert call("GET", "/api/v1/tasks", query={"candidate": "me", "limit": "1", "cursor": first["cursor"]},
                user="alice").status == 400
    assert call("GET", "/api/v1/tasks", query={"assignee": "bob", "limit": "1", "cursor": first["cursor"]},
                user="bob").status == 400
    assert call("GET", "/api/v1/tasks", query={"candidate": "me", "assignee": "bob"}).status == 400


def test_queue_and_inbox_pages_cost_the_same_at_any_history_size() -> None:
    for i in range(5):
        create(f"open-{i}", candidateGroups=["ops"])
    claim("open-0", "bob")

    def cost() -> list[tuple[int, int, list[str]]]:
        out = []
        for query in ({"candidate": "me", "status": "open"}, {"assignee": "me", "status": "open"},
                      {"assignee": "me", "status": "completed"}):
            with counted() as seen:
                r = call("GET", "/api/v1/tasks", query={**query, "limit": "20"}, user="bob")
            assert r.status == 200
            out.append((seen["calls"], seen["items"], [t["id"] for t in r.body["items"]]))
        return out

    before = cost()
    put_finished("acme", 600)  # completed by alice, in group ops: bob's queue and inbox never see them
    assert cost() == before
    assert before[0][2] == ["t1", "open-1", "open-2", "open-3", "open-4"]
    assert before[0][0] == 3  # the user item, then one Query each for bob's and ops' queues (in parallel)
    assert before[1][0] == 1 and before[2][0] == 1  # one Query each


def test_a_user_in_1000_groups_gets_a_correct_queue() -> None:
    store = get_dynamo()
    groups = [f"grp-{i:04d}" for i in range(1000)]
    store.client.update_item(TableName=store.table, Key=serialize(Keys.user("acme", "bob")),
                             UpdateExpression="ADD #g :g", ExpressionAttributeNames={"#g": "groups"},
                             ExpressionAttributeValues={":g": {"SS": groups}})
    expected = []
    for i in range(0, 1000, 97):  # 11 tasks in groups spread over the list, two priorities
        create(f"in-{groups[i]}", candidateGroups=[groups[i]], priority=70 if i % 2 else 30)
        expected.append((-(70 if i % 2 else 30), f"in-{groups[i]}"))
    create("elsewhere", candidateGroups=["grp-x"])
    want = [t for _, t in sorted(expected)]
    want = want[:5] + ["t1"] + want[5:]  # t1 (ops, priority 50) sorts between the two bands
    with counted() as seen:
        got = sum(pages({"candidate": "me", "status": "open"}, limit=6), [])
    assert got == want
    # one Query per queue partition (1,001, in parallel) for each of the 2 pages, plus the user item
    assert seen["calls"] <= 2 * (1001 + 8)


def test_claim_next_takes_the_queue_in_order_then_204() -> None:
    create("n-low", priority=5, candidateGroups=["ops"])
    create("n-high", priority=90, candidateGroups=["ops"])
    create("n-mine", priority=80, candidateUsers=["bob"])
    got = []
    for _ in range(4):
        r = call("POST", "/api/v1/tasks/claim-next", user="bob")
        assert r.status == 200, r
        assert r.body["assignee"] == "bob" and r.headers["etag"] == f'"{r.body["version"]}"'
        got.append(r.body["id"])
    assert got == ["n-high", "n-mine", "t1", "n-low"]  # alone: the head each time, in queue order
    r = call("POST", "/api/v1/tasks/claim-next", {}, user="bob")
    assert r.status == 204 and r.body == ""
    assert [e["action"] for e in history("n-high")] == ["create", "claim"]


def test_claim_next_by_group() -> None:
    create("g-ops", priority=10, candidateGroups=["ops"])
    create("g-direct", priority=99, candidateUsers=["alice"])
    r = call("POST", "/api/v1/tasks/claim-next", {"groupId": "ops"}, user="alice")
    assert r.status == 200 and r.body["id"] in ("t1", "g-ops")  # never the direct one
    assert call("POST", "/api/v1/tasks/claim-next", {"groupId": "eng"}, user="alice").status == 403
    assert call("POST", "/api/v1/tasks/claim-next", {"groupId": "ops"}, user="carol").status == 403
    assert call("POST", "/api/v1/tasks/claim-next", {"groupId": "ops"}, user="x", roles=()).status == 403
    for bad in ({"groupId": ""}, {"groupId": 5}, {"other": 1}, {"groupId": "g" * 129}):
        assert call("POST", "/api/v1/tasks/claim-next", bad, user="alice").status == 400, bad
    r = call("POST", "/api/v1/tasks/claim-next", {"groupId": "ops"}, user="root", roles=ADMIN)
    assert r.status == 200 and r.body["assignee"] == "root"


def test_claim_next_skips_what_it_may_not_take() -> None:
    create("auto", type="automatic", candidateUsers=["bob"], priority=100)
    r = call("POST", "/api/v1/tasks/claim-next", user="bob")
    assert r.status == 200 and r.body["id"] == "t1"
    assert call("POST", "/api/v1/tasks/claim-next", user="bob").status == 204


def test_claim_of_the_only_candidate_is_one_read_and_one_write_and_moves_it_to_the_inbox() -> None:
    # Since capacity the claimant's load moves in the claim's transaction, which returns no item:
    # a read (the task and the claimant) and one transaction, for every claim (docs/decisions.md).
    with counted() as seen:
        r = claim("t2", "carol")
    assert r.status == 200 and seen["calls"] == 2 and seen["writes"] == 1
    assert sum(pages({"assignee": "me", "status": "open"}, user="carol"), []) == ["t2"]
    assert sum(pages({"candidate": "me"}, user="carol"), []) == []
    with counted() as seen:
        assert claim("t1", "bob").status == 200
    assert seen["calls"] == 2 and seen["writes"] == 1  # a group task pays no refused blind claim first
