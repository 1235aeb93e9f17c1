"""`baton serve`'s router (API.md "People"): the stream consumer that pushes the tasks of groups
with a routing strategy to their members (baton.tasks.routing), as the stream-fed router
function does in AWS (functions/router.py).

The stream reader hands every batch of records to `RouterConsumer`, which keeps what they may
need routed (baton.tasks.stream.routing_triggers) and routes it on its own thread, so the event
feed never waits for routing. Batches that arrived while the router was busy are routed together
(each task and each group's queue once; `Router.handle` reads and writes a batch's tasks
together, its writes `workers` at a time). Routing decides on the state it reads, so a record
replayed after a restart costs a read and changes nothing that is already settled."""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
from typing import Any

from baton.storage.dynamo import Dynamo
from baton.tasks.routing import Router
from baton.tasks.stream import Trigger, routing_triggers

log = logging.getLogger("baton.local.router")


class RouterConsumer:
    def __init__(self, db: Dynamo, lock: contextlib.AbstractContextManager[Any] | None = None) -> None:
        self.router = Router(db, workers=1 if lock is not None else None)  # moto: one write at a time
        self.lock = lock or contextlib.nullcontext()
        self.pending: queue.Queue[list[Trigger]] = queue.Queue()
        self.thread = threading.Thread(target=self._run, name="baton-router", daemon=True)
        self.thread.start()

    def __call__(self, records: list[dict[str, Any]]) -> None:
        """Every batch the reader reads, and an empty one on each idle turn (about every second):
        what the records trigger, then the offers that have expired meanwhile. A record that
        cannot be read is skipped (logged), as the router function skips it in AWS."""
        found: dict[Trigger, None] = {}
        for record in records:
            try:
                found.update(dict.fromkeys(routing_triggers([record])))
            except (KeyError, TypeError, ValueError, AttributeError):
                log.warning("router: stream record skipped: it cannot be routed", exc_info=True)
        self.pending.put(list(found))

    def _run(self) -> None:
        while True:
            found = dict.fromkeys(self.pending.get())
            with contextlib.suppress(queue.Empty):  # what arrived meanwhile: routed with it
                while True:
                    found.update(dict.fromkeys(self.pending.get_nowait()))
            try:
                with self.lock:
                    self.router.handle(found)
                    self.router.sweep()
            except Exception:  # a fault routes nothing this time; the next trigger tries again
                log.exception("router: routing failed")
