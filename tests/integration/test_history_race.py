"""History reads are consistent while the task changes (issue 12, item 3): with writers claiming
(the one-write claim keeps its event pending in the task item, see docs/data-model.md) and
releasing, and readers paging through the history at the same time on DynamoDB Local, every
read is versions 1, 2, 3, ... with no repeat and no gap."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from tests.support import ADMIN, call, claim, release, seed

pytestmark = pytest.mark.usefixtures("functions_in_processes")

ROUNDS = 10


def read_all(task: str, limit: int) -> list[int]:
    versions: list[int] = []
    cursor: str | None = None
    while True:
        r = call("GET", f"/api/v1/tasks/{task}/history", query={"limit": str(limit), **({"cursor": cursor}
                                                                                         if cursor else {})})
        assert r.status == 200, r
        versions += [e["version"] for e in r.body["items"]]
        cursor = r.body["cursor"]
        if not cursor:
            return versions


def test_history_never_repeats_or_skips_while_the_task_changes(local_table: str) -> None:
    seed()
    r = call("POST", "/api/v1/tasks", {"id": "busy", "name": "Busy", "candidateUsers": ["alice", "bob"]},
             user="root", roles=ADMIN)
    assert r.status == 201
    done = threading.Event()
    reads: list[list[int]] = []
    failures: list[Any] = []

    def writer(user: str) -> None:
        try:
            for _ in range(ROUNDS):
                if claim("busy", user).status == 200:  # a free task: the one-write claim (event pending)
                    assert release("busy", user).status == 200  # writes the pending event out
        except Exception as err:  # noqa: BLE001 - reported below
            failures.append(err)

    def reader(limit: int) -> None:
        try:
            while not done.is_set():
                reads.append(read_all("busy", limit))
        except Exception as err:  # noqa: BLE001 - reported below
            failures.append(err)

    writers = [threading.Thread(target=writer, args=(u,)) for u in ("alice", "bob")]
    readers = [threading.Thread(target=reader, args=(limit,)) for limit in (100, 100, 4)]
    for t in readers + writers:
        t.start()
    for t in writers:
        t.join(120)
    done.set()
    for t in readers:
        t.join(120)
    assert not failures, failures
    assert len(reads) > 5
    for versions in reads:
        assert versions == list(range(1, len(versions) + 1)), versions
    final = read_all("busy", 100)
    assert final == list(range(1, call("GET", "/api/v1/tasks/busy").body["version"] + 1))
