"""ProcessMaker assignee lists at size and under contention, on DynamoDB Local: paging over
1,000 assignees, the DynamoDB calls a page costs, and concurrent POSTs of one id (the routes'
behaviour, row by row, is in tests/unit/test_processmaker.py)."""

from __future__ import annotations

from collections import Counter
from functools import partial
from typing import Any

from baton.directory.domain import Group, User
from baton.directory.repository import DirectoryRepository
from baton.storage.dynamo import get_dynamo
from tests.support import ADMIN, TENANT, call, concurrently, in_processes, seed
from tests.support.processmaker import BASE, PM, assign, bulk_directory, pm


def test_paging_over_1000_assignees_first_page_two_round_trips_renames_reorder_it(local_table: str) -> None:
    """1,000 assignees: `start`/`limit` pages give every one exactly once (unfiltered and
    filtered); the page at start=0 is one Query and one BatchGet at that size; after renames that
    move entries to the front, the first page shows them, still in two round trips."""
    seed()
    bulk_directory(1000, {})
    for i in range(1000):  # one by one: writes to one activity extend its ledger chain, so they serialise
        assign("act", f"u{i:04d}")
    for flt, expected in ((None, 1002), ("bulk", 500)):
        seen: list[str] = []
        start = 0
        while True:
            q = {"start": str(start), "limit": "97"}
            if flt:
                q["filter"] = flt
            r = pm("GET", BASE + "/assignee/paged", query=q)
            assert r.status == 200 and r.body["total"] == expected
            if not r.body["data"]:
                break
            seen += [a["aas_uid"] for a in r.body["data"]]
            start += 97
        assert len(seen) == expected == len(set(seen))

    store = get_dynamo()
    calls: Counter[str] = Counter()

    def count(model: Any, **_: Any) -> None:
        calls[model.name] += 1

    def first_page() -> list[str]:
        calls.clear()
        store.client.meta.events.register("before-call.dynamodb", count)
        try:
            r = pm("GET", BASE + "/assignee/paged", query={"start": "0", "limit": "5"})
        finally:
            store.client.meta.events.unregister("before-call.dynamodb", count)
        assert r.status == 200 and r.body["total"] == 1002
        assert sum(calls.values()) <= 2, calls
        return [a["aas_uid"] for a in r.body["data"]]

    assert first_page() == ["ops", "alice", "u0000", "u0001", "u0002"]
    directory = DirectoryRepository(store)
    directory.put_user(TENANT, User(id="u0999", username="user0999", firstname="Aardvark"))
    directory.put_group(TENANT, Group(id="ops", name="Zeta", members=["alice", "bob"]), ["alice", "bob"], 1)
    assert first_page() == ["ops", "u0999", "alice", "u0000", "u0001"]


def test_list_calls_stay_bounded(local_table: str) -> None:
    """200 assignees (180 users and 20 groups of 10 others). An unfiltered page reads what it
    shows: one Query (up to the page's end) and one BatchGet, wherever it starts. What needs
    every name or member reads the set: one Query plus one BatchGet per 100 keys."""
    seed()
    groups = {f"g{j:02d}": [f"u{200 + 10 * j + k:04d}" for k in range(10)] for j in range(20)}
    bulk_directory(400, groups)
    call("PUT", "/api/v1/projects/prj/activities/big", {"name": "Big"}, user="root", roles=ADMIN)
    big = f"/api/1.0/{TENANT}/project/prj/activity/big"
    store = get_dynamo()
    for i in range(180):
        assign("big", f"u{i:04d}")
    for gid in groups:
        assign("big", gid, "group")
    calls: Counter[str] = Counter()

    def count(model: Any, **_: Any) -> None:
        calls[model.name] += 1

    store.client.meta.events.register("before-call.dynamodb", count)
    try:
        for route, query, budget in (
                ("/assignee", {"limit": "10"}, {"Query": 1, "BatchGetItem": 1}),
                ("/assignee/paged", {"limit": "10"}, {"Query": 1, "BatchGetItem": 1}),
                ("/assignee/paged", {"limit": "10", "start": "185"}, {"Query": 1, "BatchGetItem": 1}),
                ("/assignee/paged", {"limit": "10", "filter": "team"}, {"Query": 1, "BatchGetItem": 2}),
                ("/assignee", {}, {"Query": 1, "BatchGetItem": 2}),
                ("/assignee/all", {"limit": "10"}, {"Query": 1, "BatchGetItem": 4}),
                ("/available-assignee/paged", {"limit": "10"}, {"Query": 2})):
            calls.clear()
            r = pm("GET", big + route, query=query)
            assert r.status == 200
            assert dict(calls) == budget, (route, query, calls)
    finally:
        store.client.meta.events.unregister("before-call.dynamodb", count)
    assert pm("GET", big + "/assignee/paged").body["total"] == 200
    assert len(pm("GET", big + "/assignee/all").body) == 380
    # the unfiltered pages and the whole list agree: groups by title, then users by first name
    whole = [a["aas_uid"] for a in pm("GET", big + "/assignee").body]
    assert whole == sorted(groups) + [f"u{i:04d}" for i in range(180)]
    paged = [a["aas_uid"] for start in range(0, 200, 30)
             for a in pm("GET", big + "/assignee/paged", query={"start": str(start), "limit": "30"}).body["data"]]
    assert paged == whole
    assert pm("GET", big + "/assignee/paged", query={"start": "195", "limit": "10"}).body["data"][-1]["aas_uid"] \
        == whole[-1]



def test_concurrent_double_post(local_table: str) -> None:
    """Two POSTs of the same id at once, on DynamoDB Local: one 201, one 400, every round."""
    seed()
    with in_processes(2):  # two worker processes for every round: the two POSTs race in them
        for round_no in range(10):
            uid = f"racer{round_no}"
            call("PUT", f"/api/v1/users/{uid}", {"username": uid}, user="root", roles=ADMIN)
            post = partial(pm, "POST", BASE + "/assignee", {"aas_uid": uid, "aas_type": "user"}, PM)
            results = [r.status for r in concurrently([post, post])]
            assert sorted(results) == [201, 400], results
            listed = [a["aas_uid"] for a in pm("GET", BASE + "/assignee").body]
            assert listed.count(uid) == 1
