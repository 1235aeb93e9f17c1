"""`baton serve` over real HTTP: tokens from `baton token`, DynamoDB Local underneath."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from baton_local import tokens
from baton_local.ddblocal import DynamoDBLocal
from tests.support.localserver import Server, cli_token, on_engine, request


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, ddb_local: DynamoDBLocal) -> Iterator[Server]:
    srv = Server(tmp_path_factory.mktemp("baton-state"), *on_engine(ddb_local)).start()
    yield srv
    srv.stop()


def test_banner_shows_url_swagger_and_token_command(server: Server) -> None:
    text = "".join(server.banner)
    assert server.base in text and f"{server.base}/swagger" in text
    assert "baton token --user" in text


def test_claim_over_http_with_a_token(server: Server) -> None:
    alice = cli_token(server.state, "alice", "operations")
    status, body = request(server.base, "POST", "/operations-manager/tasks/task-2/claim", alice)
    assert status == 200, body
    assert body["data"]["assignee"] == "alice"
    bob = cli_token(server.state, "bob", "operations")
    status, body = request(server.base, "POST", "/operations-manager/tasks/task-2/claim", bob)
    assert status == 409 and body["holder"] == "alice"
    status, body = request(server.base, "GET", "/api/v1/tasks/task-2/history", bob)
    assert status == 200 and [e["action"] for e in body["items"]] == ["create", "claim"]


def test_no_or_bad_token_is_401(server: Server) -> None:
    good = cli_token(server.state, "alice", "operations")
    expired = cli_token(server.state, "alice", "operations", ttl=-10)
    forged = good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB")
    other_key = cli_token(server.state.parent / "elsewhere", "alice", "operations")
    key = tokens.load_key(server.state)
    base = {"iss": tokens.ISSUER, "aud": tokens.AUDIENCE, "sub": "alice", "custom:tenant": "workflow",
            "exp": time.time() + 600}
    crafted = [tokens.sign(key, {k: v for k, v in base.items() if k != drop})
               for drop in ("sub", "custom:tenant", "exp", "iss", "aud")]
    assert request(server.base, "GET", "/api/v1/tasks/task-1", tokens.sign(key, base))[0] == 200
    for tok in (None, "garbage", expired, forged, other_key, *crafted):
        status, body = request(server.base, "GET", "/api/v1/tasks/task-1", tok)
        assert (status, body) == (401, {"message": "Unauthorized"}), tok


def test_public_routes_need_no_token(server: Server) -> None:
    assert request(server.base, "GET", "/health") == (200, {"status": "ok"})
    status, doc = request(server.base, "GET", "/openapi.json")
    assert status == 200 and "/operations-manager/tasks/{taskId}/claim" in doc["paths"]
    status, html = request(server.base, "GET", "/swagger")
    assert status == 200 and "swagger-ui" in html and "swagger/swagger-ui-bundle.js" in html
    status, script = request(server.base, "GET", "/swagger/swagger-init.js")
    assert status == 200 and "openapi.json" in script
    assert request(server.base, "GET", "/nowhere")[0] == 404


def test_data_survives_a_restart(tmp_path: Path) -> None:
    first = Server(tmp_path).start()  # its own DynamoDB Local, its data in the state directory
    try:
        assert "Amazon DynamoDB Local" in "".join(first.banner) and (tmp_path / "dynamodb").is_dir()
        admin = cli_token(tmp_path, "admin", "admin")
        status, _ = request(first.base, "POST", "/api/v1/tasks", admin, {"id": "keep", "name": "Keep me"})
        assert status == 201
    finally:
        first.stop()
    second = Server(tmp_path).start()
    try:
        assert "already present" in "".join(second.banner)
        status, body = request(second.base, "GET", "/api/v1/tasks/keep", cli_token(tmp_path, "admin", "admin"))
        assert status == 200 and body["name"] == "Keep me"
    finally:
        second.stop()


def _claim_works(srv: Server) -> None:
    alice = cli_token(srv.state, "alice", "operations")
    status, body = request(srv.base, "POST", "/operations-manager/tasks/task-1/claim", alice)
    assert status == 200 and body["data"]["assignee"] == "alice", body


def test_without_java_it_falls_back_to_moto_and_says_so(tmp_path: Path) -> None:
    srv = Server(tmp_path, env={"JAVA": "/nonexistent/java"}).start()
    try:
        assert "falling back to an in-memory moto server" in "".join(srv.banner)
        _claim_works(srv)
    finally:
        srv.stop()


def test_any_dynamodb_endpoint_and_table(tmp_path: Path, ddb_local: DynamoDBLocal) -> None:
    srv = Server(tmp_path, "--dynamodb-endpoint", ddb_local.endpoint, "--table", "elsewhere").start()
    try:
        assert f"DynamoDB at {ddb_local.endpoint}" in "".join(srv.banner)
        _claim_works(srv)
        assert "elsewhere" in ddb_local.client().list_tables()["TableNames"]
    finally:
        srv.stop()


def children(pid: int) -> list[int]:
    """The child processes of `pid` (Linux /proc)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def descendants(pid: int) -> list[int]:
    """Every process below `pid` (children, theirs, ...)."""
    found: list[int] = []
    for child in children(pid):
        found += [child, *descendants(child)] if alive(child) else []
    return found


