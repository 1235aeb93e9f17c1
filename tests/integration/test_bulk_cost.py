"""What a bulk claim costs at its limits, on DynamoDB Local: 100 tasks in 3 transactions (chunks of
tasks.bulk_chunks, each task its own conditional writes of its task and history items) and at most
two reads; an atomic bulk over one transaction's 100 items is refused saying what it needs (the
rest of the bulk actions, on both engines, is tests/unit/test_bulk.py)."""

from __future__ import annotations

import math
from typing import Any

import pytest

from baton.tasks.bulk_chunks import CHUNK_TASKS, FIRST_CHUNK_TASKS
from tests.support import bulk, counted, get_task, history, seed
from tests.support import create_task as create

pytestmark = pytest.mark.usefixtures("local_table")


def test_bulk_claim_of_100_costs_2_transactions_and_bounded_reads() -> None:
    seed()
    for n in range(100):
        fields: dict[str, Any] = {"candidateGroups": ["ops"]} if n % 2 else {"candidateUsers": ["alice"]}
        create(f"b{n:03d}", **fields)
    r, calls = counted(lambda: bulk("claim", {"taskIds": [f"b{n:03d}" for n in range(100)]}))
    assert r.status == 200 and {i["status"] for i in r.body["results"]} == {200}
    writes = sum(n for op, n in calls.items() if op in ("TransactWriteItems", "UpdateItem", "PutItem"))
    # one transaction a chunk (was: one a task)
    assert writes == 1 + math.ceil((100 - FIRST_CHUNK_TASKS) / CHUNK_TASKS) == 2, calls
    assert calls.get("BatchGetItem", 0) <= 2 and "Query" not in calls and "Scan" not in calls
    assert sum(calls.values()) <= 5, calls
    assert all(len(history(f"b{n:03d}")) == 2 and get_task(f"b{n:03d}").body["assignee"] == "alice"
               for n in range(0, 100, 7))


def test_atomic_over_one_transaction_is_400_saying_what_it_needs() -> None:
    seed()
    many = ["alice", "bob", "carol", "dave", "root"]
    tasks = [f"m{n:02d}" for n in range(20)]
    for task in tasks:  # each claim also takes the task out of four more queues: 6 items a task
        create(task, candidateUsers=many)
    r = bulk("claim", {"taskIds": tasks, "atomic": True})  # + alice's load, one Update for all 20
    assert r.status == 400 and "121 items" in r.body["message"] and "100" in r.body["message"], r
    assert all(get_task(t).body["assignee"] is None and len(history(t)) == 1 for t in tasks)
    r = bulk("claim", {"taskIds": tasks[:10], "atomic": True})
    assert r.status == 200 and all(get_task(t).body["assignee"] == "alice" for t in tasks[:10])
