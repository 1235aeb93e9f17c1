"""DynamoDB as a latency model: each call answered after a fixed service time, without CPU work.

DynamoDB Local on this machine's two shared cores is CPU-bound (a JVM evaluating every condition
and index on the cores Baton runs on), so it cannot show what running writes concurrently saves:
real DynamoDB serves them in parallel on its own machines, and the caller only waits. This model
answers like that: `LatencyModel` hooks a botocore client's `before-send` (botocore still builds,
signs and serializes every request and parses every answer, as in benchmarks/stub.py) and
answers each call with the response DynamoDB Local gave to it when it was recorded, after
sleeping `service_ms` (a sleep holds no CPU and releases the GIL, as a socket read does). It counts
the calls in flight at once: how wide a request really goes.

`record` runs a request on the real engine and keeps its responses, per operation in call order;
`replay` answers the same request from them. Nothing is stored, so a replay can run again and
again: it times Baton's own work plus the waits, at the width Baton really reaches."""

from __future__ import annotations

import json
import statistics
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

# DynamoDB's single-digit-millisecond service time for one call, as seen from Lambda in the same
# region (a TransactWriteItems of a few items, a consistent BatchGetItem, a Query page).
SERVICE_MS = 8.0

Cassette = dict[str, list[bytes]]  # operation -> response bodies, in call order


def _op(request: Any) -> str:
    target = request.headers["X-Amz-Target"]
    return str(target.decode() if isinstance(target, bytes) else target).rsplit(".", 1)[-1]


@contextmanager
def record(client: Any) -> Iterator[Cassette]:
    """The responses of every call `client` makes inside the block, per operation in call order."""
    cassette: Cassette = defaultdict(list)
    lock = threading.Lock()

    def keep(parsed: dict[str, Any], model: Any, **_: Any) -> None:
        body = json.dumps({k: v for k, v in parsed.items() if k != "ResponseMetadata"}).encode()
        with lock:
            cassette[model.name].append(body)

    client.meta.events.register("after-call.dynamodb", keep)
    try:
        yield cassette
    finally:
        client.meta.events.unregister("after-call.dynamodb", keep)


class _Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Any:
        yield self.body


class LatencyModel:
    """Answers `client`'s calls from a cassette after `service_ms`, counting the calls in flight."""

    def __init__(self, client: Any, service_ms: float = SERVICE_MS) -> None:
        self.client = client
        self.service_s = service_ms / 1000
        self.lock = threading.Lock()
        self.answers: dict[str, Iterator[bytes]] = {}
        self.in_flight = 0
        self.max_in_flight = 0
        self.calls = 0

    def _send(self, request: Any, **_: Any) -> Any:
        from botocore.awsrequest import AWSResponse

        with self.lock:
            body = next(self.answers[_op(request)])
            self.calls += 1
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        time.sleep(self.service_s)  # DynamoDB's service time: waiting, not working
        with self.lock:
            self.in_flight -= 1
        headers = {"Content-Type": "application/x-amz-json-1.0", "Content-Length": str(len(body)),
                   "x-amzn-RequestId": "latency-model"}
        return AWSResponse(request.url, 200, headers, _Raw(body))  # type: ignore[arg-type]

    @contextmanager
    def replay(self, cassette: Cassette) -> Iterator[LatencyModel]:
        """Answer the calls inside the block from `cassette` (each operation's answers in order)."""
        self.answers = {op: iter(bodies) for op, bodies in cassette.items()}
        self.in_flight = self.max_in_flight = self.calls = 0
        self.client.meta.events.register_first("before-send.dynamodb", self._send)
        try:
            yield self
        finally:
            self.client.meta.events.unregister("before-send.dynamodb", self._send)


def timed(model: LatencyModel, cassette: Cassette, request: Callable[[], None], runs: int) -> dict[str, Any]:
    """`request` replayed `runs` times: median wall time, median CPU time of this process, its
    calls and the most in flight at once."""
    walls, cpus, widths, calls = [], [], [], 0
    for _ in range(runs):
        with model.replay(cassette):
            cpu, wall = time.process_time(), time.perf_counter()
            request()
            walls.append((time.perf_counter() - wall) * 1000)
            cpus.append((time.process_time() - cpu) * 1000)
            widths.append(model.max_in_flight)
            calls = model.calls
    return {"ms": round(statistics.median(walls), 1), "cpu_ms": round(statistics.median(cpus), 1),
            "calls": calls, "max_in_flight": max(widths)}
