"""The router under `baton serve` (its stream reader feeds baton_local.router): tasks created in a
round-robin group are given to its members in turn, soon after creation (the median within 2 s,
from the history's own timestamps), with each member's load counting them (API.md "People")."""

from __future__ import annotations

import time
from datetime import datetime
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
