"""`make bench`, the router (API.md "People: presence, capacity, skills and routing"):

- `routing_served`: under `baton serve` (its stream reader drives baton.tasks.routing, the code the
  stream-fed router function runs in AWS), `tasks` tasks created one after another in a
  round-robin group of 5 equal members: how many each member got (20 ± 1 of 100), and how long
  after its creation each was assigned (the history's own timestamps): p50, p95, max.
- `routing_spread`: a least-loaded group of 5 equal members; `tasks` tasks arrive one at a time
  and the router (on the section's DynamoDB Local) routes each; after every one the members' loads
  are read back: the largest spread (max - min) seen at any moment.
- `routing_race`: `routers` router workers (threads, each its own Router) route every task of a
  least-loaded group while its `users` members (capacity 3 each) drain the same queue with
  claim-next (the functions in worker processes: concurrent requests), all released together.
  Then from each task's history: tasks given twice (a second holder with no release between,
  none expected: nobody releases), users holding more than their capacity, and loads that differ
  from the open tasks their users hold.
"""

from __future__ import annotations

import random
import tempfile
import time
import uuid
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

MEMBERS = 5
CAPACITY = 3
GIVES = ("claim", "assign")


def _at(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def _pct(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def measure_served(tasks: int, endpoint: str | None = None) -> dict[str, Any]:
    """`baton serve` (its own DynamoDB Local, or a fresh table at `endpoint`), a round-robin group."""
    from baton_local import tokens
    from baton_local.harness import Server, request

    state = Path(tempfile.mkdtemp(prefix="baton-bench-"))
    engine = ("--dynamodb-endpoint", endpoint, "--table", f"route-{uuid.uuid4().hex[:8]}") if endpoint else ()
    server = Server(state, *engine).start()
    try:
        admin = tokens.issue(tokens.load_key(state), user="admin", tenant="workflow", roles=["admin"], ttl=3600)

        def ok(method: str, path: str, body: Any = None) -> Any:
            status, out = request(server.base, method, path, admin, body)
            assert status in (200, 201), (method, path, status, out)
            return out

        members = [f"rr{i}" for i in range(MEMBERS)]
        for u in members:
            ok("PUT", f"/api/v1/users/{u}", {"username": u})
        ok("PUT", "/api/v1/groups/desk", {"name": "Desk", "members": members, "routing": {"strategy": "round-robin"}})
        ids = [f"rt-{n}-{uuid.uuid4().hex[:6]}" for n in range(tasks)]
        for task in ids:
            ok("POST", "/api/v1/tasks", {"id": task, "name": "Routed", "candidateGroups": ["desk"]})
        deadline = time.monotonic() + 60 + tasks * 0.1
        holders: dict[str, str | None] = dict.fromkeys(ids)
        while time.monotonic() < deadline and not all(holders.values()):
            for task in [t for t, h in holders.items() if not h]:
                holders[task] = ok("GET", f"/api/v1/tasks/{task}")["assignee"]
            if not all(holders.values()):
                time.sleep(0.5)
        latencies: list[float] = []
        for task in ids:
            events = ok("GET", f"/api/v1/tasks/{task}/history")["items"]
            created = next(e for e in events if e["action"] == "create")
            routed = next((e for e in events if e["action"] == "assign" and e["actor"] == "baton-router"), None)
            if routed is not None:
                latencies.append(_at(routed["at"]) - _at(created["at"]))
        latencies.sort()
        counts = sorted(list(holders.values()).count(u) for u in members)
        return {"tasks": tasks, "members": MEMBERS, "strategy": "round-robin", "counts": counts,
                "unrouted": sum(h is None for h in holders.values()),
                "p50_s": round(_pct(latencies, 50), 3), "p95_s": round(_pct(latencies, 95), 3),
                "max_s": round(latencies[-1] if latencies else 0.0, 3)}
    finally:
        server.stop()


def _loads(tenant: str, prefix: str) -> dict[str, int]:
    from baton_local.harness import call

    r = call("GET", "/api/v1/users", query={"filter": prefix, "limit": "100"}, tenant=tenant)
    assert r.status == 200, r
    return {u["id"]: int(u["load"]) for u in r.body["items"] if u["id"].startswith(prefix)}


def _admin(tenant: str, method: str, path: str, body: Any = None) -> Any:
    from baton_local.harness import ADMIN, call

    r = call(method, path, body, user="root", roles=ADMIN, tenant=tenant)
    assert r.status in (200, 201), (method, path, r)
    return r.body


def measure_spread(tasks: int) -> dict[str, Any]:
    """Least-loaded over 5 equal members through the real router, loads read after each task."""
    from baton.storage.dynamo import get_dynamo
    from baton.tasks.routing import Router

    tenant = f"ll-{uuid.uuid4().hex[:6]}"
    members = [f"ll{i}" for i in range(MEMBERS)]
    for u in members:
        _admin(tenant, "PUT", f"/api/v1/users/{u}", {"username": u})
    _admin(tenant, "PUT", "/api/v1/groups/ll", {"name": "LL", "members": members,
                                                "routing": {"strategy": "least-loaded"}})
    router = Router(get_dynamo())
    worst, routed = 0, 0
    for n in range(tasks):
        _admin(tenant, "POST", "/api/v1/tasks", {"id": f"ll-{n}", "name": "Spread", "candidateGroups": ["ll"]})
        routed += router.route_task(tenant, f"ll-{n}")
        loads = _loads(tenant, "ll")
        worst = max(worst, max(loads.values()) - min(loads.values()))
    final = _loads(tenant, "ll")
    return {"tasks": tasks, "members": MEMBERS, "strategy": "least-loaded", "routed": routed,
            "max_spread": worst, "final_loads": sorted(final.values())}


def measure_race(routers: int, users: int, tasks: int) -> dict[str, Any]:
    """Router workers and claim-next callers racing for one least-loaded group's tasks."""
    from baton.storage.dynamo import get_dynamo
    from baton.tasks.routing import Router
    from baton_local.harness import call, concurrently, in_processes

    tenant = f"rr-{uuid.uuid4().hex[:6]}"
    people = [f"u{i:02d}" for i in range(users)]
    for u in people:
        _admin(tenant, "PUT", f"/api/v1/users/{u}", {"username": u, "capacity": CAPACITY})
    _admin(tenant, "PUT", "/api/v1/groups/race", {"name": "Race", "members": people,
                                                  "routing": {"strategy": "least-loaded"}})
    ids = [f"race-{n}" for n in range(tasks)]
    for task in ids:
        _admin(tenant, "POST", "/api/v1/tasks", {"id": task, "name": "Race", "candidateGroups": ["race"]})

    def route(seed: int) -> tuple[str, int]:
        order = list(ids)
        random.Random(seed).shuffle(order)
        router = Router(get_dynamo())
        return "router", sum(router.route_task(tenant, t) for t in order)

    def drain(user: str) -> tuple[str, int]:
        won = 0
        while True:
            r = call("POST", "/api/v1/tasks/claim-next", user=user, tenant=tenant)
            if r.status == 200:
                won += 1
            elif r.status == 204 or (r.status == 409 and r.body.get("code") == "capacity"):
                return "claim", won
            elif r.status >= 500:
                raise RuntimeError(f"claim-next answered {r}")

    started = time.monotonic()
    with in_processes():
        done = concurrently([*(partial(route, i) for i in range(routers)), *(partial(drain, u) for u in people)],
                            timeout=900)
    seconds = time.monotonic() - started
    given_twice, holders = 0, {}
    for task in ids:
        events = call("GET", f"/api/v1/tasks/{task}/history", query={"limit": "100"}, tenant=tenant).body["items"]
        gave = [e for e in events if e["action"] in GIVES and e["to"]]
        given_twice += len(gave) > 1
        holders[task] = call("GET", f"/api/v1/tasks/{task}", tenant=tenant).body["assignee"]
    held = {u: list(holders.values()).count(u) for u in people}
    loads = _loads(tenant, "u")
    return {"routers": routers, "users": users, "capacity": CAPACITY, "tasks": tasks,
            "given": sum(h is not None for h in holders.values()),
            "by_router": sum(n for kind, n in done if kind == "router"),
            "by_claim_next": sum(n for kind, n in done if kind == "claim"),
            "given_twice": given_twice, "capacity_breaches": sum(n > CAPACITY for n in held.values()),
            "loads_off": sum(loads.get(u, 0) != held[u] for u in people), "seconds": round(seconds, 1)}


def goals(r: dict[str, Any]) -> dict[str, bool]:
    served, spread, race = r["routing_served"], r["routing_spread"], r["routing_race"]
    share = served["tasks"] / served["members"]
    return {
        "routing: round-robin gives each of 5 members tasks/5 +- 1 (under baton serve)":
            served["unrouted"] == 0 and all(share - 1 <= n <= share + 1 for n in served["counts"]),
        "routing: least-loaded spread <= 1 at every moment": spread["max_spread"] <= 1,
        "routing: p95 create -> assigned <= 2 s under baton serve": served["p95_s"] <= 2,
        "routing: 8 routers racing 32 claimers: 0 given twice, 0 capacity breaches, loads exact":
            race["given_twice"] == 0 and race["capacity_breaches"] == 0 and race["loads_off"] == 0
            and race["given"] == min(race["tasks"], race["users"] * race["capacity"]),
    }


def rows(r: dict[str, Any]) -> list[str]:
    served, spread, race = r["routing_served"], r["routing_spread"], r["routing_race"]
    return [
        f"| `routing_served`: round-robin, {served['members']} members × {served['tasks']} tasks under `baton serve`: "
        f"tasks each; create → assigned p50 / p95 / max | {served['counts']}; {served['p50_s']} / "
        f"**{served['p95_s']}** / {served['max_s']} s | {served['tasks'] // served['members']} ± 1; p95 ≤ 2 s |",
        f"| `routing_spread`: least-loaded, {spread['members']} members × {spread['tasks']} tasks through the "
        f"router: largest spread at any moment | **{spread['max_spread']}** | ≤ 1 |",
        f"| `routing_race`: {race['routers']} router workers and {race['users']} claim-next users (capacity "
        f"{race['capacity']}) on {race['tasks']} tasks: given (router / claim-next), given twice, capacity "
        f"breaches, loads off | {race['given']} ({race['by_router']} / {race['by_claim_next']}), "
        f"**{race['given_twice']}**, **{race['capacity_breaches']}**, {race['loads_off']} | 0, 0, 0 |",
    ]
