"""`make bench`, escalation ladders (docs/decisions.md, "Time: escalation ladders"):

- `escalation_sweep`: one sweep firing 10 due steps among `pending` tasks whose steps are not due
  yet, against one firing 10 due among 10 (no other timers): time, DynamoDB calls, read capacity.
  The pending timers sit in the same hour buckets and shards as the due ones (due later in the
  current hour and the next), the worst case for a sweep that must read only what is due.
- `escalation_lateness`: under `baton serve` (its sweeper thread), how long after its `dueAt` each
  step fired (`firedAt - dueAt`): p50, p99, max.
- `timer_hot_keys`: a busy tenant (benchmarks/hotkeys.py: claims, releases, completions) whose tasks
  all carry a ladder (a step from the creation, one from every claim, re-armed by each), its writes
  read back from the table's stream: the share of the timer index's (gsi6) writes taken by its
  hottest partition key. Every timer falls due within the same hour or two, the worst case for a
  layout partitioned by hour.
"""

from __future__ import annotations

import os
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
    from baton.table import ensure_table

    alone_table, among_table = f"sweep-{uuid.uuid4().hex[:8]}", f"sweep-{uuid.uuid4().hex[:8]}"
    for table in (alone_table, among_table):  # made before the clock stops: a table's first sweep starts at
        ensure_table(client, table)  # its creation's hour, which must not come after the stopped clock's
    clock.reset()
    clock.freeze()
    try:
        alone = [_one_sweep(counter, 0, client, alone_table) for _ in range(repeat)]
        among = [_one_sweep(counter, pending if n == 0 else 0, client, among_table) for n in range(repeat)]
    finally:
        clock.reset()

    def median(rows: list[dict[str, Any]], total: int) -> dict[str, Any]:
        return {"pending": total, "ms": round(statistics.median(r["ms"] for r in rows), 1),
                "fired": min(r["fired"] for r in rows), "due": max(r["due"] for r in rows),
                "queries": max(r["queries"] for r in rows), "round_trips": max(r["round_trips"] for r in rows),
                "capacity": round(statistics.median(r["capacity"] for r in rows), 1)}
    a, b = median(alone, 0), median(among, pending)
    return {"due_among_10": a, f"due_among_{pending}": b, "pending": pending,
            "ms_ratio": round(b["ms"] / max(a["ms"], 0.1), 2),
            "round_trip_ratio": round(b["round_trips"] / max(a["round_trips"], 1), 2),
            "capacity_ratio": round(b["capacity"] / max(a["capacity"], 0.5), 2)}


# A step from the creation and one from every claim (re-armed by each): each claim, release and
# completion moves the task's timer.
HOT_LADDER = [{"id": "waiting", "after": "PT1H", "action": "notify"},
              {"id": "held", "after": "PT30M", "from": "claimed", "action": "release"}]


def measure_timer_hot_keys(tasks: int, changes: int, endpoint: str, groups: int = 50) -> dict[str, Any]:
    """`changes` changes on `tasks` tasks of a busy tenant (in `groups` groups), every task with
    HOT_LADDER: the writes of the timer index by partition key, read back from the table's stream."""
    import boto3

    from baton.storage.dynamo import get_dynamo
    from baton.table import GSI_TIMERS
    from benchmarks.hotkeys import busy_tenant, enable_stream, shares, stream_records, write_counts

    store = get_dynamo()
    arns: list[str] = []
    written = busy_tenant(store, f"tk-{uuid.uuid4().hex[:6]}", tasks=tasks, changes=changes, groups=groups,
                          ready=lambda: arns.append(enable_stream(store)), fields={"escalations": HOT_LADDER})
    streams = boto3.client("dynamodbstreams", endpoint_url=endpoint, region_name="us-east-1")
    timers = shares(write_counts(stream_records(streams, arns[0])))[GSI_TIMERS]
    return {"changes": written, "tasks": tasks, **timers}


