"""`make bench`'s people section (API.md "People"): the routing strategies' fairness, capacity
under a race, loads kept exact by a random mix of operations, and the team view's cost against
history. The functions run in worker processes (concurrent requests) on the section's DynamoDB
Local, through the same handlers as everywhere (baton_local.harness)."""

from __future__ import annotations

import random
import uuid
from collections import Counter
from functools import partial
from typing import Any

from baton.directory.domain import User
from baton.directory.routing import pick, spread
from baton_local.harness import ADMIN, call, concurrently, in_processes

USERS = 20
CAPACITY_CLAIMS = 64


def fairness() -> dict[str, Any]:
    """Round-robin over 5 equal members and 100 tasks; least-loaded's largest spread while 100
    tasks arrive (pure: the pickers as the router runs them)."""
    members = [User(id=f"m{i}", username=f"m{i}") for i in range(5)]
    got: Counter[str] = Counter()
    last = None
    for _ in range(100):
        chosen = pick("round-robin", members, last=last)
        assert chosen is not None
        got[chosen.id] += 1
        last = chosen.id
    loads = [User(id=f"m{i}", username=f"m{i}") for i in range(5)]
    worst = 0
    for i in range(100):
        chosen = pick("least-loaded", loads)
        assert chosen is not None
        loads = [m.model_copy(update={"load": m.load + 1, "lastAssignedAt": f"{i:06d}"}) if m.id == chosen.id else m
                 for m in loads]
        worst = max(worst, spread(loads))
    return {"round_robin_counts": sorted(got.values()), "least_loaded_max_spread": worst}


def _loads(tenant: str) -> dict[str, int]:
    out: dict[str, int] = {}
    cursor = None
    while True:
        query = {"limit": "100", **({"cursor": cursor} if cursor else {})}
        r = call("GET", "/api/v1/users", query=query, tenant=tenant)
        out.update({u["id"]: u["load"] for u in r.body["items"]})
        cursor = r.body["cursor"]
        if not cursor:
            return out


def _held(tenant: str, uid: str) -> int:
    n, cursor = 0, None
    while True:
        r = call("GET", "/api/v1/tasks", query={"assignee": uid, "status": "open", "limit": "100",
                                                  **({"cursor": cursor} if cursor else {})}, tenant=tenant)
        n += len(r.body["items"])
        cursor = r.body["cursor"]
        if not cursor:
            return n


def capacity_race(tenant: str) -> dict[str, Any]:
    call("PUT", "/api/v1/users/cap", {"username": "cap", "capacity": 3}, user="root", roles=ADMIN, tenant=tenant)
    ids = [f"cap-{i}" for i in range(CAPACITY_CLAIMS)]
    for t in ids:
        call("POST", "/api/v1/tasks", {"id": t, "name": t, "candidateUsers": ["cap"]}, user="root", roles=ADMIN,
             tenant=tenant)
    results = concurrently([partial(call, "POST", f"/api/v1/tasks/{t}/action/claim", user="cap", tenant=tenant)
                            for t in ids])
    return {"claims": CAPACITY_CLAIMS, "capacity": 3, "won": sum(r.status == 200 for r in results),
            "load": _loads(tenant)["cap"]}


