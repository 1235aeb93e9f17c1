"""A non-atomic bulk request's writes in chunks (tasks.bulk_chunks), on moto and DynamoDB Local:
ONE transaction per chunk with one load change for the caller; refusals at the decision and at
write time (a task taken meanwhile, the caller's capacity reached meanwhile) answer each task
exactly as its single action does, and never fail another task."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from baton import clock
from baton.domain import Caller
from baton.storage.dynamo import get_dynamo
from baton.storage.keys import Keys
from baton.tasks.bulk_chunks import CHUNK_TASKS, FIRST_CHUNK_TASKS
from baton.tasks.service import TaskService
from tests.support import ADMIN, TENANT, bulk, call, claim, counted, get_task, history, release, seed
from tests.support import create_task as create

pytestmark = pytest.mark.usefixtures("backend", "controlled_clock")


def load(uid: str, tenant: str = "acme") -> int:
    r = call("GET", "/api/v1/users", query={"filter": uid}, tenant=tenant)
    return int(next(u for u in r.body["items"] if u["id"] == uid)["load"])


def set_capacity(uid: str, capacity: int) -> None:
    r = call("PUT", f"/api/v1/users/{uid}", {"username": uid, "firstname": uid.title(), "capacity": capacity},
             user="root", roles=ADMIN)
    assert r.status in (200, 201), r


@contextmanager
def before_first_chunk(meanwhile: Callable[[], None]) -> Iterator[None]:
    """`meanwhile()` runs once, just before the request's first TransactWriteItems is sent (after
    every task of its chunk was decided on the request's read): a change made in between."""
    client = get_dynamo().client
    fired: list[bool] = []

    def hook(**_: Any) -> None:
        if not fired:
            fired.append(True)
            meanwhile()

    client.meta.events.register_first("before-call.dynamodb.TransactWriteItems", hook)
    try:
        yield
    finally:
        client.meta.events.unregister("before-call.dynamodb.TransactWriteItems", hook)


def mixed(prefix: str, n: int, tenant: str = "acme") -> list[str]:
    """n free tasks for alice: even ones offered to her, odd ones to her group ops."""
    ids = [f"{prefix}{i:03d}" for i in range(n)]
    for i, task in enumerate(ids):
        create(task, tenant, **({"candidateGroups": ["ops"]} if i % 2 else {"candidateUsers": ["alice"]}))
    return ids


def test_a_bulk_claim_of_100_is_one_transaction_a_chunk_with_each_task_its_own_writes() -> None:
    seed()
    ids = mixed("b", 100)
    r, calls = counted(lambda: bulk("claim", {"taskIds": ids}))
    assert r.status == 200 and [i["status"] for i in r.body["results"]] == [200] * 100, r
    assert calls.get("TransactWriteItems") == 1 + math.ceil((100 - FIRST_CHUNK_TASKS) / CHUNK_TASKS) == 2, calls
    assert calls.get("BatchGetItem", 0) <= 2 and set(calls) == {"TransactWriteItems", "BatchGetItem"}, calls
    for task in ids:
        assert get_task(task).body["assignee"] == "alice"
        assert [e["action"] for e in history(task)] == ["create", "claim"]
    assert load("alice") == 100


def scene(tenant: str) -> list[str]:
    """Tasks for alice's bulk claim: free ones (direct and through ops), one held by bob, one not
    hers (offered to carol), and two of one case separated from each other (the second one she
    would claim is refused)."""
    seed(tenant)
    free = mixed("f", 6, tenant)
    create("held", tenant, candidateGroups=["ops"])
    assert claim("held", "bob", tenant=tenant).status == 200
    create("carols", tenant, candidateUsers=["carol"])
    create("first", tenant, caseId="c2", candidateUsers=["alice"], separation={"tasks": ["second"]})
    create("second", tenant, caseId="c2", candidateUsers=["alice"])
    return [free[0], "second", free[1], "held", free[2], "carols", "first", *free[3:]]


