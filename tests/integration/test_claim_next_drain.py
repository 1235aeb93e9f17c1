"""16 workers drain 200 tasks (mixed priorities, 8 groups, each worker in 2) with claim-next over
real HTTP through `baton serve` on DynamoDB Local: enough to collide on every claim, and every task
is claimed exactly once, none left, no 5xx, each worker's claims in queue order as far as
contention allows. `make bench` runs the same drain at 64 workers x 2,000 tasks."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from baton.tasks.service import CLAIM_BATCH
from baton_local import tokens
from baton_local.ddblocal import DynamoDBLocal
from benchmarks.drain import Drain
from tests.support.localserver import Server, on_engine, request

pytestmark = pytest.mark.xdist_group("drain")
WORKERS, TASKS = 16, 200


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, ddb_local: DynamoDBLocal) -> Iterator[tuple[Server, Any]]:
    state: Path = tmp_path_factory.mktemp("drain-state")
    srv = Server(state, *on_engine(ddb_local)).start()
    yield srv, tokens.load_key(state)
    srv.stop()


def test_workers_drain_the_queues_each_task_exactly_once(server: tuple[Server, Any]) -> None:
    srv, key = server
    cache: dict[tuple[str, tuple[str, ...]], str] = {}

    def call(method: str, path: str, body: Any, user: str, roles: tuple[str, ...]) -> tuple[int, Any]:
        tok = cache.get((user, roles))
        if tok is None:
            tok = cache[(user, roles)] = tokens.issue(key, user=user, tenant="workflow", roles=list(roles), ttl=3600)
        return request(srv.base, method, path, tok, body, timeout=600)  # a shared 2-core machine can be slow

    drain = Drain(call, workers=WORKERS, tasks=TASKS)
    drain.setup()
    drain.run()
    assert drain.problems(window=CLAIM_BATCH) == [], drain.summary()
    assert sum(len(v) for v in drain.claims.values()) == TASKS
    assert drain.summary()["given_twice"] == 0
    assert drain.statuses.get(200) == TASKS and 204 in drain.statuses  # every worker ran until its queues were empty
    # nothing left in any queue, and each task is held by the worker that was given it
    for user, ids in drain.claims.items():
        status, body = call("GET", "/api/v1/tasks", None, user, ("operations",))
        assert status == 200
        status, queue = request(srv.base, "GET", "/api/v1/tasks?candidate=me&limit=5",
                                cache[(user, ("operations",))])
        assert status == 200 and queue["items"] == [] and queue["cursor"] is None
        held: list[str] = []
        cursor = ""
        while True:
            status, page = request(srv.base, "GET", f"/api/v1/tasks?assignee=me&status=open&limit=100{cursor}",
                                   cache[(user, ("operations",))])
            held += [t["id"] for t in page["items"]]
            if not page["cursor"]:
                break
            cursor = f"&cursor={page['cursor']}"
        assert sorted(held) == sorted(ids), user
        # the inbox is in queue order
        assert held == sorted(held, key=drain.order_key)
    print(drain.summary())
