"""The local server's worker processes (baton_local.workers): forked from a process that has
already used its thread pools, each worker still gets working ones of its own."""

from __future__ import annotations

from baton.storage.dynamo import _pool
from baton_local.workers import Workers


def _merge_in_worker() -> int:
    result: int = _pool().submit(lambda: 7).result(timeout=10)
    return result


def test_a_worker_gets_its_own_merge_threads() -> None:
    assert _pool().submit(lambda: 1).result() == 1  # the parent's pool has started its threads
    with Workers(1) as workers:
        assert workers.pool.submit(_merge_in_worker).result(timeout=60) == 7
