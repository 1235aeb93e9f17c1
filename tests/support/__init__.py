"""Test support: call the real Lambda handlers with API Gateway HTTP API v2 events."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from baton.routes import match
from baton_local.events import LambdaContext, claims_for, http_event
from baton_local.server import Handler, load_handlers

ROOT = Path(__file__).resolve().parents[2]  # the repository
TENANT = "acme"
OPS = ("operations",)
ADMIN = ("admin",)
WRITER = ("apiwrite",)
# Task ids that would inject a header, or break a URL or a log line, if written raw.
HOSTILE_IDS = ["a\r\nSet-Cookie: evil=1", "タスク", "a b%20c?d#e", "tab\there", "é\x85\u2028"]


@lru_cache(maxsize=1)
def handlers() -> dict[str, Handler]:
    return load_handlers()


@dataclass
class Reply:
    status: int
    body: Any
    headers: dict[str, str]


def call(method: str, path: str, body: Any = None, *, user: str = "alice", roles: tuple[str, ...] = OPS,
         tenant: str = TENANT, headers: dict[str, str] | None = None, query: dict[str, str] | None = None,
         claims: dict[str, Any] | None = None, raw: bool = False) -> Reply:
    route, _ = match(method, path)
    assert route is not None, f"no route for {method} {path}"
    if claims is None and route.auth:
        claims = claims_for(user, tenant, roles)
    event = http_event(method, path, route=route, body=body, query=query, headers=headers, claims=claims)
    result = handlers()[route.family](event, LambdaContext())
    text = result.get("body") or ""
    try:
        parsed = json.loads(text) if text and not raw else text
    except json.JSONDecodeError:
        parsed = text
    return Reply(int(result["statusCode"]), parsed, {k.lower(): v for k, v in (result.get("headers") or {}).items()})


def seed(tenant: str = TENANT) -> None:
    """Users alice, bob, carol, dave, root (admin); group ops = alice+bob; project prj with the
    task activity act (assignees: alice, group ops) and the subprocess sub; tasks t1 (group ops),
    t2 (direct: carol), t3 (automatic)."""
    for uid, first in (("alice", "Alice"), ("bob", "Bob"), ("carol", "Carol"), ("dave", "Dave"),
                       ("root", "Root")):
        r = call("PUT", f"/api/v1/users/{uid}", {"username": uid, "firstname": first, "lastname": "Test"},
                 user="root", roles=ADMIN, tenant=tenant)
        assert r.status == 201, r
    r = call("PUT", "/api/v1/groups/ops", {"name": "Operations", "members": ["alice", "bob"]},
             user="root", roles=ADMIN, tenant=tenant)
    assert r.status == 201, r
    for act, kind in (("act", "task"), ("sub", "subprocess")):
        r = call("PUT", f"/api/v1/projects/prj/activities/{act}", {"name": act.title(), "type": kind},
                 user="root", roles=ADMIN, tenant=tenant)
        assert r.status == 201, r
    for uid, kind in (("alice", "user"), ("ops", "group")):
        r = call("POST", f"/api/1.0/{tenant}/project/prj/activity/act/assignee", {"aas_uid": uid, "aas_type": kind},
                 user="root", roles=("PM_FACTORY",), tenant=tenant)
        assert r.status == 201, r
    for body in ({"id": "t1", "name": "Group task", "candidateGroups": ["ops"]},
                 {"id": "t2", "name": "Direct task", "candidateUsers": ["carol"]},
                 {"id": "t3", "name": "Machine task", "type": "automatic", "candidateUsers": ["alice"]}):
        r = call("POST", "/api/v1/tasks", body, user="root", roles=ADMIN, tenant=tenant)
        assert r.status == 201, r


def claim(task: str, user: str, roles: tuple[str, ...] = OPS, **kw: Any) -> Reply:
    return call("POST", f"/operations-manager/tasks/{task}/claim", user=user, roles=roles, **kw)


def release(task: str, user: str, roles: tuple[str, ...] = OPS, **kw: Any) -> Reply:
    return call("POST", f"/operations-manager/tasks/{task}/release", user=user, roles=roles, **kw)


def native(action: str, task: str, user: str, body: Any = None, roles: tuple[str, ...] = OPS, **kw: Any) -> Reply:
    """A native task action (`claim`, `release`, `heartbeat`, `complete`, ...)."""
    return call("POST", f"/api/v1/tasks/{task}/action/{action}", body, user=user, roles=roles, **kw)


def get_task(task: str, tenant: str = TENANT) -> Reply:
    return call("GET", f"/api/v1/tasks/{task}", tenant=tenant)


def history(task: str, tenant: str = TENANT) -> list[dict[str, Any]]:
    r = call("GET", f"/api/v1/tasks/{task}/history", tenant=tenant)
    assert r.status == 200, r
    items: list[dict[str, Any]] = r.body["items"]
    return items


T = TypeVar("T")


def concurrently(actions: list[Callable[[], T]], timeout: float = 120) -> list[T]:
    """Run the actions in threads released together by a barrier; their results in order."""
    barrier = threading.Barrier(len(actions))
    out: list[tuple[T] | None] = [None] * len(actions)

    def run(i: int) -> None:
        barrier.wait()
        out[i] = (actions[i](),)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(actions))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    assert all(o is not None for o in out), "a racer did not finish"
    return [o[0] for o in out if o is not None]


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
    from baton.observability import logger

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
