"""Test support: the local harness (baton_local.harness: the real Lambda handlers called with API
Gateway HTTP API v2 events, the seed tenant, racers released together) and what only tests need."""

from __future__ import annotations

import contextlib
import io
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from baton.settings import get_settings
from baton.storage.dynamo import get_dynamo
from baton_local import harness
from baton_local.harness import ADMIN, OPS, TENANT, Reply, call, concurrently, handlers, in_processes

__all__ = ["ADMIN", "HOSTILE_IDS", "OPS", "ROOT", "TENANT", "WRITER", "Reply", "before_send_hooks", "bulk", "call",
           "captured_logs", "claim", "concurrently", "create_task", "get_task", "handlers", "history", "in_processes",
           "native", "release", "seed", "table_items"]

ROOT = Path(__file__).resolve().parents[2]  # the repository
WRITER = ("apiwrite",)
# Task ids that would inject a header, or break a URL or a log line, if written raw.
HOSTILE_IDS = ["a\r\nSet-Cookie: evil=1", "タスク", "a b%20c?d#e", "tab\there", "é\x85\u2028"]


# The items the first seed of each tenant wrote into an empty table in this process, per engine
# (moto, or a DynamoDB Local endpoint).
_seeded: dict[tuple[str | None, str], list[dict[str, Any]]] = {}


def seed(tenant: str = TENANT) -> None:
    """The seed tenant (baton_local.harness.seed: users, group ops, project prj, tasks t1-t3),
    written by the functions once per process, engine and tenant, into an empty table; later
    seeds there put back the items that wrote, in a few BatchWriteItem calls (seeding was most of
    many tests' time). A table that already holds items is seeded in full."""
    dynamo = get_dynamo()
    if dynamo.client.scan(TableName=dynamo.table, Limit=1)["Items"]:
        harness.seed(tenant)
        return
    key = (get_settings().dynamodb_endpoint, tenant)
    if key not in _seeded:
        harness.seed(tenant)
        _seeded[key] = table_items()
        return
    items = _seeded[key]
    for start in range(0, len(items), 25):
        batch = {dynamo.table: [{"PutRequest": {"Item": item}} for item in items[start:start + 25]]}
        while batch:
            batch = dynamo.client.batch_write_item(RequestItems=batch).get("UnprocessedItems") or {}


def counted(request: Callable[[], Any]) -> tuple[Any, dict[str, int]]:
    """What `request()` answers, and the DynamoDB calls it made, by operation."""
    client = get_dynamo().client
    calls: dict[str, int] = {}

    def count(model: Any, **_: Any) -> None:
        calls[model.name] = calls.get(model.name, 0) + 1

    client.meta.events.register("before-call.dynamodb", count)
    try:
        return request(), calls
    finally:
        client.meta.events.unregister("before-call.dynamodb", count)


def table_items() -> list[dict[str, Any]]:
    """Every item of the test's table as stored, in key order (a test-only Scan)."""
    dynamo = get_dynamo()
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"TableName": dynamo.table}
    while True:
        page = dynamo.client.scan(**kwargs)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return sorted(items, key=lambda i: (i["pk"]["S"], i["sk"]["S"]))
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def claim(task: str, user: str, roles: tuple[str, ...] = OPS, **kw: Any) -> Reply:
    return call("POST", f"/operations-manager/tasks/{task}/claim", user=user, roles=roles, **kw)


def release(task: str, user: str, roles: tuple[str, ...] = OPS, **kw: Any) -> Reply:
    return call("POST", f"/operations-manager/tasks/{task}/release", user=user, roles=roles, **kw)


def native(action: str, task: str, user: str, body: Any = None, roles: tuple[str, ...] = OPS, **kw: Any) -> Reply:
    """A native task action (`claim`, `release`, `heartbeat`, `complete`, ...)."""
    return call("POST", f"/api/v1/tasks/{task}/action/{action}", body, user=user, roles=roles, **kw)


def create_task(task_id: str, tenant: str = TENANT, **fields: Any) -> None:
    """A task created by root (admin), named after its id."""
    r = call("POST", "/api/v1/tasks", {"id": task_id, "name": task_id, **fields}, user="root", roles=ADMIN,
             tenant=tenant)
    assert r.status == 201, r


def bulk(action: str, body: dict[str, Any], user: str = "alice", roles: tuple[str, ...] = OPS,
         tenant: str = TENANT) -> Reply:
    """A bulk action (`POST /api/v1/task-actions/{action}`)."""
    return call("POST", f"/api/v1/task-actions/{action}", body, user=user, roles=roles, tenant=tenant)


def get_task(task: str, tenant: str = TENANT) -> Reply:
    return call("GET", f"/api/v1/tasks/{task}", tenant=tenant)


def history(task: str, tenant: str = TENANT) -> list[dict[str, Any]]:
    r = call("GET", f"/api/v1/tasks/{task}/history", tenant=tenant)
    assert r.status == 200, r
    items: list[dict[str, Any]] = r.body["items"]
    return items


@contextlib.contextmanager
def before_send_hooks(client: Any) -> Iterator[Callable[[Any], Any]]:
    """`install(hook)` puts a hook first in line at botocore's before-send for the block (fault
    injection at the HTTP layer); every installed hook is removed after it."""
    installed: list[Any] = []

    def install(hook: Any) -> Any:
        client.meta.events.register_first("before-send.dynamodb", hook)
        installed.append(hook)
        return hook

    try:
        yield install
    finally:
        for hook in installed:
            client.meta.events.unregister("before-send.dynamodb", hook)


@contextlib.contextmanager
def captured_logs(level: str) -> Iterator[io.StringIO]:
    """The functions' log lines, as written, at `level`, for the block."""
    from baton.edge.observability import logger

    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(logger.registered_formatter)
    inner = logging.getLogger(logger.name)
    inner.addHandler(handler)
    old = inner.level
    logger.setLevel(level)
    try:
        yield buffer
    finally:
        logger.setLevel(old)
        inner.removeHandler(handler)
