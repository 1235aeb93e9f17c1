"""The schema migration of task items: `baton migrate` and `baton serve` bring tasks written by an
older Baton (or under another `list_shards`) to the current keys. A Scan, never on a request path."""

from __future__ import annotations

import contextlib
from collections import Counter
from typing import Any

from baton import clock
from baton.settings import get_settings
from baton.storage.conditions import eq, rule
from baton.storage.dynamo import ConditionFailed, Dynamo, deserialize, serialize
from baton.storage.keys import (
    ABSENCE_TIMER,
    SCHEMA_MARKER,
    SCHEMA_VERSION,
    TASK_SK,
    TIMER_KEYS,
    USERS,
    Keys,
    timer_keys,
    unesc,
)
from baton.table import INDEXES
from baton.tasks.domain import Task
from baton.tasks.filters import SEARCH
from baton.tasks.layout import entry_ops, queue_entries, task_from_item, task_item
from baton.tasks.unit_of_work import Op


def migrate(db: Dynamo) -> int:
    """Bring task items written by an older Baton (one tenant-wide listing key, no queue keys, no
    entry items for the users named on a task that no queue shows: schema 5) or under another
    `list_shards` to the current keys, with their queue entries: one
    transaction per task, conditioned on the version it read; and give each user without a load
    item (from before loads were kept) one, with the open tasks it bears. Runs once per schema and shard
    count (a marker item records it); a Scan, never on a request path. Returns how many tasks
    it rewrote."""
    shards = get_settings().list_shards
    done = db.get(SCHEMA_MARKER)
    if done and deserialize(done).get("schema") == SCHEMA_VERSION and deserialize(done).get("shards") == shards:
        return 0
    changed = 0
    kwargs: dict[str, Any] = {"TableName": db.table, "FilterExpression": "sk = :t OR begins_with(sk, :u)",
                              "ExpressionAttributeValues": {":t": {"S": TASK_SK}, ":u": {"S": USERS}}}
    borne: Counter[tuple[str, str]] = Counter()  # (tenant, user) -> the open tasks it holds or is offered
    users: list[tuple[str, dict[str, Any]]] = []
    while True:
        page = db.call("scan", **kwargs)
        for item in page.get("Items", []):
            if item["sk"]["S"] != TASK_SK:
                users.append((unesc(item["pk"]["S"].split("#")[1]), deserialize(item)))
                continue
            changed += _migrate_task(db, item)
            task = task_from_item(item)
            if task.status == "open" and task.bearer:
                borne[(unesc(item["pk"]["S"].split("#")[1]), task.bearer)] += 1
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    for tenant, user in users:  # users from before loads were kept: a load item with what they bear
        uid = user["userId"]
        item = {**Keys.person(tenant, uid), "userId": uid, "load": borne[(tenant, uid)],
                "skills": list(user.get("skills", [])), "capacity": user.get("capacity"),
                "active": bool(user.get("active", True))}
        with contextlib.suppress(ConditionFailed):
            db.call("put_item", TableName=db.table, Item=serialize(item),
                    ConditionExpression="attribute_not_exists(pk)")
        delegate = (user.get("absence") or {}).get("delegateTo")
        if delegate:  # 6: the reverse lookup of absences (directory.memberships `stand_in_moves`)
            with contextlib.suppress(ConditionFailed):
                db.call("update_item", TableName=db.table, Key=serialize(Keys.user(tenant, delegate)),
                        UpdateExpression="ADD standsInFor :u", ConditionExpression="attribute_exists(pk)",
                        ExpressionAttributeValues={":u": {"SS": [uid]}})
        _arm_absence(db, tenant, user)
    db.call("put_item", TableName=db.table,
            Item=serialize({**SCHEMA_MARKER, "schema": SCHEMA_VERSION, "shards": shards}))
    return changed


def _migrate_task(db: Dynamo, item: dict[str, Any]) -> int:
    tenant = unesc(item["pk"]["S"].split("#")[1])
    task = task_from_item(item)
    new = task_item(tenant, task)
    sk_attr = TIMER_KEYS[1]
    if sk_attr in new and new[sk_attr] != item.get(sk_attr):  # a timer it lacked (schema 7: its lease's):
        due = new[sk_attr]["S"].split("#", 1)[0]  # in an hour no sweep has closed yet
        new.update(serialize(dict(zip(TIMER_KEYS, timer_keys(tenant, task.id, due, clock.stamp()), strict=True))))
    if "lastEvent" in item:
        new["lastEvent"] = item["lastEvent"]
        for k in ("gsi4pk", "gsi4sk"):  # the pending event's place in the tenant audit
            if k in item:
                new[k] = item[k]
    index_keys = [k for pair in INDEXES.values() for k in pair] + [SEARCH]  # with what filters read (4)
    if all(item.get(k) == new.get(k) for k in index_keys) and not _named_missing(db, tenant, task):
        return 0
    ops = [Op("Put", new, rule(eq("version", task.version))), *entry_ops(tenant, None, task)]
    db.transact([op.render() for op in ops])
    return 1


def _arm_absence(db: Dynamo, tenant: str, user: dict[str, Any]) -> None:
    """Schema 7: an absence set before absences had timers gets its timer at `until` (tasks.timers:
    the sweep ends it then), on condition that the absence is still the one read. (A leased task
    gets its lease's timer from `_migrate_task`, the timer index keys being among those compared.)"""
    absence = user.get("absence")
    if not absence or TIMER_KEYS[0] in user:
        return
    tp, ts = timer_keys(tenant, str(user["userId"]), str(absence["until"]), clock.stamp(), ABSENCE_TIMER)
    with contextlib.suppress(ConditionFailed):  # changed meanwhile: that write set its own timer
        db.call("update_item", TableName=db.table, Key=serialize(Keys.user(tenant, str(user["userId"]))),
                UpdateExpression="SET #tp = :tp, #ts = :ts", ConditionExpression="absence = :a",
                ExpressionAttributeNames={"#tp": TIMER_KEYS[0], "#ts": TIMER_KEYS[1]},
                ExpressionAttributeValues=serialize({":tp": tp, ":ts": ts, ":a": absence}))


def _named_missing(db: Dynamo, tenant: str, task: Task) -> bool:
    """Schema 5: an entry item of a user named on the open task whom no queue shows it under
    (layout.named_users) is missing, or not in its named partition (one BatchGetItem, only for a
    task that names such users)."""
    wanted = {sk: item for sk, item in queue_entries(tenant, task).items() if "gsi2pk" in item}
    if not wanted:
        return False
    pk = Keys.task(tenant, task.id)["pk"]
    found = {i["sk"]["S"]: deserialize(i) for i in db.batch_get({"pk": pk, "sk": sk} for sk in wanted)}
    return any(found.get(sk, {}).get("gsi2pk") != item["gsi2pk"] for sk, item in wanted.items())
