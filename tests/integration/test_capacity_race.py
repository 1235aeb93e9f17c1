"""Capacity under races, on DynamoDB Local with the functions in worker processes (concurrent
requests): the load moves in each change's own transaction, so no race breaches a capacity and
every load stays exactly the number of open tasks its user holds (API.md "People").

The random mix makes BATON_PEOPLE_OPS operations (default 400 here; `make bench` makes the
issue's 2,000: benchmarks/people.py)."""

from __future__ import annotations

import os
import random
from collections import Counter
from functools import partial
from typing import Any

import pytest

from tests.support import ADMIN, Reply, call, concurrently

pytestmark = pytest.mark.usefixtures("functions_in_processes")

CLAIMS = 64
USERS = [f"p{i:02d}" for i in range(20)]


def put_user(uid: str, **fields: Any) -> None:
    r = call("PUT", f"/api/v1/users/{uid}", {"username": uid, **fields}, user="root", roles=ADMIN)
    assert r.status in (200, 201), r


def create(task_id: str, **fields: Any) -> None:
    r = call("POST", "/api/v1/tasks", {"id": task_id, "name": task_id, **fields}, user="root", roles=ADMIN)
    assert r.status == 201, r


def loads() -> dict[str, int]:
    out: dict[str, int] = {}
    cursor = None
    while True:
        r = call("GET", "/api/v1/users", query={"limit": "100", **({"cursor": cursor} if cursor else {})})
        out.update({u["id"]: u["load"] for u in r.body["items"]})
        cursor = r.body["cursor"]
        if not cursor:
            return out


def held(uid: str) -> int:
    """The open tasks `uid` holds, counted from its listing (the truth the load must equal)."""
    n, cursor = 0, None
    while True:
        r = call("GET", "/api/v1/tasks", query={"assignee": uid, "status": "open", "limit": "100",
                                                  **({"cursor": cursor} if cursor else {})})
        assert r.status == 200, r
        n += len(r.body["items"])
        cursor = r.body["cursor"]
        if not cursor:
            return n


def test_64_concurrent_claims_by_a_user_of_capacity_3_win_exactly_3() -> None:
    put_user("cap", capacity=3)
    ids = [f"cap-{i}" for i in range(CLAIMS)]
    for t in ids:
        create(t, candidateUsers=["cap"])
    results = concurrently([partial(call, "POST", f"/api/v1/tasks/{t}/action/claim", user="cap") for t in ids])
    statuses = Counter(r.status for r in results)
    assert statuses == {200: 3, 409: CLAIMS - 3}, statuses
    assert all(r.body["code"] == "capacity" for r in results if r.status == 409)
    assert loads()["cap"] == 3 and held("cap") == 3


def test_a_random_mix_of_operations_by_20_users_keeps_every_load_exact() -> None:
    ops = int(os.environ.get("BATON_PEOPLE_OPS", "400"))
    rng = random.Random(25)
    for i, u in enumerate(USERS):
        put_user(u, **({"capacity": 2 + i % 4} if i % 2 else {}))
    assert call("PUT", "/api/v1/groups/mix", {"name": "Mix", "members": USERS}, user="root",
                roles=ADMIN).status == 201
    n_tasks = max(40, ops // 5)
    task_ids = [f"mix-{i}" for i in range(n_tasks)]
    for i, t in enumerate(task_ids):
        create(t, **({"candidateGroups": ["mix"]} if i % 3 else {"candidateUsers": rng.sample(USERS, 3)}))

    def one(kind: str, user: str, task: str, other: str, tasks: list[str]) -> Reply:
        if kind == "claim":
            return call("POST", f"/api/v1/tasks/{task}/action/claim", user=user)
        if kind == "claim-next":
            return call("POST", "/api/v1/tasks/claim-next", user=user)
        if kind == "release":
            return call("POST", f"/api/v1/tasks/{task}/action/release", user=user)
        if kind == "complete":
            return call("POST", f"/api/v1/tasks/{task}/action/complete", user=user)
        if kind == "assign":
            return call("POST", f"/operations-manager/tasks/{task}/assign", {"userId": other}, user="root",
                        roles=ADMIN)
        if kind == "reassign":
            return call("POST", f"/api/v1/tasks/{task}/action/reassign", {"newStepUserIds": [other]}, user=user)
        if kind == "bulk-claim":
            return call("POST", "/api/v1/task-actions/claim", {"taskIds": tasks}, user=user)
        return call("POST", "/api/v1/task-actions/release", {"taskIds": tasks, "atomic": True}, user=user)

    kinds = ["claim"] * 6 + ["claim-next"] * 2 + ["release"] * 4 + ["complete"] + ["assign"] * 2 + \
        ["reassign"] * 2 + ["bulk-claim", "bulk-release"]
    actions = [partial(one, rng.choice(kinds), rng.choice(USERS), rng.choice(task_ids), rng.choice(USERS),
                       rng.sample(task_ids, 4)) for _ in range(ops)]
    statuses: Counter[int] = Counter()
    for start in range(0, ops, 32):  # 32 racing at a time
        statuses.update(r.status for r in concurrently(actions[start:start + 32]))
    assert statuses[500] == 0 and statuses[200] > ops // 10, statuses
    now = loads()
    truth = {u: held(u) for u in USERS}
    assert {u: now[u] for u in USERS} == truth
    caps = {u: 2 + i % 4 for i, u in enumerate(USERS) if i % 2}
    assert all(truth[u] <= c for u, c in caps.items()), (truth, caps)