def test_refused_tasks_of_a_chunk_answer_as_alone_and_the_others_are_claimed() -> None:
    tasks = scene("acme")
    scene("single")
    singles = {t: claim(t, "alice", tenant="single") for t in tasks}  # one after another, in order
    r, calls = counted(lambda: bulk("claim", {"taskIds": tasks}))
    assert r.status == 200 and calls.get("TransactWriteItems") == 1, (r, calls)  # the refused take no write
    got = {i["taskId"]: i for i in r.body["results"]}
    for task, one in singles.items():
        assert got[task]["status"] == one.status, (task, got[task], one.body)
        if one.status != 200:
            assert got[task]["error"]["message"] == one.body["message"] and "task" not in got[task]
    assert [got[t]["status"] for t in ("held", "carols", "first")] == [409, 403, 409]
    assert got["held"]["error"]["holder"] == "bob" and got["first"]["error"]["code"] == "separation"
    assert load("alice") == 7 and load("bob") == 1  # 6 free ones and `second`
    assert [e["action"] for e in history("held")] == ["create", "claim"] and history("held")[-1]["actor"] == "bob"


def test_a_task_taken_before_its_chunk_is_written_is_409_and_the_rest_written_again() -> None:
    seed()
    ids = mixed("w", 12)
    stolen = ids[5]  # offered to ops: bob takes it between the request's read and its write
    with before_first_chunk(lambda: _claimed(stolen, "bob")):
        r, calls = counted(lambda: bulk("claim", {"taskIds": ids}))
    got = {i["taskId"]: i for i in r.body["results"]}
    assert got[stolen]["status"] == 409 and got[stolen]["error"]["holder"] == "bob", got[stolen]
    assert all(got[t]["status"] == 200 for t in ids if t != stolen), r
    # the refused chunk, bob's claim, the chunk again without it, the stolen task's own write (refused)
    assert calls.get("TransactWriteItems") == 4, calls
    assert get_task(stolen).body["assignee"] == "bob" and [e["actor"] for e in history(stolen)] == ["root", "bob"]
    for task in ids:
        if task != stolen:
            assert [e["action"] for e in history(task)] == ["create", "claim"]
    assert (load("alice"), load("bob")) == (11, 1)


def _claimed(task: str, user: str) -> None:
    """`user` claims `task` (through the service: the handlers answer one request at a time)."""
    caller = Caller(user, user, TENANT, frozenset({"operations"}))
    assert TaskService(get_dynamo(), caller).claim(task).assignee == user


def test_capacity_10_and_a_bulk_of_30_gives_exactly_10() -> None:
    seed()
    set_capacity("alice", 10)
    ids = mixed("c", 30)
    r = bulk("claim", {"taskIds": ids})
    statuses = [i["status"] for i in r.body["results"]]
    assert statuses == [200] * 10 + [409] * 20, statuses
    assert {i["error"]["code"] for i in r.body["results"][10:]} == {"capacity"}
    assert load("alice") == 10
    assert sum(get_task(t).body["assignee"] == "alice" for t in ids) == 10


def test_capacity_reached_before_the_chunk_is_written_takes_its_tasks_one_by_one() -> None:
    """The chunk's one load change asserts room for all of it (`load <= capacity - n`); another
    claim took a place meanwhile, so it is refused and its tasks go one by one: as many as fit."""
    seed()
    set_capacity("alice", 10)
    create("other", candidateUsers=["alice"])
    ids = mixed("k", 12)
    with before_first_chunk(lambda: _claimed("other", "alice")):
        r = bulk("claim", {"taskIds": ids})
    statuses = [i["status"] for i in r.body["results"]]
    assert statuses == [200] * 9 + [409] * 3, statuses
    assert {i["error"]["code"] for i in r.body["results"][9:]} == {"capacity"}
    assert load("alice") == 10 and get_task("other").body["assignee"] == "alice"


def test_bulk_release_and_complete_move_the_load_once_a_chunk() -> None:
    seed()
    ids = mixed("r", 50)
    r, calls = counted(lambda: bulk("claim", {"taskIds": ids}))
    assert {i["status"] for i in r.body["results"]} == {200} and load("alice") == 50
    assert calls.get("TransactWriteItems") == 2, calls  # FIRST_CHUNK_TASKS, then the other 10
    r, calls = counted(lambda: bulk("release", {"taskIds": ids[:45] + ["nope"]}))
    assert [i["status"] for i in r.body["results"]] == [200] * 45 + [404], r
    # a release is 3 items (the task, its held claim event written out, its own): 33 a transaction
    assert calls.get("TransactWriteItems") == 2 and load("alice") == 5, calls
    r, calls = counted(lambda: bulk("complete", {"taskIds": ids[40:], "comment": "done"}))
    assert [i["status"] for i in r.body["results"]] == [403] * 5 + [200] * 5, r  # released ones: not hers
    assert calls.get("TransactWriteItems") == 1 and load("alice") == 0
    assert [e["action"] for e in history(ids[49])] == ["create", "claim", "complete"]
    r = bulk("assign", {"taskIds": ids[:3], "userId": "bob", "comment": "yours"}, user="root", roles=ADMIN)
    assert [i["status"] for i in r.body["results"]] == [400, 200, 400], r  # bob: a candidate of odd ones only
    assert load("bob") == 1 and history(ids[1])[-1]["comment"] == "yours"


