"""A non-atomic bulk request's writes, in chunks (tasks.bulk).

Each task is decided as its single action decides it (the same TaskService method, from the
request's one read), and its writes are staged through the atomic path's unit of work
(tasks.unit_of_work.Batch): a chunk of up to CHUNK_TASKS tasks (FIRST_CHUNK_TASKS the first) and
100 items is ONE TransactWriteItems, each task still its own conditional writes of its task item
and history event (a claim's held in its task item, as `lastEvent`: `BulkRepository.hold_claims`),
and one change per user item for the whole chunk (a user's load changed by the chunk's sum, its
capacity asserted for that sum: `load <= capacity - n`; its memberships checked once).
The chunks share the caller's load item, so they are written one after another, each while the
next one is decided (on what the one in flight writes: decided again if it is refused). The next
is decided once the one in flight has made its request (botocore's serializing and signing done,
`storage.wire.when_signed`): the two threads then never want the GIL at once, one decides while the
other waits for DynamoDB (competing, each hand-over of the GIL cost both threads CPU and the write
its turn: about 8 ms of a 66 ms request on the latency model).

A chunk is written as a whole or not at all, and a refused one changes nothing, so every task's
result is exactly what its single action gives (the non-atomic semantics: one task's refusal
never fails another):
- refused by a task's own item (it changed since the read: taken by someone else meanwhile), the
  chunk is decided again without that task and written again (at most CHUNK_RETRIES times), and
  that task takes its single action from its read (its condition fails, it is decided on the task
  as it now is: 409 `taken`, or done);
- refused by a user's item (its capacity reached meanwhile, a membership, an absence, a case's
  separation of duties), a conflict or a fault of DynamoDB, its tasks take their single actions one
  after another, in order: as many as the user can still carry succeed, as alone.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, NamedTuple

from baton.errors import BatonError
from baton.storage import wire
from baton.storage.dynamo import MAX_TRANSACTION_ITEMS, Dynamo
from baton.tasks.domain import AtomicRefused, Person, Task
from baton.tasks.repository import TaskRepository
from baton.tasks.unit_of_work import Batch, UnitOfWork

# 100 claims: 2 transactions, 40 + 60 (a claim is 1 item, its event held in its task item:
# `hold_claims`; plus 1-2 for the caller; an action of 2 or 3 items a task fills 100 items first).
# The first is smaller so that writing starts early: deciding the second (60 tasks) takes about as
# long as the first's write (measured on the latency model: docs/decisions.md, "The bulk claim's
# event in its task item").
FIRST_CHUNK_TASKS = 40
CHUNK_TASKS = 98
CHUNK_RETRIES = 2  # a chunk decided again without a task whose own item refused it, then task by task
BATCH_GET_KEYS = 100


@dataclass
class ItemResult:
    task_id: str
    status: int
    task: Task | None = None
    error: BatonError | None = None


class SideBySide(Dynamo):
    """The table, its BatchGetItems of more than 100 keys read in even parts at once in `pool`."""

    def __init__(self, db: Dynamo, pool: ThreadPoolExecutor) -> None:
        super().__init__(db.client, db.table)
        self.pool = pool

    def batch_get(self, keys: Iterable[dict[str, str]]) -> list[dict[str, Any]]:
        keys = list(keys)
        parts = -(-len(keys) // BATCH_GET_KEYS)
        if parts < 2:
            return super().batch_get(keys)
        size, read = -(-len(keys) // parts), super().batch_get
        reads = [self.pool.submit(read, keys[i:i + size]) for i in range(0, len(keys), size)]
        return [item for read in reads for item in read.result()]


class BulkRepository(TaskRepository):
    """The repository of one bulk request: every task and user read up front, and each task's read
    kept, so that a task can be decided again from it (`first`): a chunk decided again, or a task
    taken alone."""

    prefetched: dict[str, Task | None]
    hold_claims = True  # a claim is then 1 item, not 2: 100 claims in 2 transactions, not 3

    def prefetch(self, tenant: str, task_ids: Sequence[str], user_ids: Iterable[str]) -> None:
        super().prefetch(tenant, task_ids, user_ids)
        self.prefetched = dict(self._first)

    def first(self, task_id: str) -> None:
        """The task's next read is the request's read of it."""
        self._first[task_id] = self.prefetched[task_id]


class _Saved(NamedTuple):
    """What deciding changes in the repository: the users' loads as the staged writes leave them,
    and who turned out not to be a directory user."""

    people: dict[str, Person]
    absent: set[str]


class _Chunk(NamedTuple):
    ids: list[str]
    batch: Batch
    results: dict[str, ItemResult]  # as decided: 200 with the task after, or the refusal
    saved: _Saved  # the repository before it was decided


class Chunks:
    """The writes of one non-atomic bulk request, chunk by chunk. `step`: the task's single action
    (reading through `tasks`); `pool`: where a chunk is written while the next is decided (None:
    each written at once, as with moto, which is not thread-safe)."""

    def __init__(self, db: Dynamo, tasks: BulkRepository, step: Callable[[str], Task],
                 pool: ThreadPoolExecutor | None) -> None:
        self.db, self.tasks, self.step, self.pool = db, tasks, step, pool
        self.results: dict[str, ItemResult] = {}
        self.planned = 0  # chunks decided so far

    def run(self, task_ids: Sequence[str]) -> list[ItemResult]:
        pending = deque(task_ids)
        sent: _Chunk | None = None
        written: Future[None] | None = None
        while pending or sent is not None:
            chunk = self._plan(pending) if pending else None  # decided while the last one is written
            if sent is not None and written is not None and not self._settle(sent, written):
                if chunk is not None:  # decided on writes that were refused: decide it again
                    pending.extendleft(reversed(chunk.ids))
                sent = None
                continue
            sent = written = None
            if chunk is None:
                continue
            written = self._write(chunk.batch)
            if self.pool is None:
                self._settle(chunk, written)
                written = None
            else:
                sent = chunk
        return [self.results[t] for t in task_ids]

    # ---- deciding --------------------------------------------------------------------------
    def _plan(self, pending: deque[str]) -> _Chunk:
        """Decide the next tasks of `pending` (taking them off it) into one chunk's staged writes."""
        batch = Batch(self.db)
        self.tasks.uow = batch
        saved = self._save()
        ids: list[str] = []
        results: dict[str, ItemResult] = {}
        limit = FIRST_CHUNK_TASKS if not self.planned else CHUNK_TASKS
        self.planned += 1
        while pending and len(ids) < limit:
            task_id = pending[0]
            mark = (list(batch.ops), list(batch.owners), list(batch.whys), self._save())
            self.tasks.first(task_id)
            try:
                result = ItemResult(task_id, 200, self.step(task_id))
            except BatonError as err:  # refused: whatever it staged is taken back
                self._undo(batch, mark)
                result = ItemResult(task_id, err.status, error=err)
            if len(batch.ops) > MAX_TRANSACTION_ITEMS:  # the next chunk's first task
                self._undo(batch, mark)
                break
            pending.popleft()
            ids.append(task_id)
            results[task_id] = result
        return _Chunk(ids, batch, results, saved)

    def _save(self) -> _Saved:
        return _Saved(dict(self.tasks.people), set(self.tasks.absent))

    def _restore(self, saved: _Saved) -> None:
        self.tasks.people.clear()
        self.tasks.people.update(saved.people)
        self.tasks.absent.clear()
        self.tasks.absent.update(saved.absent)

    def _undo(self, batch: Batch, mark: tuple[list, list, list, _Saved]) -> None:  # type: ignore[type-arg]
        batch.ops, batch.owners, batch.whys, saved = mark
        self._restore(saved)

    # ---- writing ---------------------------------------------------------------------------
    def _write(self, batch: Batch) -> Future[None]:
        if self.pool is not None and batch.ops:
            # the next chunk is decided once this one's request is made: the two threads then never
            # want the GIL at once (each hand-over costs both CPU), one decides while the other waits
            signed = threading.Event()

            def commit() -> None:
                with wire.when_signed(signed.set):
                    batch.commit()

            written = self.pool.submit(commit)
            written.add_done_callback(lambda _: signed.set())
            signed.wait()
            return written
        done: Future[None] = Future()
        try:
            batch.commit()
            done.set_result(None)
        except (AtomicRefused, BatonError) as failure:
            done.set_exception(failure)
        return done

    def _settle(self, chunk: _Chunk, written: Future[None]) -> bool:
        """The chunk's results once it is written (True); refused (False), nothing of it was
        written: its tasks are taken again (`_fallback`) from the repository as before it."""
        try:
            written.result()
        except (AtomicRefused, BatonError) as failure:
            self._restore(chunk.saved)
            self._fallback(chunk, failure)
            return False
        self.results.update(chunk.results)
        return True

    def _fallback(self, chunk: _Chunk, failure: Exception) -> None:
        """A refused chunk: without each task whose own item refused it, decided and written
        again (at most CHUNK_RETRIES times); those tasks, and all of them when a user's item
        refused it, take their single actions one after another, in order."""
        rest, alone, batch = list(chunk.ids), set[str](), chunk.batch
        for _ in range(CHUNK_RETRIES):
            own = _own(batch, failure)
            if own is None or own not in rest:
                break
            rest.remove(own)
            alone.add(own)
            if not rest:
                break
            retry = self._plan(deque(rest))
            try:
                self._write(retry.batch).result()
            except (AtomicRefused, BatonError) as again:
                self._restore(retry.saved)
                failure, batch = again, retry.batch
                continue
            self.results.update(retry.results)
            rest = [t for t in rest if t not in retry.results]
            break
        # what is left (a user's item refused it, or it was refused again and again) goes alone too
        self.tasks.uow = UnitOfWork(self.db)
        for task_id in chunk.ids:
            if task_id in alone or task_id in rest:
                self.results[task_id] = self._alone(task_id)

    def _alone(self, task_id: str) -> ItemResult:
        """The task's single action, from the request's read of it (a task changed since fails
        its write's condition and is decided again on the task as it now is)."""
        self.tasks.first(task_id)
        try:
            return ItemResult(task_id, 200, self.step(task_id))
        except BatonError as err:
            return ItemResult(task_id, err.status, error=err)


def _own(batch: Batch, failure: Exception) -> str | None:
    """The task whose own item (task, event, queue entry: a Put or Delete) refused the chunk; None
    when a user's item refused it (a check or change of a user, shared by the chunk's tasks) or it
    was not a condition."""
    if not isinstance(failure, AtomicRefused) or failure.index is None or failure.index >= len(batch.ops):
        return None
    return failure.task_id if batch.ops[failure.index].kind in ("Put", "Delete") else None
