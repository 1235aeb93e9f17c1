"""`baton serve`'s Step Functions callbacks: the stream consumer that delivers them
(baton.tasks.callbacks) to the endpoint given by `--states-endpoint` (or $BATON_STATES_ENDPOINT),
e.g. Step Functions Local.

As in AWS (a stream-fed function with retries and a dead-letter queue): every callback is tried
until it is delivered, with exponential backoff on the project's clock, and after
`MAX_ATTEMPTS` it goes to the dead-letter file (`callbacks-dead-letter.jsonl` in the state
directory, without its token) and is logged. Nothing is lost across a restart: the reader reads
the stream again, and the markers of delivered callbacks make the replay call nothing."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from baton import clock
from baton.tasks.callbacks import Callback, Deliverer, callbacks_of

MAX_ATTEMPTS = 8
FIRST_BACKOFF = 0.5  # seconds; doubled after each failure, at most MAX_BACKOFF
MAX_BACKOFF = 60.0
DEAD_LETTER = "callbacks-dead-letter.jsonl"

log = logging.getLogger("baton.local.callbacks")


@dataclass
class Pending:
    callback: Callback
    attempts: int = 0
    next_at: float = 0.0


class CallbackConsumer:
    def __init__(self, deliverer: Deliverer, state_dir: Path | None = None) -> None:
        self.deliverer = deliverer
        self.dead_letter = state_dir / DEAD_LETTER if state_dir else None
        self.pending: list[Pending] = []
        self.outcomes: list[tuple[Callback, str]] = []  # what happened to each (tests, diagnostics)

    def __call__(self, records: list[dict[str, Any]]) -> None:
        self.pending += [Pending(cb) for _, cb in callbacks_of(records)]
        now = clock.current().timestamp()
        waiting: list[Pending] = []
        blocked: set[tuple[str, str]] = set()  # a task whose earlier callback waits: keep its order
        for item in self.pending:
            key = (item.callback.tenant, item.callback.task_id)
            if key in blocked or item.next_at > now:
                waiting.append(item)
                blocked.add(key)
                continue
            try:
                self.outcomes.append((item.callback, self.deliverer.deliver(item.callback)))
            except (BotoCoreError, ClientError) as err:
                item.attempts += 1
                if item.attempts >= MAX_ATTEMPTS:
                    self._give_up(item, err)
                    continue
                item.next_at = now + min(MAX_BACKOFF, FIRST_BACKOFF * 2 ** (item.attempts - 1))
                waiting.append(item)
                blocked.add(key)
        self.pending = waiting

    def _give_up(self, item: Pending, err: Exception) -> None:
        cb = item.callback
        log.error("callback %s of task %s (version %s) failed %s times: dead-lettered (%s)", cb.kind, cb.task_id,
                  cb.version, item.attempts, type(err).__name__)
        self.outcomes.append((cb, "dead-letter"))
        if self.dead_letter is not None:
            with self.dead_letter.open("a") as out:
                out.write(json.dumps({"tenant": cb.tenant, "taskId": cb.task_id, "version": cb.version,
                                      "kind": cb.kind, "error": type(err).__name__}) + "\n")
