"""Where a busy tenant's writes land: `changes` task changes on `tasks` tasks of one tenant spread
over `groups` groups (cases of 10 tasks each), and the share of the writes each partition key takes,
on the table and on each index, the tenant audit (gsi4) and the cases (gsi5) included (the test and
`make bench`'s `hot_key_share`).

The writes are read back from the table's stream (NEW_AND_OLD_IMAGES), so they are what DynamoDB
wrote, not what Baton meant to: a base-table write lands on the item's `pk`; an index write lands
on the index partition of the new image and, when the item left that partition (or the index),
on the old one too."""

from __future__ import annotations

import random
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from baton.directory.domain import Group, User
from baton.directory.service import DirectoryService
from baton.domain import Caller
from baton.errors import BatonError
from baton.storage.dynamo import Dynamo
from baton.table import INDEXES
from baton.tasks.service import TaskService

CASE_TASKS = 10  # tasks per case (a process instance's steps)


def enable_stream(store: Dynamo) -> str:
    """A fresh stream from now on: a table made with one (the events need it) gets it turned off and
    on again, so only the writes from here are counted."""
    spec = store.client.describe_table(TableName=store.table)["Table"].get("StreamSpecification") or {}
    if spec.get("StreamEnabled"):
        store.client.update_table(TableName=store.table, StreamSpecification={"StreamEnabled": False})
    out = store.client.update_table(TableName=store.table, StreamSpecification={
        "StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
    arn: str = out["TableDescription"]["LatestStreamArn"]
    return arn


def stream_records(streams: Any, arn: str) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        it = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"],
                                        ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        while it:
            out = streams.get_records(ShardIterator=it, Limit=1000)
            records += out["Records"]
            if not out["Records"]:
                break
            it = out.get("NextShardIterator")
    return records


def write_counts(records: list[dict[str, Any]]) -> dict[str, Counter[str]]:
    counts: dict[str, Counter[str]] = {"table": Counter(), **{name: Counter() for name in INDEXES}}
    for rec in records:
        data = rec["dynamodb"]
        counts["table"][data["Keys"]["pk"]["S"]] += 1
        old, new = data.get("OldImage") or {}, data.get("NewImage") or {}
        for name, (h, r) in INDEXES.items():
            before = (old[h]["S"], old[r]["S"]) if h in old and r in old else None
            after = (new[h]["S"], new[r]["S"]) if h in new and r in new else None
            if after is not None:
                counts[name][after[0]] += 1
            if before is not None and before != after:
                counts[name][before[0]] += 1
    return counts


def shares(counts: dict[str, Counter[str]]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for name, c in counts.items():
        total = sum(c.values())
        key, top = c.most_common(1)[0] if c else ("", 0)
        out[name] = {"writes": total, "keys": len(c), "max_share": round(top / total, 4) if total else 0.0,
                     "hottest": key}
    return out


def busy_tenant(store: Dynamo, tenant: str, *, tasks: int = 1000, groups: int = 50, members: int = 5,
                changes: int = 10_000, threads: int = 8, seed: int = 3, ready: Any = None,
                fields: dict[str, Any] | None = None) -> int:
    """Create `tasks` tasks (one change each) and make changes (claims by a member of the task's
    group, releases, a few completions) until `changes` changes were written. Returns the count.
    `ready()` is called once the directory (users, groups) is written, before the first change.
    `fields`: more of each task's fields (an escalation ladder: benchmarks/escalations.py)."""
    admin = Caller(user_id="root", username="root", tenant=tenant, roles=frozenset({"admin"}))
    directory = DirectoryService(store, admin)
    group_ids = [f"hk-g{g:02d}" for g in range(groups)]
    users = {g: [f"{g}-u{m}" for m in range(members)] for g in group_ids}
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(lambda u: directory.put_user(User(id=u, username=u)), [u for us in users.values() for u in us]))
        list(pool.map(lambda g: directory.put_group(Group(id=g, name=g, members=users[g])), group_ids))
    if ready is not None:
        ready()
    creator = TaskService(store, admin)
    ids = [f"hk-t{n:04d}" for n in range(tasks)]
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(lambda n: creator.create({"id": ids[n], "name": "Busy", "priority": n % 101,
                                                "candidateGroups": [group_ids[n % groups]],
                                                "caseId": f"hk-c{n // CASE_TASKS:04d}", **(fields or {})}),
                               range(tasks)))
    written = tasks
    lock = threading.Lock()
    holders: dict[str, str | None] = dict.fromkeys(ids)
    # Each task is changed by one thread only (tasks are dealt out), so the expected state is known.
    share = [ids[i::threads] for i in range(threads)]

    def work(mine: list[str], rnd: random.Random) -> None:
        nonlocal written
        while True:
            with lock:
                if written >= changes or not mine:
                    return
                written += 1
            task = rnd.choice(mine)
            group = group_ids[ids.index(task) % groups]
            holder = holders[task]
            try:
                if holder is None:
                    user = rnd.choice(users[group])
                    TaskService(store, _worker(tenant, user)).claim(task)
                    holders[task] = user
                elif rnd.random() < 0.05:
                    TaskService(store, _worker(tenant, holder)).finish(task, "completed")
                    mine.remove(task)
                else:
                    TaskService(store, _worker(tenant, holder)).release(task)
                    holders[task] = None
            except BatonError as err:  # pragma: no cover - a refusal here is a bug in the run
                raise AssertionError(f"{task}: {err.message}") from err

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(work, share, [random.Random(seed + i) for i in range(threads)]))
    return written


def _worker(tenant: str, user: str) -> Caller:
    return Caller(user_id=user, username=user, tenant=tenant, roles=frozenset({"operations"}))
