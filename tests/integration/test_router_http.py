"""The router under `baton serve` (its stream reader feeds baton_local.router): tasks created in a
round-robin group are given to its members in turn, soon after creation (the median within 2 s,
from the history's own timestamps), with each member's load counting them (API.md "People")."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from baton_local.ddblocal import DynamoDBLocal
from tests.support.localserver import Server, on_engine, request, token

MEMBERS = [f"rr{i}" for i in range(5)]
TASKS = 20


def _at(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def test_tasks_of_a_round_robin_group_are_routed_in_turn_within_2_seconds(tmp_path: Path,
                                                                           ddb_local: DynamoDBLocal) -> None:
    server = Server(tmp_path, *on_engine(ddb_local)).start()
    try:
        admin = token(tmp_path, "admin", "admin")
        base = server.base

        def call(method: str, path: str, body: Any = None) -> Any:
            status, out = request(base, method, path, admin, body)
            assert status in (200, 201), (path, status, out)
            return out

        for u in MEMBERS:
            call("PUT", f"/api/v1/users/{u}", {"username": u})
        call("PUT", "/api/v1/groups/desk", {"name": "Desk", "members": MEMBERS, "routing": {"strategy": "round-robin"}})
        for i in range(TASKS):
            call("POST", "/api/v1/tasks", {"id": f"rt-{i}", "name": "Routed", "candidateGroups": ["desk"]})
        deadline = time.monotonic() + 30
        held: dict[str, str | None] = {}
        while time.monotonic() < deadline:
            held = {f"rt-{i}": call("GET", f"/api/v1/tasks/rt-{i}")["assignee"] for i in range(TASKS)}
            if all(held.values()):
                break
            time.sleep(0.2)
        assert all(held.values()), held
        counts = {u: list(held.values()).count(u) for u in MEMBERS}
        assert set(counts.values()) == {TASKS // len(MEMBERS)}, counts
        latencies = []
        for i in range(TASKS):
            events = call("GET", f"/api/v1/tasks/rt-{i}/history")["items"]
            created = next(e for e in events if e["action"] == "create")
            routed = next(e for e in events if e["action"] == "assign")
            assert routed["actor"] == "baton-router" and routed["comment"] == "routing:round-robin"
            latencies.append(_at(routed["at"]) - _at(created["at"]))
        latencies.sort()
        # The goal, p95 <= 2 s, is for an idle machine (make bench); the suite shares two
        # cores with everything else, so it holds the median to it and every task to 15 s.
        assert latencies[TASKS // 2] <= 2.0 and latencies[-1] <= 15.0, latencies
        users = {u["id"]: u for u in call("GET", "/api/v1/users?filter=rr")["items"]}
        assert all(users[u]["load"] == counts[u] for u in MEMBERS)
    finally:
        server.stop()


def test_a_passed_lease_and_an_ended_absence_wake_the_router(tmp_path: Path, ddb_local: DynamoDBLocal) -> None:
    """Nothing writes when a lease passes or an absence reaches its `until`: their timers do (the
    sweeper thread takes the lease over, ends the absence), and the router hears that on the stream."""
    server = Server(tmp_path, *on_engine(ddb_local)).start()
    try:
        admin = token(tmp_path, "admin", "admin")

        def call(method: str, path: str, body: Any = None, who: str = admin) -> Any:
            status, out = request(server.base, method, path, who, body)
            assert status in (200, 201), (path, status, out)
            return out

        for u in ("la", "ab"):
            call("PUT", f"/api/v1/users/{u}", {"username": u})
        for gid, member in (("lq", "la"), ("aq", "ab")):
            call("PUT", f"/api/v1/groups/{gid}", {"name": gid, "members": [member],
                                                  "routing": {"strategy": "round-robin"}})
        la = token(tmp_path, "la", "operations")
        call("PUT", "/api/v1/users/la/presence", {"status": "away"}, la)
        call("POST", "/api/v1/tasks", {"id": "lease-t", "name": "Leased", "candidateGroups": ["lq"]})
        call("POST", "/api/v1/tasks/lease-t/action/claim", {"leaseSeconds": 2}, la)
        call("PUT", "/api/v1/users/la/presence", {"status": "available"}, la)  # the task is held: nothing to route
        now = datetime.now(UTC)
        call("PUT", "/api/v1/users/ab/absence", {"from": (now - timedelta(minutes=1)).isoformat(),
                                                 "until": (now + timedelta(seconds=3)).isoformat()})
        call("POST", "/api/v1/tasks", {"id": "absent-t", "name": "Waits", "candidateGroups": ["aq"]})
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            routed = {t: [e["action"] for e in call("GET", f"/api/v1/tasks/{t}/history")["items"]]
                      for t in ("lease-t", "absent-t")}
            if routed == {"lease-t": ["create", "claim", "lease-expired", "assign"], "absent-t": ["create", "assign"]}:
                break
            time.sleep(0.3)
        assert routed == {"lease-t": ["create", "claim", "lease-expired", "assign"],
                          "absent-t": ["create", "assign"]}, routed
        assert call("GET", "/api/v1/tasks/lease-t")["assignee"] == "la"
        assert call("GET", "/api/v1/tasks/absent-t")["assignee"] == "ab"
        assert call("GET", "/api/v1/users?filter=ab")["items"][0]["absence"] is None
    finally:
        server.stop()