def mix(tenant: str, ops: int) -> dict[str, Any]:
    """`ops` random operations by 20 users (half with a capacity), 32 at a time; then every load
    compared with the open tasks its user holds."""
    rng = random.Random(25)
    users = [f"p{i:02d}" for i in range(USERS)]
    caps = {u: 2 + i % 4 for i, u in enumerate(users) if i % 2}
    for u in users:
        call("PUT", f"/api/v1/users/{u}", {"username": u, **({"capacity": caps[u]} if u in caps else {})},
             user="root", roles=ADMIN, tenant=tenant)
    call("PUT", "/api/v1/groups/mix", {"name": "Mix", "members": users}, user="root", roles=ADMIN, tenant=tenant)
    task_ids = [f"mix-{i}" for i in range(max(40, ops // 5))]
    for i, t in enumerate(task_ids):
        call("POST", "/api/v1/tasks", {"id": t, "name": t, **({"candidateGroups": ["mix"]} if i % 3 else
                                                               {"candidateUsers": rng.sample(users, 3)})},
             user="root", roles=ADMIN, tenant=tenant)

    def one(kind: str, user: str, task: str, other: str, some: list[str]) -> int:
        path, body, who, roles = {
            "claim": (f"/api/v1/tasks/{task}/action/claim", None, user, None),
            "claim-next": ("/api/v1/tasks/claim-next", None, user, None),
            "release": (f"/api/v1/tasks/{task}/action/release", None, user, None),
            "complete": (f"/api/v1/tasks/{task}/action/complete", None, user, None),
            "assign": (f"/operations-manager/tasks/{task}/assign", {"userId": other}, "root", ADMIN),
            "reassign": (f"/api/v1/tasks/{task}/action/reassign", {"newStepUserIds": [other]}, user, None),
            "bulk-claim": ("/api/v1/task-actions/claim", {"taskIds": some}, user, None),
            "bulk-release": ("/api/v1/task-actions/release", {"taskIds": some, "atomic": True}, user, None),
        }[kind]
        kw: dict[str, Any] = {"roles": roles} if roles else {}
        return call("POST", path, body, user=who, tenant=tenant, **kw).status

    kinds = ["claim"] * 6 + ["claim-next"] * 2 + ["release"] * 4 + ["complete"] + ["assign"] * 2 + \
        ["reassign"] * 2 + ["bulk-claim", "bulk-release"]
    actions = [partial(one, rng.choice(kinds), rng.choice(users), rng.choice(task_ids), rng.choice(users),
                       rng.sample(task_ids, 4)) for _ in range(ops)]
    statuses: Counter[int] = Counter()
    for start in range(0, ops, 32):
        statuses.update(concurrently(actions[start:start + 32]))
    loads = _loads(tenant)
    truth = {u: _held(tenant, u) for u in users}
    return {"ops": ops, "users": USERS, "ok": statuses[200], "errors_5xx": sum(v for k, v in statuses.items()
                                                                               if k >= 500),
            "loads_off": sum(loads[u] != truth[u] for u in users),
            "capacity_breaches": sum(truth[u] > c for u, c in caps.items())}


def team_view_cost(tenant: str, counter: Any, history: int) -> dict[str, Any]:
    """The team view's DynamoDB calls and capacity on a 10-task queue, before and after `history`
    changes on the group's other (finished) tasks."""
    call("PUT", "/api/v1/users/tv", {"username": "tv"}, user="root", roles=ADMIN, tenant=tenant)
    call("PUT", "/api/v1/groups/tv", {"name": "TV", "members": ["tv"]}, user="root", roles=ADMIN, tenant=tenant)
    for i in range(10):
        call("POST", "/api/v1/tasks", {"id": f"tv-{i}", "name": "q", "candidateGroups": ["tv"]}, user="root",
             roles=ADMIN, tenant=tenant)

    def measured() -> dict[str, Any]:
        counter.reset()
        assert call("GET", "/api/v1/groups/tv/stats", tenant=tenant).status == 200
        snap = counter.snapshot()
        return {"round_trips": snap["round_trips"], "capacity": snap["consumed_capacity"]}

    empty = measured()
    call("POST", "/api/v1/tasks", {"id": "tv-busy", "name": "busy", "candidateGroups": ["tv"]}, user="root",
         roles=ADMIN, tenant=tenant)
    for _ in range(history // 2):
        call("POST", "/api/v1/tasks/tv-busy/action/claim", user="tv", tenant=tenant)
        call("POST", "/api/v1/tasks/tv-busy/action/release", user="tv", tenant=tenant)
    call("POST", "/api/v1/tasks/tv-busy/action/claim", user="tv", tenant=tenant)
    call("POST", "/api/v1/tasks/tv-busy/action/complete", user="tv", tenant=tenant)
    after = measured()
    return {"history": history, "empty": empty, "after": after}


def measure_people(ops: int, history: int, counter: Any) -> dict[str, Any]:
    tenant = f"pp-{uuid.uuid4().hex[:6]}"
    out: dict[str, Any] = {"fairness": fairness(), "team_view": team_view_cost(tenant, counter, history)}
    with in_processes():
        out["capacity_race"] = capacity_race(tenant)
        out["mix"] = mix(tenant, ops)
    return out
