"""A bulk claim racing single claims of its tasks, on DynamoDB Local with the functions in worker
processes (concurrent requests): the bulk's chunks (tasks.bulk_chunks) and the single claims'
transactions never give a task twice, every task refused to one is the other's (409 naming the
holder), each claimed task has one claim in its history, and the loads are exact."""

from __future__ import annotations

import random
from functools import partial
from typing import Any

import pytest

from tests.support import Reply, bulk, call, claim, concurrently, history, seed
from tests.support import create_task as create

pytestmark = pytest.mark.usefixtures("functions_in_processes")


def load(uid: str) -> int:
    r = call("GET", "/api/v1/users", query={"filter": uid})
    return int(next(u for u in r.body["items"] if u["id"] == uid)["load"])


def test_single_claims_racing_a_bulk_claim_never_give_a_task_twice() -> None:
    seed()
    rng = random.Random(25)
    totals = {"alice": 0, "bob": 0}
    for round_ in range(3):
        ids = [f"r{round_}-{i:02d}" for i in range(60)]
        for i, task in enumerate(ids):  # ops' tasks, a few offered to both by name
            offered: dict[str, Any] = {"candidateUsers": ["alice", "bob"]} if i % 10 == 0 else \
                {"candidateGroups": ["ops"]}
            create(task, **offered)
        raced = rng.sample(ids, 24)
        replies: list[Reply] = concurrently([partial(bulk, "claim", {"taskIds": ids}),
                                             *(partial(claim, t, "bob") for t in raced)])
        results = {i["taskId"]: i for i in replies[0].body["results"]}
        alice = {t for t, i in results.items() if i["status"] == 200}
        bob = {t for t, r in zip(raced, replies[1:], strict=True) if r.status == 200}
        assert not alice & bob and alice | bob == set(ids), (alice & bob, set(ids) - alice - bob)
        assert all(r.status == 409 for t, r in zip(raced, replies[1:], strict=True) if t not in bob)
        for task in set(ids) - alice:
            assert results[task]["status"] == 409 and results[task]["error"]["holder"] == "bob", results[task]
        for task in ids:
            events = history(task)
            assert [e["action"] for e in events] == ["create", "claim"], (task, events)
            assert events[-1]["actor"] == ("alice" if task in alice else "bob")
        totals["alice"] += len(alice)
        totals["bob"] += len(bob)
        assert {u: load(u) for u in totals} == totals
