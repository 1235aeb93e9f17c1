"""The escalation sweeper under `baton serve`: a thread running one sweep every `interval`
seconds, start to start (`baton.tasks.sweeper`, the code the AWS function runs), so a step fires
within about that long of its due time plus one sweep. With the moto fallback the server's lock is
held around each sweep."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from typing import Any

from baton.storage.dynamo import Dynamo
from baton.tasks.sweeper import Sweeper

log = logging.getLogger("baton.sweeper")
INTERVAL = 0.5


class SweeperThread:
    def __init__(self, db: Dynamo, interval: float = INTERVAL,
                 lock: contextlib.AbstractContextManager[Any] | None = None) -> None:
        self.sweeper = Sweeper(db)
        self.interval = interval
        self.lock = lock or contextlib.nullcontext()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="baton-sweeper", daemon=True)
        self.sweeps = 0

    def start(self) -> SweeperThread:
        self.thread.start()
        return self

    def _run(self) -> None:
        while not self.stop.is_set():
            started = time.monotonic()
            try:
                with self.lock:
                    self.sweeper.sweep()
                self.sweeps += 1
            except Exception:  # noqa: BLE001 - a sweep that failed is retried at the next tick
                log.exception("escalation sweep failed")
            # a sweep starts every `interval` (a long sweep, firing many steps, is followed by the next
            # at once), so a step waits at most about one interval plus one sweep
            self.stop.wait(max(0.0, self.interval - (time.monotonic() - started)))

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=10)