def alive(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists()


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " ")
    except OSError:
        return ""


def test_crash_safety_sigkill_mid_burst(tmp_path: Path) -> None:
    """Kill `baton serve` outright in the middle of a burst of writes, restart it on the same
    data: every acknowledged change is there, and every task agrees with its history."""
    first = Server(tmp_path).start()
    admin = cli_token(tmp_path, "admin", "admin")
    acknowledged: list[str] = []
    stop = threading.Event()

    def writer(k: int) -> None:
        n = 0
        while not stop.is_set():
            task = f"crash-{k}-{n}"
            n += 1
            try:
                status, _ = request(first.base, "POST", "/api/v1/tasks", admin,
                                    {"id": task, "name": "Crash", "candidateUsers": ["alice"]})
            except OSError:
                return
            if status == 201:
                acknowledged.append(task)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 30
    while len(acknowledged) < 40 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert first.proc is not None
    workers = descendants(first.proc.pid)
    assert len(workers) >= 9, workers  # the spawner, 8 worker processes (and DynamoDB Local's JVM)
    first.proc.kill()  # SIGKILL: no cleanup at all
    first.proc.wait(10)
    stop.set()
    for t in threads:
        t.join(30)
    assert len(acknowledged) >= 40
    # its worker processes end with it (the JVM, in its own session, is stopped by the next start)
    deadline = time.monotonic() + 30
    while [p for p in workers if alive(p) and "baton" in cmdline(p)] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [p for p in workers if alive(p) and "baton" in cmdline(p)], "workers outlived their server"
    second = Server(tmp_path).start()
    try:
        stored: list[dict[str, Any]] = []
        cursor = ""
        while True:
            status, page = request(second.base, "GET", f"/api/v1/tasks?limit=100{cursor}", admin)
            assert status == 200
            stored += [t for t in page["items"] if t["id"].startswith("crash-")]
            if not page["cursor"]:
                break
            cursor = f"&cursor={page['cursor']}"
        assert set(acknowledged) <= {t["id"] for t in stored}  # every acknowledged write survived
        def whole(task: dict[str, Any]) -> None:  # whatever was written, acknowledged or not, is whole
            _, hist = request(second.base, "GET", f"/api/v1/tasks/{task['id']}/history", admin)
            assert [e["version"] for e in hist["items"]] == list(range(1, task["version"] + 1)), task

        with ThreadPoolExecutor(4) as pool:  # read side by side by the server's worker processes
            list(pool.map(whole, stored))
        _claim_works(second)
    finally:
        second.stop()


def test_a_killed_worker_is_replaced_and_the_api_answers_on(tmp_path: Path, ddb_local: DynamoDBLocal) -> None:
    """kill -9 of one `baton serve` worker (issue 23, item 3): before, every route, /health too,
    answered an HTML 500 from then on and the other workers exited. Now the worker is replaced
    and every request answers (one in flight on the killed worker would fail alone: see
    tests/unit/test_workers.py)."""
    srv = Server(tmp_path, *on_engine(ddb_local), "--workers", "3").start()
    try:
        assert srv.proc is not None
        before = [p for p in descendants(srv.proc.pid) if "baton" in cmdline(p)]
        assert len(before) == 4, before  # the spawner and three workers
        spawner = children(srv.proc.pid)[0]
        victim = children(spawner)[0]
        os.kill(victim, signal.SIGKILL)
        admin = cli_token(srv.state, "admin", "admin")
        for _ in range(12):  # every worker serves several of them, the replacement included
            assert request(srv.base, "GET", "/health")[0] == 200
            status, body = request(srv.base, "GET", "/api/v1/tasks?limit=1", admin)
            assert status == 200, body
        after = children(spawner)
        assert victim not in after and len(after) == 3, after
        assert not set(before) - {victim} - set(after) - {spawner}  # the others never exited
        _claim_works(srv)
    finally:
        srv.stop()
