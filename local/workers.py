"""The functions in worker processes, for running requests truly concurrently.

A Lambda execution environment handles one request at a time (Powertools keeps the request
being handled on its resolver), and concurrency comes from many environments. The local server
does the same: `Workers` forks N processes from a parent that has imported the functions, and
each request goes to one of them. The functions themselves know nothing of it."""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from baton.routes import FAMILIES
from baton_local.events import LambdaContext
from baton_local.server import Handler, load_handlers

WORKERS = 8
PR_SET_PDEATHSIG = 1  # prctl(2): the signal a process gets when its parent dies
_loaded: dict[str, Handler] = {}


def _fresh_worker(parent: int) -> None:
    """In a new worker: it ends with its parent (a `baton serve` killed outright leaves no
    workers behind: they would wait for requests forever); its own DynamoDB client, never the
    parent's pooled connections; and its own merge threads (a fork copies the parent's thread
    pool object but none of its threads: work handed to it would wait forever)."""
    if sys.platform == "linux":
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # no state of its own to save
    if os.getppid() != parent:  # the parent died before the line above
        os._exit(0)
    from baton.storage.dynamo import _client, _pool

    _client.cache_clear()
    _pool.cache_clear()


def _pid(_: int) -> int:
    return os.getpid()


def _invoke(family: str, event: dict[str, Any]) -> dict[str, Any]:
    if not _loaded:
        _loaded.update(load_handlers())  # already imported in the parent: only a lookup
    return _loaded[family](event, LambdaContext())


class Workers:
    """`size` worker processes, forked at once from this one (which imports the functions first,
    so that every worker starts warm); `handlers()` are the families' handlers, each call
    served by one worker."""

    def __init__(self, size: int = WORKERS) -> None:
        from baton.edge import coldstart

        load_handlers()
        coldstart.resume()  # the parent answers no request itself: its collector runs, imports frozen
        self.pool = ProcessPoolExecutor(size, mp_context=multiprocessing.get_context("fork"),
                                        initializer=_fresh_worker, initargs=(os.getpid(),))
        list(self.pool.map(_pid, range(size)))  # fork them now, before any request thread exists

    def handler(self, family: str) -> Handler:
        def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
            result: dict[str, Any] = self.pool.submit(_invoke, family, event).result()
            return result

        return handle

    def handlers(self) -> dict[str, Handler]:
        return {family: self.handler(family) for family in FAMILIES}

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
