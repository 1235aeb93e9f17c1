"""The local server's worker processes (baton_local.workers): forked from a process that has
already used its thread pools, each worker still gets working ones of its own; a worker killed
in the middle of a request fails that request alone and is replaced (issue 23, item 3)."""

from __future__ import annotations

import os
import signal
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

import pytest

from baton.storage.dynamo import _pool
from baton_local.workers import WorkerDied, Workers


def _merge_in_worker() -> int:
    result: int = _pool().submit(lambda: 7).result(timeout=10)
    return result


def test_a_worker_gets_its_own_merge_threads() -> None:
    assert _pool().submit(lambda: 1).result() == 1  # the parent's pool has started its threads
    with Workers(1) as workers:
        assert workers.call(_merge_in_worker) == 7


def _hold(started: int, go: int) -> int:
    """Say which worker runs this, then wait for a byte (the test decides when it ends)."""
    os.write(started, os.getpid().to_bytes(8, "little"))
    os.read(go, 1)
    return os.getpid()


def _fail() -> None:
    raise ValueError("the function's own error")


def test_a_killed_worker_fails_its_request_alone_and_is_replaced() -> None:
    started_r, started_w = os.pipe()  # made before the fork: every worker holds them
    go_r, go_w = os.pipe()
    try:
        with Workers(2) as workers, ThreadPoolExecutor(2) as threads:
            first_pids = workers.pids
            calls = [threads.submit(workers.call, _hold, started_w, go_r) for _ in range(2)]
            running = [int.from_bytes(os.read(started_r, 8), "little") for _ in range(2)]
            assert sorted(running) == first_pids  # both workers busy with a request each
            victim, survivor = running
            os.kill(victim, signal.SIGKILL)
            # The victim's request fails while the survivor's still waits (a byte written any
            # earlier could be read by the victim on its way out).
            died, _ = wait(calls, timeout=60, return_when=FIRST_COMPLETED)
            assert len(died) == 1 and isinstance(next(iter(died)).exception(), WorkerDied)
            os.write(go_w, b"x")  # lets the survivor's request finish
            outcomes: list[object] = []
            for call in calls:
                try:
                    outcomes.append(call.result(timeout=60))
                except WorkerDied as died:
                    outcomes.append(died)
            assert sum(isinstance(o, WorkerDied) for o in outcomes) == 1  # the victim's request alone
            assert survivor in outcomes  # the other request answered
            assert workers.replaced == 1 and victim not in workers.pids and len(workers.pids) == 2
            # the pool serves on, on every worker, replacement included
            assert set(threads.map(lambda _: workers.call(_hold_free), range(8))) <= set(workers.pids)
            with pytest.raises(ValueError, match="own error"):  # a function's error is not a dead worker
                workers.call(_fail)
            assert workers.replaced == 1
    finally:
        for fd in (started_r, started_w, go_r, go_w):
            os.close(fd)


def _hold_free() -> int:
    return os.getpid()
