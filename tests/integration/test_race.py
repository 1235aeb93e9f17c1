"""Concurrent claims through the real handlers against Amazon DynamoDB Local.

(moto is not thread-safe: its update_item reads, checks and writes without a lock, so a
threaded race against it proves nothing. These run on DynamoDB Local only.)"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterator
from functools import partial

import pytest

from tests.support import ADMIN, Reply, call, claim, concurrently, history

pytestmark = pytest.mark.usefixtures("functions_in_processes")

THREADS = 32
ROUNDS = 10
DIRECT = [f"u{i}" for i in range(THREADS // 2)]
MEMBERS = [f"u{i}" for i in range(THREADS // 2, THREADS)]


@pytest.fixture
def racers(local_table: str) -> None:
    for u in DIRECT + MEMBERS:
        assert call("PUT", f"/api/v1/users/{u}", {"username": u}, user="root", roles=ADMIN).status == 201
    assert call("PUT", "/api/v1/groups/crew", {"name": "Crew", "members": MEMBERS}, user="root",
                roles=ADMIN).status == 201


@pytest.fixture
def forced_switching() -> Iterator[None]:
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(old)


def race(task_id: str, users: list[str]) -> list[tuple[str, Reply]]:
    def attempt(user: str) -> tuple[str, Reply]:
        return user, claim(task_id, user)

    return concurrently([partial(attempt, u) for u in users])


@pytest.mark.usefixtures("racers")
@pytest.mark.parametrize("round_no", range(ROUNDS))
def test_exactly_one_of_32_concurrent_claims_wins(round_no: int, forced_switching: None) -> None:
    task_id = f"race-{round_no}"
    r = call("POST", "/api/v1/tasks", {"id": task_id, "name": "Race", "candidateUsers": DIRECT,
                                       "candidateGroups": ["crew"]}, user="root", roles=ADMIN)
    assert r.status == 201
    results = race(task_id, DIRECT + MEMBERS)
    assert len(results) == THREADS
    statuses = Counter(r.status for _, r in results)
    assert statuses == {200: 1, 409: THREADS - 1}, statuses
    winner = next(u for u, r in results if r.status == 200)
    for user, r in results:
        if r.status == 409:
            assert r.body["holder"] == winner and winner in r.body["message"], (user, r.body)
    events = history(task_id)
    claims = [e for e in events if e["action"] == "claim"]
    assert len(claims) == 1 and claims[0]["to"] == winner and claims[0]["actor"] == winner
    task = call("GET", f"/api/v1/tasks/{task_id}").body
    assert task["assignee"] == winner and task["version"] == 2
