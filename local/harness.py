"""Driving Baton from Python, with no AWS: invoke a function with the API Gateway HTTP API v2
event a route would get (`call`), seed a tenant with a small directory and tasks (`seed`), run
`baton serve` as a subprocess and speak plain HTTP to it (`Server`, `request`), and release
actions together (`concurrently`). Shared by the tests and the benchmarks."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from baton.routes import match
from baton_local.ddblocal import free_port
from baton_local.events import LambdaContext, claims_for, http_event
from baton_local.server import Handler, load_handlers

TENANT = "acme"
OPS = ("operations",)
ADMIN = ("admin",)
# The installed `baton` command beside this interpreter.
BATON = str(Path(sys.executable).parent / "baton")


# ---- the functions, invoked in this process -------------------------------------------------------
@lru_cache(maxsize=1)
def handlers() -> dict[str, Handler]:
    return load_handlers()


_in_workers: list[dict[str, Handler]] = []
# In this process a function handles one request at a time, as in Lambda (Powertools keeps the
# request being handled on its resolver): calls from several threads take turns here, and run
# truly concurrently only `in_processes`.
_one_at_a_time = threading.Lock()


@contextlib.contextmanager
def in_processes(size: int = 8) -> Iterator[None]:
    """`call` runs the functions in worker processes for the block, so that concurrent calls are
    concurrent requests (a function handles one request at a time, as in Lambda)."""
    from baton_local.workers import Workers

    with Workers(size) as workers:
        _in_workers.append(workers.handlers())
        try:
            yield
        finally:
            _in_workers.pop()


@dataclass
class Reply:
    status: int
    body: Any
    headers: dict[str, str]


def call(method: str, path: str, body: Any = None, *, user: str = "alice", roles: tuple[str, ...] = OPS,
         tenant: str = TENANT, headers: dict[str, str] | None = None, query: dict[str, str] | None = None,
         claims: dict[str, Any] | None = None, raw: bool = False) -> Reply:
    """The route's function answers the request, its claims as API Gateway's authorizer passes them."""
    route, _ = match(method, path)
    if route is None:
        raise LookupError(f"no route for {method} {path}")
    if claims is None and route.auth:
        claims = claims_for(user, tenant, roles)
    event = http_event(method, path, route=route, body=body, query=query, headers=headers, claims=claims)
    if _in_workers:
        result = _in_workers[-1][route.family](event, LambdaContext())
    else:
        with _one_at_a_time:
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
    def put(method: str, path: str, body: Any, roles: tuple[str, ...] = ADMIN) -> None:
        r = call(method, path, body, user="root", roles=roles, tenant=tenant)
        if r.status != 201:
            raise RuntimeError(f"seeding {tenant}: {method} {path} answered {r}")

    for uid, first in (("alice", "Alice"), ("bob", "Bob"), ("carol", "Carol"), ("dave", "Dave"),
                       ("root", "Root")):
        put("PUT", f"/api/v1/users/{uid}", {"username": uid, "firstname": first, "lastname": "Test"})
    put("PUT", "/api/v1/groups/ops", {"name": "Operations", "members": ["alice", "bob"]})
    for act, kind in (("act", "task"), ("sub", "subprocess")):
        put("PUT", f"/api/v1/projects/prj/activities/{act}", {"name": act.title(), "type": kind})
    for uid, kind in (("alice", "user"), ("ops", "group")):
        put("POST", f"/api/1.0/{tenant}/project/prj/activity/act/assignee", {"aas_uid": uid, "aas_type": kind},
            ("PM_FACTORY",))
    for body in ({"id": "t1", "name": "Group task", "candidateGroups": ["ops"]},
                 {"id": "t2", "name": "Direct task", "candidateUsers": ["carol"]},
                 {"id": "t3", "name": "Machine task", "type": "automatic", "candidateUsers": ["alice"]}):
        put("POST", "/api/v1/tasks", body)


T = TypeVar("T")


def concurrently(actions: list[Callable[[], T]], timeout: float = 120) -> list[T]:
    """Run the actions in threads released together by a barrier; their results in order. An
    action that raised raises here (the first one); one still running after `timeout` is a
    TimeoutError. (Calls to the functions race only `in_processes`: in this process they take turns.)"""
    barrier = threading.Barrier(len(actions))
    out: list[tuple[T] | None] = [None] * len(actions)
    errors: list[BaseException] = []

    def run(i: int) -> None:
        barrier.wait()
        try:
            out[i] = (actions[i](),)
        except BaseException as exc:  # handed to the caller below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(actions))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    if errors:
        raise errors[0]
    if any(o is None for o in out):
        raise TimeoutError("a racer did not finish")
    return [o[0] for o in out if o is not None]


# ---- `baton serve` over HTTP ------------------------------------------------------------------------
def request(base: str, method: str, path: str, tok: str | None = None, body: Any = None, timeout: float = 30
            ) -> tuple[int, Any]:
    """One plain HTTP request; the status and the body (parsed when it is JSON)."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method)
    if tok:
        req.add_header("Authorization", f"Bearer {tok}")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            raw = resp.read()
            status = resp.status
    except urllib.error.HTTPError as err:
        raw, status = err.read(), err.code
    try:
        return status, json.loads(raw)
    except json.JSONDecodeError:
        return status, raw.decode()


class Server:
    """`baton serve --state-dir STATE ARGS...` on a free port, started until its banner is out."""

    def __init__(self, state: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.state = state
        self.args = list(args)
        self.extra_env = env or {}
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[str] | None = None
        self.banner: list[str] = []

    def start(self) -> Server:
        env = {**os.environ, "PORT": str(self.port), **self.extra_env}
        env.pop("DYNAMODB_ENDPOINT", None)
        self.proc = subprocess.Popen([BATON, "serve", "--state-dir", str(self.state), *self.args], env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        assert self.proc.stdout is not None
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line and self.proc.poll() is not None:
                raise RuntimeError("baton serve exited: " + "".join(self.banner))
            self.banner.append(line)
            if "Get a token" in line:
                return self
        raise RuntimeError("baton serve did not start: " + "".join(self.banner))

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
