"""Many workers draining one tenant's queues with claim-next (the test over HTTP and `make bench`).

`Drain.setup` creates the users, groups and tasks (mixed priorities and groups) through the API;
`Drain.run` lets every worker call claim-next until it answers 204, and `Drain.check` says what
went wrong, if anything: a task given twice or never, a 5xx, an empty queue left non-empty, or a
worker's claims out of queue order beyond what contention explains."""

from __future__ import annotations

import random
import statistics
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

# (method, path, body, user, roles) -> (status, body)
Call = Callable[[str, str, Any, str, tuple[str, ...]], tuple[int, Any]]
PRIORITIES = (10, 30, 50, 70, 90)


@dataclass
class Drain:
    call: Call
    workers: int = 64
    tasks: int = 2000
    groups: int = 8
    groups_per_worker: int = 2
    seed: int = 15
    prefix: str = "drain"
    created: dict[str, dict[str, Any]] = field(default_factory=dict)
    membership: dict[str, list[str]] = field(default_factory=dict)
    claims: dict[str, list[str]] = field(default_factory=dict)
    statuses: dict[int, int] = field(default_factory=dict)
    latencies_ms: list[float] = field(default_factory=list)
    seconds: float = 0.0

    def users(self) -> list[str]:
        return [f"{self.prefix}-w{i:02d}" for i in range(self.workers)]

    def setup(self, threads: int = 8) -> None:
        admin: tuple[str, ...] = ("admin",)
        names = self.users()
        self.groups = min(self.groups, self.workers)  # every group has a member
        group_ids = [f"{self.prefix}-g{g}" for g in range(self.groups)]
        with ThreadPoolExecutor(threads) as pool:
            statuses = set(pool.map(lambda u: self.call("PUT", f"/api/v1/users/{u}", {"username": u}, "root",
                                                          admin)[0], names))
            assert statuses <= {200, 201}, statuses
        members: dict[str, list[str]] = {g: [] for g in group_ids}
        for i, u in enumerate(names):
            mine = [group_ids[(i + k) % self.groups] for k in range(self.groups_per_worker)]
            self.membership[u] = mine
            for g in mine:
                members[g].append(u)
        for g, who in members.items():
            status, body = self.call("PUT", f"/api/v1/groups/{g}", {"name": g, "members": who}, "root", admin)
            assert status in (200, 201), body
        rnd = random.Random(self.seed)
        bodies = [{"id": f"{self.prefix}-t{n:05d}", "name": f"Work {n}", "priority": rnd.choice(PRIORITIES),
                   "candidateGroups": [rnd.choice(group_ids)]} for n in range(self.tasks)]

        def create(body: dict[str, Any]) -> dict[str, Any]:
            status, out = self.call("POST", "/api/v1/tasks", body, "root", admin)
            assert status == 201, out
            return dict(out)

        with ThreadPoolExecutor(threads) as pool:
            for task in pool.map(create, bodies):
                self.created[task["id"]] = task

    def run(self) -> None:
        lock = threading.Lock()
        start = threading.Barrier(self.workers)

        def worker(user: str) -> None:
            mine: list[str] = []
            start.wait()
            while True:
                t = time.perf_counter()
                status, body = self.call("POST", "/api/v1/tasks/claim-next", None, user, ("operations",))
                ms = (time.perf_counter() - t) * 1000
                with lock:
                    self.statuses[status] = self.statuses.get(status, 0) + 1
                    self.latencies_ms.append(ms)
                if status == 200:
                    mine.append(body["id"])
                elif status == 204 or status >= 500:
                    break
            self.claims[user] = mine

        threads = [threading.Thread(target=worker, args=(u,)) for u in self.users()]
        t0 = time.perf_counter()
        for th in threads:
            th.start()
        for th in threads:
            th.join(600)
        self.seconds = time.perf_counter() - t0

    def order_key(self, task_id: str) -> tuple[int, str, str]:
        t = self.created[task_id]
        return (-t["priority"], t["createdAt"], t["id"])

    def inversions(self) -> list[int]:
        """For each claim, how many of the same worker's later claims come before it in queue
        order (tasks still free when it claimed, which it passed over)."""
        out = []
        for ids in self.claims.values():
            keys = [self.order_key(i) for i in ids]
            out += [sum(1 for later in keys[n + 1:] if later < k) for n, k in enumerate(keys)]
        return out

    def problems(self, window: int) -> list[str]:
        found: list[str] = []
        given = [t for ids in self.claims.values() for t in ids]
        if len(given) != len(set(given)):
            found.append(f"{len(given) - len(set(given))} tasks given twice")
        missing = set(self.created) - set(given)
        if missing:
            found.append(f"{len(missing)} tasks never claimed")
        if any(s >= 500 for s in self.statuses):
            found.append(f"5xx answers: {self.statuses}")
        if set(self.statuses) - {200, 204}:
            found.append(f"unexpected statuses: {self.statuses}")
        for user, ids in self.claims.items():
            mine = set(self.membership[user])
            foreign = [i for i in ids if not mine & set(self.created[i]["candidateGroups"])]
            if foreign:
                found.append(f"{user} got tasks outside its groups: {foreign[:3]}")
        worst = max(self.inversions(), default=0)
        if worst >= window:
            found.append(f"a claim passed over {worst} earlier free tasks (window {window})")
        return found

    def summary(self) -> dict[str, Any]:
        lat = sorted(self.latencies_ms)
        given = [t for ids in self.claims.values() for t in ids]
        inv = self.inversions()
        return {"workers": self.workers, "tasks": self.tasks, "claimed": len(set(given)),
                "given_twice": len(given) - len(set(given)), "seconds": round(self.seconds, 2),
                "claims_per_s": round(len(given) / self.seconds, 1) if self.seconds else 0.0,
                "p50_ms": round(statistics.median(lat), 1) if lat else 0.0,
                "p99_ms": round(lat[min(len(lat) - 1, int(0.99 * len(lat)))], 1) if lat else 0.0,
                "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
                "max_passed_over": max(inv, default=0),
                "mean_passed_over": round(statistics.mean(inv), 2) if inv else 0.0}
