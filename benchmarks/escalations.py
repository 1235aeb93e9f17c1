"""`make bench`, escalation ladders (docs/decisions.md, "Time: escalation ladders"):

- `escalation_sweep`: one sweep firing 10 due steps among `pending` tasks whose steps are not due
  yet, against one firing 10 due among 10 (no other timers): time, DynamoDB calls, read capacity.
  The pending timers sit in the same hour buckets and shards as the due ones (due later in the
  current hour and the next), the worst case for a sweep that must read only what is due.
- `escalation_lateness`: under `baton serve` (its sweeper thread), how long after its `dueAt` each
  step fired (`firedAt - dueAt`): p50, p99, max.
"""

from __future__ import annotations

import statistics
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

DUE = 10
TENANT = "bench"


def _stamp(at: datetime) -> str:
    return at.isoformat(timespec="microseconds").replace("+00:00", "Z")


def _task(task_id: str, created: datetime, after_minutes: int) -> Any:
    from baton.tasks import escalations as ladder
    from baton.tasks.domain import Task

    stamp = _stamp(created)
    steps = ladder.parse_ladder([{"id": "late", "after": f"PT{after_minutes}M", "action": "raise-priority",
                                  "priority": 90}])
    task = Task.model_validate({"id": task_id, "name": task_id, "candidateGroups": ["ops"], "createdAt": stamp,
                                "updatedAt": stamp, "escalations": steps})
    return task.model_copy(update={"escalations": ladder.arm(None, task, stamp, False)})


def _fill(client: Any, table: str, items: list[dict[str, Any]], threads: int = 8) -> None:
    def put(chunk: list[dict[str, Any]]) -> None:
        batch = {table: [{"PutRequest": {"Item": i}} for i in chunk]}
        while batch:
            batch = client.batch_write_item(RequestItems=batch).get("UnprocessedItems") or {}
    chunks = [items[i:i + 25] for i in range(0, len(items), 25)]
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(put, chunks))


def _one_sweep(counter: Any, pending: int, client: Any, table_name: str) -> dict[str, Any]:
    """On table `table_name` (created if new): `pending` more tasks whose step falls due later, one
    sweep to settle, then DUE tasks whose step is due now and one sweep, timed and counted."""
    from baton import clock
    from baton.storage.dynamo import Dynamo
    from baton.table import ensure_table
    from baton.tasks.layout import task_item
    from baton.tasks.sweeper import Sweeper

    ensure_table(client, table_name)
    now = clock.current()
    run = uuid.uuid4().hex[:6]
    # due 1 to 59 minutes from now: the current hour's buckets and the next's, every shard
    _fill(client, table_name, [task_item(TENANT, _task(f"pending-{run}-{n}", now - timedelta(minutes=1),
                                                       2 + n % 59)) for n in range(pending)])
    sweeper = Sweeper(Dynamo(client, table_name))
    sweeper.sweep()  # nothing due: the table's first sweep also sets its checkpoint
    _fill(client, table_name, [task_item(TENANT, _task(f"due-{run}-{n}", now - timedelta(minutes=1, seconds=1), 1))
                               for n in range(DUE)])
    counter.reset()
    started = time.perf_counter()
    report = sweeper.sweep()
    ms = (time.perf_counter() - started) * 1000
    snap = counter.snapshot()
    return {"pending": pending, "due": report.due, "fired": report.fired, "ms": round(ms, 1),
            "queries": snap["calls"].get("Query", 0), "round_trips": snap["round_trips"],
            "capacity": snap["consumed_capacity"]}


def measure_sweep(counter: Any, client: Any, pending: int, repeat: int = 3) -> dict[str, Any]:
    """10 due among `pending` against 10 due among 10 (each on its own table), the median of
    `repeat` sweeps of each."""
    from baton import clock

    clock.reset()
    clock.freeze()
    try:
        alone_table, among_table = f"sweep-{uuid.uuid4().hex[:8]}", f"sweep-{uuid.uuid4().hex[:8]}"
        alone = [_one_sweep(counter, 0, client, alone_table) for _ in range(repeat)]
        among = [_one_sweep(counter, pending if n == 0 else 0, client, among_table) for n in range(repeat)]
    finally:
        clock.reset()

    def median(rows: list[dict[str, Any]], total: int) -> dict[str, Any]:
        return {"pending": total, "ms": round(statistics.median(r["ms"] for r in rows), 1),
                "fired": min(r["fired"] for r in rows), "due": max(r["due"] for r in rows),
                "queries": max(r["queries"] for r in rows),
                "capacity": round(statistics.median(r["capacity"] for r in rows), 1)}
    a, b = median(alone, 0), median(among, pending)
    return {"due_among_10": a, f"due_among_{pending}": b, "pending": pending,
            "ms_ratio": round(b["ms"] / max(a["ms"], 0.1), 2),
            "capacity_ratio": round(b["capacity"] / max(a["capacity"], 0.5), 2)}


