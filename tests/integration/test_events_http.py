"""`GET /local/events` over HTTP on `baton serve` (DynamoDB Local): a burst of mixed changes on
several tasks, the server SIGKILLed mid-burst and restarted, the client resuming with
Last-Event-ID: exactly one event per history event, in version order per task, none missing."""

from __future__ import annotations

import json
import queue
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

from baton_local.ddblocal import DynamoDBLocal
from tests.support.events import validate
from tests.support.localserver import Server, on_engine, request, token

Event = dict[str, Any]


class Feed:
    """An SSE client in a thread: (id, event) per message into a queue, None when the stream ends."""

    def __init__(self, base: str, tok: str, last_id: str | None = None) -> None:
        req = urllib.request.Request(base + "/local/events", headers={"Authorization": f"Bearer {tok}"})
        if last_id:
            req.add_header("Last-Event-ID", last_id)
        self.response = urllib.request.urlopen(req, timeout=120)
        assert self.response.status == 200
        assert self.response.headers["Content-Type"].startswith("text/event-stream")
        self.queue: queue.Queue[tuple[str, Event] | None] = queue.Queue()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        fields: dict[str, str] = {}
        try:
            for raw in self.response:
                line = raw.decode().rstrip("\n")
                if not line:
                    if "data" in fields:
                        self.queue.put((fields["id"], json.loads(fields["data"])))
                    fields = {}
                elif not line.startswith(":"):
                    name, _, value = line.partition(":")
                    fields[name] = value.removeprefix(" ")
        except OSError:
            pass
        self.queue.put(None)

    def until(self, done: Any, timeout: float = 90) -> list[tuple[str, Event]]:
        """Messages until `done(messages)` holds or the stream ends."""
        got: list[tuple[str, Event]] = []
        deadline = time.monotonic() + timeout
        while not done(got):
            item = self.queue.get(timeout=max(0.1, deadline - time.monotonic()))
            if item is None:
                break
            got.append(item)
        return got


def _all_tasks(base: str, tok: str) -> list[Event]:
    tasks: list[Event] = []
    cursor = ""
    while True:
        status, page = request(base, "GET", f"/api/v1/tasks?limit=100{cursor}", tok)
        assert status == 200
        tasks += page["items"]
        if not page["cursor"]:
            return tasks
        cursor = f"&cursor={page['cursor']}"


def _history(base: str, tok: str, task: str) -> list[Event]:
    status, body = request(base, "GET", f"/api/v1/tasks/{task}/history?limit=100", tok)
    assert status == 200 and body["cursor"] is None
    items: list[Event] = body["items"]
    return items


def test_burst_crash_and_resume_gives_each_history_event_once_in_order(tmp_path: Path) -> None:
    first = Server(tmp_path).start()
    admin, alice, bob = (token(tmp_path, u, r) for u, r in (("admin", "admin"), ("alice", "operations"),
                                                             ("bob", "operations")))
    feed = Feed(first.base, alice)
    acknowledged = 0
    stop = threading.Event()
    lock = threading.Lock()

    def act(tok: str, path: str, body: Any = None) -> None:
        nonlocal acknowledged
        status, _ = request(first.base, "POST", path, tok, body)
        if status in (200, 201):
            with lock:
                acknowledged += 1

    def writer(k: int) -> None:
        n = 0
        while not stop.is_set():
            task = f"ev-{k}-{n}"
            n += 1
            try:
                act(admin, "/api/v1/tasks", {"id": task, "name": "Burst", "candidateUsers": ["alice", "bob"],
                                             "candidateGroups": ["ops"]})
                act(alice, f"/operations-manager/tasks/{task}/claim")  # direct: one write, event kept in the item
                act(alice, f"/operations-manager/tasks/{task}/release")  # writes that event out (deferred)
                act(bob, f"/operations-manager/tasks/{task}/claim")
                act(admin, f"/operations-manager/tasks/{task}/assign", {"userId": "alice"})
                act(alice, f"/api/v1/tasks/{task}/action/reassign", {"newStepUserIds": ["alice", "bob"]})
                act(bob, f"/operations-manager/tasks/{task}/claim")  # pending again, for a while
                if n % 2:
                    act(bob, f"/api/v1/tasks/{task}/action/complete", {"comment": "done"})
                else:
                    act(admin, f"/api/v1/tasks/{task}/action/abandon", {})
            except OSError:
                return

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    before = feed.until(lambda got: len(got) >= 60)  # events flowing while the burst goes on (5 are the demo's)
    assert first.proc is not None
    first.proc.kill()  # SIGKILL, mid-burst
    first.proc.wait(10)
    stop.set()
    for t in threads:
        t.join(60)
    before += feed.until(lambda got: False)  # what was still in flight, up to the broken connection
    assert acknowledged >= 50

    second = Server(tmp_path).start()
    try:
        tasks = [t for t in _all_tasks(second.base, admin) if t["id"].startswith("ev-")]
        expected = {t["id"]: _history(second.base, admin, t["id"]) for t in tasks}
        assert all([h["version"] for h in hist] == list(range(1, len(hist) + 1)) for hist in expected.values())
        wanted = {h["id"] for hist in expected.values() for h in hist}
        resumed = Feed(second.base, alice, before[-1][0])
        seen = {i for i, _ in before}
        after = resumed.until(lambda got: wanted <= seen | {i for i, _ in got})
        messages = before + after
        ids = [i for i, _ in messages]
        assert len(ids) == len(set(ids)), "an event was sent twice"
        assert wanted <= set(ids), f"missing: {sorted(wanted - set(ids))[:5]}"
        for i, event in messages:
            assert i == event["id"]
            validate(event)
        for task, hist in expected.items():
            mine = [e for _, e in messages if e["subject"] == task]
            assert [e["id"] for e in mine] == [h["id"] for h in hist], task
            assert [e["type"] for e in mine] == [f"baton.task.{h['action']}" for h in hist]
        assert any(h["action"] == "claim" and h["actor"] == "alice" for hist in expected.values() for h in hist)
    finally:
        second.stop()


def test_feed_is_per_tenant_and_needs_a_token(tmp_path: Path, ddb_local: DynamoDBLocal) -> None:
    srv = Server(tmp_path, *on_engine(ddb_local)).start()
    try:
        status, _ = request(srv.base, "GET", "/local/events")
        assert status == 401
        assert request(srv.base, "GET", "/local/events", "garbage")[0] == 401
        other_admin = token(tmp_path, "root", "admin", tenant="other")
        assert request(srv.base, "POST", "/api/v1/tasks", other_admin, {"id": "o1", "name": "Other"})[0] == 201
        feed = Feed(srv.base, other_admin)
        got = feed.until(lambda got: any(e["subject"] == "o1" for _, e in got))
        assert got and all(e["source"] == "baton/other" for _, e in got)  # the demo tenant's events are not here
        # An id the feed does not know (here: another tenant's) replays everything of the caller's tenant.
        alice = token(tmp_path, "alice", "operations")
        workflow = Feed(srv.base, alice, got[-1][0])
        replay = workflow.until(lambda got: len(got) >= 5)
        assert [e["subject"] for _, e in replay] == [f"task-{n}" for n in range(1, 6)]
    finally:
        srv.stop()