def test_a_bulk_claims_event_is_held_in_its_task_served_audited_chained_and_written_out_next() -> None:
    """A bulk claim holds each claim's event in its task item (1 item a claim, as the one-write
    claim's): it is in the task's history and the tenant's audit at once, its hash chained, and
    the task's next change writes it out as its history item, the same event."""
    seed()
    start = clock.stamp()
    ids = mixed("h", 4)
    clock.advance(1)
    r, calls = counted(lambda: bulk("claim", {"taskIds": ids}))
    assert [i["status"] for i in r.body["results"]] == [200] * 4 and calls.get("TransactWriteItems") == 1, r
    db = get_dynamo()
    items = [db.get(Keys.task(TENANT, t)) or {} for t in ids]
    assert all("lastEvent" in item for item in items), "held in the task item"
    assert not any(db.get({"pk": Keys.task(TENANT, t)["pk"], "sk": Keys.history_sk(2)}) for t in ids)
    held = {t: history(t)[-1] for t in ids}
    assert {e["action"] for e in held.values()} == {"claim"} and all(e["version"] == 2 for e in held.values())
    for task in ids:
        verify = call("GET", f"/api/v1/tasks/{task}/history", query={"verify": "true"})
        assert verify.status == 200 and verify.body["verified"] is True, verify
    clock.advance(1)
    audit = call("GET", "/api/v1/audit", user="root", roles=ADMIN,
                 query={"from": start, "to": clock.stamp(), "action": "claim"})
    assert sorted(e["id"] for e in audit.body["items"]) == sorted(e["id"] for e in held.values()), audit
    assert release(ids[0], "alice").status == 200  # written out: the same event, then the release
    after = history(ids[0])
    assert [e["action"] for e in after] == ["create", "claim", "release"] and after[1] == held[ids[0]]
    assert db.get({"pk": Keys.task(TENANT, ids[0])["pk"], "sk": Keys.history_sk(2)})
    assert "lastEvent" not in (db.get(Keys.task(TENANT, ids[0])) or {})
    verify = call("GET", f"/api/v1/tasks/{ids[0]}/history", query={"verify": "true"})
    assert verify.status == 200 and verify.body["verified"] is True, verify


def test_a_held_claim_under_a_lease_is_written_out_by_the_takeover_before_its_own_events() -> None:
    """A bulk claim under a lease holds its event; a bulk takeover after the lease passed holds
    none (it writes `lease-expired` too): the held claim, the expiry and the new claim are written
    in version order, each with its changes, and the chain verifies."""
    seed()
    create("L1", candidateUsers=["alice", "bob"], leaseSeconds=60)
    assert bulk("claim", {"taskIds": ["L1"]}, user="alice").body["results"][0]["status"] == 200
    assert "lastEvent" in (get_dynamo().get(Keys.task(TENANT, "L1")) or {})
    clock.advance(61)
    assert bulk("claim", {"taskIds": ["L1"]}, user="bob").body["results"][0]["status"] == 200
    events = history("L1")
    assert [(e["action"], e["version"]) for e in events] == [("create", 1), ("claim", 2), ("lease-expired", 3),
                                                             ("claim", 4)]
    assert events[1]["changes"]["assignee"] == {"from": None, "to": "alice"} and events[1]["changes"]["lease"]["to"]
    assert events[2]["changes"]["assignee"] == {"from": "alice", "to": None}
    assert "lastEvent" not in (get_dynamo().get(Keys.task(TENANT, "L1")) or {})
    verify = call("GET", "/api/v1/tasks/L1/history", query={"verify": "true"})
    assert verify.status == 200 and verify.body["verified"] is True and verify.body["checked"] == 4, verify
    assert load("alice") == 0 and load("bob") == 1
