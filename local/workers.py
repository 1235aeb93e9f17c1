"""The functions in worker processes, for running requests truly concurrently.

A Lambda execution environment handles one request at a time (Powertools keeps the request
being handled on its resolver), and concurrency comes from many environments. The local server
does the same: `Workers` runs N processes, forked warm from a parent that has imported the
functions, and each request goes to an idle one. The functions themselves know nothing of it.

A worker that dies (killed, out of memory) is replaced, as Lambda replaces a crashed
environment: the request it was running fails alone (`WorkerDied`, which the server answers
as API Gateway answers a crashed function: 500 `{"message": "Internal Server Error"}`), and every
other request, running or to come, goes on. Replacements are forked by a spawner: one process
forked at start, while this process has no other thread yet, that does nothing but fork
workers. So every worker is a copy of a single-threaded, warm process, never of a server with
request threads holding locks at the moment of the fork."""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import socket
import sys
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

from baton.routes import FAMILIES
from baton_local.events import LambdaContext
from baton_local.server import FunctionCrashed, Handler, load_handlers

WORKERS = 8
PR_SET_PDEATHSIG = 1  # prctl(2): the signal a process gets when its parent dies
_loaded: dict[str, Handler] = {}


class WorkerDied(FunctionCrashed):
    """The worker running a request died before it answered (only that request fails)."""


def _die_with_parent(parent: int) -> None:
    """This process ends with its parent (SIGKILL: it has no state of its own to save), so that
    a `baton serve` killed outright leaves nothing behind waiting for requests forever."""
    if sys.platform == "linux":
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the line above
        os._exit(0)


def _fresh_worker() -> None:
    """In a new worker: its own DynamoDB client, never the parent's pooled connections. (Its
    thread pools are its own already: storage.threads keeps one per process id.)"""
    from baton.storage.dynamo import _client

    _client.cache_clear()


def _invoke(family: str, event: dict[str, Any]) -> dict[str, Any]:
    if not _loaded:
        _loaded.update(load_handlers())  # already imported in the parent: only a lookup
    return _loaded[family](event, LambdaContext())


def _serve(conn: Connection) -> None:
    """A worker's loop: a call (function, arguments) in, its result (or exception) out."""
    _fresh_worker()
    while True:
        try:
            fn, args = conn.recv()
        except (EOFError, OSError):  # the server closed the pool, or is gone
            return
        try:
            answer: tuple[bool, Any] = (True, fn(*args))
        except Exception as err:  # noqa: BLE001 - handed back to the caller, as a pool would
            answer = (False, err)
        conn.send(answer)


def _spawner(control: socket.socket, server: int) -> None:
    """The spawner's loop: one byte in, one worker forked; its pid and the server's end of the
    worker's connection sent back (the descriptor passed over the UNIX socket)."""
    _die_with_parent(server)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps the workers that end
    me = os.getpid()
    while control.recv(1):
        ours, theirs = socket.socketpair()
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                control.close()
                ours.close()
                _die_with_parent(me)
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                _serve(Connection(theirs.detach()))
            except BaseException:  # noqa: BLE001 - a worker never returns into the server's code
                code = 1
            finally:
                os._exit(code)
        theirs.close()
        socket.send_fds(control, [pid.to_bytes(8, "little")], [ours.fileno()])
        ours.close()


class _Worker:
    def __init__(self, pid: int, conn: Connection) -> None:
        self.pid, self.conn = pid, conn


class Workers:
    """`size` worker processes, forked warm from this one (which imports the functions first);
    `handlers()` are the families' handlers, each call served by one idle worker; `call` runs
    any module-level function in one."""

    def __init__(self, size: int = WORKERS) -> None:
        from baton.edge import coldstart

        load_handlers()
        coldstart.resume()  # the parent answers no request itself: its collector runs, imports frozen
        self.size = size
        self._control, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        server = os.getpid()
        spawner = os.fork()
        if spawner == 0:
            code = 0
            try:
                self._control.close()
                signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the server's to handle
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                _spawner(theirs, server)
            except BaseException:  # noqa: BLE001 - never return into the server's code
                code = 1
            finally:
                os._exit(code)
        theirs.close()
        self.spawner = spawner
        self._spawn_lock = threading.Lock()
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._all: dict[int, _Worker] = {}
        self.replaced = 0  # workers that died and were replaced
        self._closed = False
        for _ in range(size):
            self._idle.put(self._spawn())

    def _spawn(self) -> _Worker:
        with self._spawn_lock:
            self._control.sendall(b"+")
            msg, fds, _, _ = socket.recv_fds(self._control, 8, 1)
            if len(msg) != 8 or len(fds) != 1:
                raise RuntimeError("the worker spawner is gone")
            worker = _Worker(int.from_bytes(msg, "little"), Connection(fds[0]))
            self._all[worker.pid] = worker
            return worker

    @property
    def pids(self) -> list[int]:
        """The live workers' process ids."""
        return sorted(self._all)

    def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        """`fn(*args)` in an idle worker (`fn` a module-level function); its exception re-raised
        here; WorkerDied if the worker died meanwhile (it is replaced)."""
        worker = self._idle.get()
        while worker.conn.poll():  # an idle worker says nothing: this one died while idle
            self._replace(worker)
            worker = self._idle.get()
        try:
            worker.conn.send((fn, args))
            ok, value = worker.conn.recv()
        except (EOFError, OSError):
            self._replace(worker)
            raise WorkerDied(f"worker {worker.pid} died while handling a request") from None
        except BaseException:
            self._replace(worker)  # a half-finished exchange: that worker's answer is never read
            raise
        self._idle.put(worker)
        if not ok:
            raise value
        return value

    def _replace(self, worker: _Worker) -> None:
        self._all.pop(worker.pid, None)
        worker.conn.close()
        with contextlib.suppress(ProcessLookupError):
            os.kill(worker.pid, signal.SIGKILL)  # dead already, or never to be trusted again
        if self._closed:
            return
        self.replaced += 1
        self._idle.put(self._spawn())

    def handler(self, family: str) -> Handler:
        def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
            result: dict[str, Any] = self.call(_invoke, family, event)
            return result

        return handle

    def handlers(self) -> dict[str, Handler]:
        return {family: self.handler(family) for family in FAMILIES}

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._control.close()  # the spawner ends, and its workers with it (their parent-death signal)
        for worker in list(self._all.values()):
            worker.conn.close()
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.spawner, 0)

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