def measure_lateness(tasks: int, endpoint: str | None = None, spread: float = 6.0, lead: float = 5.0
                     ) -> dict[str, Any]:
    """`baton serve` (on its own DynamoDB Local, or a fresh table at `endpoint`); `tasks` tasks whose
    one step falls due over `spread` seconds, the first `lead` (+ 0.05 s a task) seconds after the
    start; how late each fired: from its `dueAt`, or from the task's creation when a slow machine
    created it after that (the step could not fire before its timer was written; `created_late`
    counts them). Read once every step fired, or 3 s after the last fell due (a later one is
    `unfired`). The machine's load is recorded beside."""
    from baton_local import tokens
    from baton_local.harness import Server, request

    state = Path(tempfile.mkdtemp(prefix="baton-bench-"))
    engine = ("--dynamodb-endpoint", endpoint, "--table", f"late-{uuid.uuid4().hex[:8]}") if endpoint else ()
    server = Server(state, *engine).start()
    try:
        admin = tokens.issue(tokens.load_key(state), user="admin", tenant="workflow", roles=["admin"], ttl=3600)
        start = datetime.now().astimezone() + timedelta(seconds=lead + tasks * 0.05)
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
        time.sleep(max(0.0, (start - datetime.now().astimezone()).total_seconds()) + spread)  # the last falls due
        deadline = time.monotonic() + 3
        read: dict[str, Any] = {}
        while len(read) < len(ids):  # each task read until its step fired, or the deadline; one unfired one
            for task in [t for t in ids if t not in read]:  # ends a pass, so the server is left to fire it
                _, body = request(server.base, "GET", f"/api/v1/tasks/{task}", admin)
                if not body["escalations"][0]["firedAt"] and time.monotonic() <= deadline:
                    time.sleep(0.25)
                    break
                read[task] = body
        late: list[float] = []
        unfired = created_late = 0
        for task in ids:
            body = read[task]
            step = body["escalations"][0]
            if not step["firedAt"]:
                unfired += 1
                continue
            armed = max(_parse(step["dueAt"]), _parse(body["createdAt"]))
            created_late += _parse(body["createdAt"]) > _parse(step["dueAt"])
            late.append((_parse(step["firedAt"]) - armed).total_seconds())
        late.sort()
        return {"tasks": tasks, "unfired": unfired, "created_late": created_late, "p50_s": round(_pct(late, 50), 3),
                "p99_s": round(_pct(late, 99), 3), "max_s": round(late[-1] if late else 0.0, 3),
                "load_1m": round(os.getloadavg()[0], 1), "cpus": os.cpu_count()}
    finally:
        server.stop()


def _parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def _pct(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def goals(r: dict[str, Any]) -> dict[str, bool]:
    out: dict[str, bool] = {}
    if "escalation_sweep" in r:
        sweep = r["escalation_sweep"]
        out["escalation sweep: 10 due among many within 2x of 10 among 10 (round trips, capacity, time)"] = (
            sweep.get("round_trip_ratio", float("inf")) <= 2 and sweep["capacity_ratio"] <= 2
            and sweep["ms_ratio"] <= 2)
    if "escalation_lateness" in r:
        late = r["escalation_lateness"]
        out["escalation lateness under baton serve: p99 <= 2 s, none missed"] = (
            late["p99_s"] <= 2 and late["unfired"] == 0)
    if "timer_hot_keys" in r:
        out["timer index: no key over 5% of a busy tenant's timer writes"] = r["timer_hot_keys"]["max_share"] <= 0.05
    return out


def rows(r: dict[str, Any]) -> list[str]:
    out: list[str] = []
    if "escalation_sweep" in r:
        sweep = r["escalation_sweep"]
        alone, among = sweep["due_among_10"], sweep[f"due_among_{sweep['pending']}"]
        out.append(
            f"| `escalation_sweep`: one sweep firing 10 due steps among 10 / among {sweep['pending']:,} pending "
            f"(round trips, capacity, ms) | {alone.get('round_trips', '?')} RT, {alone['capacity']}, {alone['ms']} ms"
            f" / {among.get('round_trips', '?')} RT, {among['capacity']}, {among['ms']} ms (ratios "
            f"**{sweep.get('round_trip_ratio', '?')}**, **{sweep['capacity_ratio']}**, **{sweep['ms_ratio']}**) "
            "| ≤ 2 each |")
    if "escalation_lateness" in r:
        late = r["escalation_lateness"]
        out.append(
            f"| `escalation_lateness`: {late['tasks']} steps under `baton serve`, fired after their due time p50 / "
            f"p99 / max | {late['p50_s']} s / **{late['p99_s']} s** / {late['max_s']} s ({late['unfired']} missed; "
            f"load {late.get('load_1m', '?')} on {late.get('cpus', '?')} CPUs) | p99 ≤ 2 s |")
    if "timer_hot_keys" in r:
        hot = r["timer_hot_keys"]
        out.append(
            f"| `timer_hot_keys`: largest share of one timer index (gsi6) key ({hot['changes']:,} changes on "
            f"{hot['tasks']:,} tasks with ladders, {hot['writes']:,} index writes over {hot['keys']} keys) | "
            f"**{hot['max_share'] * 100:.1f}%** | ≤ 5% |")
    return out