def measure_lateness(tasks: int, endpoint: str | None = None) -> dict[str, Any]:
    """`baton serve` (on its own DynamoDB Local, or a fresh table at `endpoint`); `tasks` tasks whose
    one step falls due over the next few seconds; how late each fired."""
    from baton_local import tokens
    from baton_local.harness import Server, request

    state = Path(tempfile.mkdtemp(prefix="baton-bench-"))
    engine = ("--dynamodb-endpoint", endpoint, "--table", f"late-{uuid.uuid4().hex[:8]}") if endpoint else ()
    server = Server(state, *engine).start()
    try:
        admin = tokens.issue(tokens.load_key(state), user="admin", tenant="workflow", roles=["admin"], ttl=3600)
        spread = 6.0
        lead = 3.0 + tasks * 0.02  # time to create them all before the first falls due
        start = datetime.now().astimezone() + timedelta(seconds=lead)
        ids = []
        for n in range(tasks):
            due_at = start + timedelta(seconds=spread * n / max(tasks, 1))
            task = f"late-{n}-{uuid.uuid4().hex[:6]}"
            status, _ = request(server.base, "POST", "/api/v1/tasks", admin, {
                "id": task, "name": "Late", "candidateGroups": ["ops"],
                "dueDate": _stamp((due_at - timedelta(minutes=1)).astimezone()),
                "escalations": [{"id": "s", "after": "PT1M", "from": "due", "action": "notify"}]})
            assert status == 201, status
            ids.append(task)
        time.sleep(max(0.0, (start - datetime.now().astimezone()).total_seconds()) + spread + 3)
        late: list[float] = []
        unfired = 0
        for task in ids:
            _, body = request(server.base, "GET", f"/api/v1/tasks/{task}", admin)
            step = body["escalations"][0]
            if not step["firedAt"]:
                unfired += 1
                continue
            late.append((_parse(step["firedAt"]) - _parse(step["dueAt"])).total_seconds())
        late.sort()
        return {"tasks": tasks, "unfired": unfired, "p50_s": round(_pct(late, 50), 3),
                "p99_s": round(_pct(late, 99), 3), "max_s": round(late[-1] if late else 0.0, 3)}
    finally:
        server.stop()


def _parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def _pct(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def goals(r: dict[str, Any]) -> dict[str, bool]:
    sweep, late = r["escalation_sweep"], r["escalation_lateness"]
    return {
        "escalation sweep: 10 due among many within 2x of 10 among 10 (time and capacity)":
            sweep["ms_ratio"] <= 2 and sweep["capacity_ratio"] <= 2,
        "escalation lateness under baton serve: p99 <= 2 s, none missed":
            late["p99_s"] <= 2 and late["unfired"] == 0,
    }


def rows(r: dict[str, Any]) -> list[str]:
    sweep, late = r["escalation_sweep"], r["escalation_lateness"]
    alone, among = sweep["due_among_10"], sweep[f"due_among_{sweep['pending']}"]
    return [
        f"| `escalation_sweep`: one sweep firing 10 due steps among 10 / among {sweep['pending']:,} pending "
        f"(ms, Queries, capacity) | {alone['ms']} ms, {alone['queries']}, {alone['capacity']} / "
        f"{among['ms']} ms, {among['queries']}, {among['capacity']} (ratio **{sweep['ms_ratio']}**, capacity "
        f"{sweep['capacity_ratio']}) | ≤ 2 |",
        f"| `escalation_lateness`: {late['tasks']} steps under `baton serve`, fired after their due time p50 / p99 / "
        f"max | {late['p50_s']} s / **{late['p99_s']} s** / {late['max_s']} s ({late['unfired']} missed) | p99 ≤ 2 s |",
    ]

