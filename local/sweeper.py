"""The escalation sweeper under `baton serve`: a thread running the sweep of `baton.tasks.sweeper`
(the code the AWS function runs) when a step is due, and in full every `full_every` seconds.

The table's stream tells it when steps are due: every task item written with a timer (the timer
index attributes, `timers.timer_attributes`) names its next due time, and the thread keeps the
earliest ones it has seen. It looks at the clock every `interval` seconds (no DynamoDB call) and
sweeps once a known step is due, so a step fires within about `interval` plus one sweep of its
due time; the full sweep every `full_every` seconds catches what the stream did not show (timers
written before a restart, a feed that fell behind) at the cost of one sweep, 32 shard Queries per
open hour, instead of one every `interval`. With the moto fallback the server's lock is held
around each sweep."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from typing import Any

from baton import clock
from baton.storage.dynamo import Dynamo
from baton.tasks.sweeper import Sweeper
from baton.tasks.timers import due_in_record

log = logging.getLogger("baton.sweeper")
INTERVAL = 0.5
FULL_EVERY = 5.0


class SweeperThread:
    def __init__(self, db: Dynamo, interval: float = INTERVAL, full_every: float = FULL_EVERY,
                 lock: contextlib.AbstractContextManager[Any] | None = None) -> None:
        self.sweeper = Sweeper(db)
        self.interval = interval
        self.full_every = full_every
        self.lock = lock or contextlib.nullcontext()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="baton-sweeper", daemon=True)
        self.sweeps = 0
        self.known: set[str] = set()  # due times of steps the stream showed, not yet swept
        self.known_lock = threading.Lock()

    def start(self) -> SweeperThread:
        self.thread.start()
        return self

    def __call__(self, records: list[dict[str, Any]]) -> None:
        """A stream consumer: note the due time of every timer a written item carries."""
        found = {due for due in map(due_in_record, records) if due is not None}
        if found:
            with self.known_lock:
                self.known |= found

    def _due(self) -> bool:
        now = clock.stamp()
        with self.known_lock:
            return any(due <= now for due in self.known)

    def _run(self) -> None:
        last_full = float("-inf")
        while not self.stop.is_set():
            full = time.monotonic() - last_full >= self.full_every
            if full or self._due():
                now = clock.stamp()
                try:
                    with self.lock:
                        self.sweeper.sweep()
                    self.sweeps += 1
                    with self.known_lock:  # what was due is handled (a failed one waits for a full sweep)
                        self.known = {due for due in self.known if due > now}
                except Exception:  # noqa: BLE001 - a sweep that failed is retried at the next tick
                    log.exception("escalation sweep failed")
                if full:
                    last_full = time.monotonic()
            self.stop.wait(self.interval)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=10)
