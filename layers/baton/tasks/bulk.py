"""Bulk task actions (`POST /api/v1/task-actions/{action}`): one action on up to 100 tasks.

Each task gets exactly what its single action would do (the same TaskService method, rules and
conditional writes), so each result carries the status that action would have answered. What
bulk adds is the read and the transactions: every task, the caller and the target user are read
up front in consistent BatchGetItems (100 keys each, side by side), each task's first read
answered from them; then the tasks' writes go in chunks, one TransactWriteItems a chunk with one
load change per user (tasks.bulk_chunks: a refused chunk is decided again without the task that
refused it, or taken task by task, so that one task's refusal never fails another). So a bulk
claim of 100 tasks is 2 transactions plus two BatchGetItems, whatever mix of direct and group
candidates it holds; each task still writes its own items (a claim's event held in its task item,
written out by the task's next change: docs/data-model.md).

`atomic: true` plans every task the same way but writes through a staging unit of work
(tasks.unit_of_work.Batch) and commits them all in ONE TransactWriteItems: all or none. DynamoDB takes at most 100 items
in a transaction and a task change is up to 3 of them (the task, its history event, a direct
claim's pending event) plus one membership check per user, so atomic requests take at most
`MAX_ATOMIC_TASKS` tasks; a change that also moves queue entries (a task offered to several
candidates leaves or enters their queues) takes more, and a request whose writes exceed 100
items is a 400 that says how many it needs. Any task that refuses (in planning, or its condition at write time)
makes the whole request a 409 naming the first such task (and, refused by separation of duties'
case ledger at write time, the rule, as a single task's refusal names it)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from baton.domain import Caller, require_role
from baton.errors import BadRequest, BatonError, Conflict
from baton.settings import get_settings
from baton.storage.dynamo import MAX_TRANSACTION_ITEMS, Dynamo, TransactionConflict
from baton.storage.threads import thread_pool
from baton.tasks.algorithm import MAX_ATTEMPTS
from baton.tasks.bulk_chunks import BulkRepository, Chunks, ItemResult, SideBySide
from baton.tasks.domain import AtomicRefused, Task
from baton.tasks.layout import MAX_ATOMIC_TASKS
from baton.tasks.repository import TaskRepository
from baton.tasks.service import TaskService
from baton.tasks.unit_of_work import Batch, UnitOfWork

MAX_TASKS = 100
ACTIONS = ("claim", "release", "assign", "reassign", "complete", "abandon")
WITH_USER = frozenset({"assign", "reassign"})
WITH_COMMENT = frozenset({"assign", "reassign", "complete", "abandon"})
# a request uses 2 at once (its reads side by side; a chunk written while the next is decided); no
# task of the pool waits for another, so requests served at once only queue their calls
BULK_THREADS = 4


def validate(action: str, task_ids: list[str], user_id: str | None, comment: str | None, atomic: bool) -> None:
    if action not in ACTIONS:
        raise BadRequest(f"Unknown action {action!r}: one of {', '.join(ACTIONS)}")
    if not task_ids:
        raise BadRequest("taskIds: at least one task id")
    if len(task_ids) > MAX_TASKS:
        raise BadRequest(f"taskIds: at most {MAX_TASKS} task ids per request")
    if atomic and len(task_ids) > MAX_ATOMIC_TASKS:
        raise BadRequest(f"taskIds: at most {MAX_ATOMIC_TASKS} task ids with atomic: true "
                         f"(one DynamoDB transaction holds {MAX_TRANSACTION_ITEMS} items)")
    if len(set(task_ids)) != len(task_ids):
        raise BadRequest("taskIds: each task id once")
    if (user_id is None) == (action in WITH_USER):
        raise BadRequest(f"userId is required for {action}" if user_id is None
                         else f"userId applies to assign and reassign, not {action}")
    if comment is not None and action not in WITH_COMMENT:
        raise BadRequest(f"comment applies to assign, reassign, complete and abandon, not {action}")


def _step(service: TaskService, action: str, user_id: str | None, comment: str | None
          ) -> Callable[[str], Task]:
    """The single action, as TaskService does it (a claim without its fast path: the task is read
    already, so the one-write claim has nothing to save). An assign's comment is its reason (a
    reassignment's, when the task is held)."""
    if action == "claim":
        return lambda t: service.claim(t, fast_path=False)
    if action == "release":
        return lambda t: service.release(t)
    if action == "assign":
        assert user_id is not None
        return lambda t: service.assign(t, user_id, reason=comment)
    if action == "reassign":
        assert user_id is not None
        return lambda t: service.reassign(t, [user_id], comment)[0]
    return lambda t: service.finish(t, "completed" if action == "complete" else "abandoned", comment)[0]


def _prefetched(db: Dynamo, uow: UnitOfWork, caller: Caller, task_ids: list[str], users: Iterable[str]
                ) -> TaskRepository:
    """The repository of one bulk request: every task and user read up front in one BatchGetItem,
    writing through `uow`."""
    tasks = TaskRepository(db, uow)
    tasks.prefetch(caller.tenant, task_ids, users)
    return tasks


def run(db: Dynamo, caller: Caller, action: str, task_ids: list[str], user_id: str | None = None,
        comment: str | None = None, atomic: bool = False) -> list[ItemResult]:
    validate(action, task_ids, user_id, comment, atomic)
    require_role(caller)
    users = dict.fromkeys([caller.user_id, *([user_id] if user_id else [])])
    if not atomic:
        # the reads side by side, then each chunk written while the next one is decided (tasks.bulk_chunks);
        # one after another with moto, which is not thread-safe
        # the process's bulk threads, kept (starting two each request cost over a millisecond of CPU)
        pool = thread_pool("baton-bulk", BULK_THREADS) if get_settings().bulk_workers > 1 else None
        tasks = BulkRepository(SideBySide(db, pool) if pool is not None else db)
        tasks.prefetch(caller.tenant, task_ids, users)
        step = _step(TaskService(db, caller, tasks), action, user_id, comment)
        return Chunks(db, tasks, step, pool).run(task_ids)
    for _ in range(MAX_ATTEMPTS):
        try:
            return _atomic(db, caller, action, task_ids, users, user_id, comment)
        except TransactionConflict:
            continue
    raise Conflict("These tasks are changing too fast; try again", reason="busy")


def _atomic(db: Dynamo, caller: Caller, action: str, task_ids: list[str], users: Iterable[str],
            user_id: str | None, comment: str | None) -> list[ItemResult]:
    batch = Batch(db)
    step = _step(TaskService(db, caller, _prefetched(db, batch, caller, task_ids, users)), action, user_id, comment)
    results: list[ItemResult] = []
    for task_id in task_ids:
        try:
            task = step(task_id)
        except BatonError as err:
            raise Conflict(f"Task {task_id} refused ({err.status}): {err.message}; nothing was changed",
                           reason="atomicRefused", **err.details) from None
        results.append(ItemResult(task_id, 200, task))
    try:
        batch.commit()
    except AtomicRefused as refused:
        if refused.rule is not None:  # the rule, as the single task's refusal names it (never the other person)
            raise Conflict(f"Task {refused.task_id} refused (409): {refused.rule}; nothing was changed",
                           reason="atomicRefused", rule="separation") from None
        raise Conflict(f"Task {refused.task_id or task_ids[0]} changed while the request was applied; nothing was "
                       "changed", reason="atomicRefused") from None
    return results
