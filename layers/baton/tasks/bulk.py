"""Bulk task actions (`POST /api/v1/task-actions/{action}`): one action on up to 100 tasks.

Each task gets exactly what its single action would do (the same TaskService method, rules and
conditional write), so each result carries the status that action would have answered. What
bulk adds is the read: every task, the caller and the target user are read in one consistent
BatchGetItem up front, and each task's first read is answered from it (tasks.repository.BulkTaskRepository). A task
that changed in between fails its write's condition and takes the single action's own path
(re-read, re-check, retry). So a bulk claim of 100 tasks is 100 write requests plus two
BatchGetItems (100 keys each), whatever mix of direct and group candidates it holds.

`atomic: true` plans every task the same way but records the writes instead of making them,
then makes them all in ONE TransactWriteItems: all or none. DynamoDB takes at most 100 items
in a transaction and a task change is up to 3 of them (the task, its history event, a direct
claim's pending event) plus one membership check per user, so atomic requests take at most
`MAX_ATOMIC_TASKS` tasks; a change that also moves queue entries (a task offered to several
candidates leaves or enters their queues) takes more, and a request whose writes exceed 100
items is a 400 that says how many it needs. Any task that refuses (in planning, or its condition at write time)
makes the whole request a 409 naming the first such task."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from baton.domain import Caller, require_role
from baton.errors import BadRequest, BatonError, Conflict
from baton.storage.dynamo import MAX_TRANSACTION_ITEMS, Dynamo, TransactionConflict
from baton.tasks.domain import AtomicRefused, Task
from baton.tasks.repository import MAX_ATOMIC_TASKS, BulkTaskRepository
from baton.tasks.service import MAX_ATTEMPTS, TaskService

MAX_TASKS = 100
ACTIONS = ("claim", "release", "assign", "reassign", "complete", "abandon")
WITH_USER = frozenset({"assign", "reassign"})
WITH_COMMENT = frozenset({"reassign", "complete", "abandon"})


@dataclass
class ItemResult:
    task_id: str
    status: int
    task: Task | None = None
    error: BatonError | None = None


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
        raise BadRequest(f"comment applies to reassign, complete and abandon, not {action}")


def _step(service: TaskService, action: str, user_id: str | None, comment: str | None
          ) -> Callable[[str], Task]:
    """The single action, as TaskService does it (a claim on the read-and-decide path: the task
    is read already, so the one-write blind claim has nothing to save)."""
    if action == "claim":
        return lambda t: service.claim_after_read(t)
    if action == "release":
        return lambda t: service.release(t)
    if action == "assign":
        assert user_id is not None
        return lambda t: service.assign(t, user_id)
    if action == "reassign":
        assert user_id is not None
        return lambda t: service.reassign(t, [user_id], comment)[0]
    return lambda t: service.finish(t, "completed" if action == "complete" else "abandoned", comment)


def run(db: Dynamo, caller: Caller, action: str, task_ids: list[str], user_id: str | None = None,
        comment: str | None = None, atomic: bool = False) -> list[ItemResult]:
    validate(action, task_ids, user_id, comment, atomic)
    require_role(caller)
    users = dict.fromkeys([caller.user_id, *([user_id] if user_id else [])])
    if not atomic:
        bulk = BulkTaskRepository(db, caller.tenant, task_ids, users)
        step = _step(TaskService(db, caller, bulk), action, user_id, comment)
        results: list[ItemResult] = []
        for task_id in task_ids:
            try:
                results.append(ItemResult(task_id, 200, step(task_id)))
            except BatonError as err:
                results.append(ItemResult(task_id, err.status, error=err))
        return results
    for _ in range(MAX_ATTEMPTS):
        try:
            return _atomic(db, caller, action, task_ids, users, user_id, comment)
        except TransactionConflict:
            continue
    raise Conflict("These tasks are changing too fast; try again", reason="busy")


def _atomic(db: Dynamo, caller: Caller, action: str, task_ids: list[str], users: Iterable[str],
            user_id: str | None, comment: str | None) -> list[ItemResult]:
    bulk = BulkTaskRepository(db, caller.tenant, task_ids, users, collect=True)
    step = _step(TaskService(db, caller, bulk), action, user_id, comment)
    results: list[ItemResult] = []
    for task_id in task_ids:
        try:
            task = step(task_id)
        except BatonError as err:
            raise Conflict(f"Task {task_id} refused ({err.status}): {err.message}; nothing was changed",
                           reason="atomicRefused", **err.details) from None
        results.append(ItemResult(task_id, 200, task))
        bulk.stage(task_id)
    try:
        bulk.commit()
    except AtomicRefused as refused:
        raise Conflict(f"Task {refused.task_id or task_ids[0]} changed while the request was applied; nothing was "
                       "changed", reason="atomicRefused") from None
    return results
