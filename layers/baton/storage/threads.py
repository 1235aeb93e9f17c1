"""The process's thread pools: made at their first use and kept, one per process id (a forked
process, such as a worker of local/workers.py, holds its parent's pool objects but none of their
threads, and work handed to those would wait forever). Nothing is made at import."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache


def thread_pool(name: str, size: int) -> ThreadPoolExecutor:
    """This process's pool of `size` threads called `name`."""
    return _pools(os.getpid(), name, size)


@lru_cache(maxsize=16)
def _pools(_pid: int, name: str, size: int) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(size, thread_name_prefix=name)
