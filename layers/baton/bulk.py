"""Bulk task actions (`POST /api/v1/task-actions/{action}`): one action on up to 100 tasks.

Each task gets exactly what its single action would do (the same TaskService method, rules and
conditional write), so each result carries the status that action would have answered. What
bulk adds is the read: every task, the caller and the target user are read in one consistent
BatchGetItem up front, and each task's first read is answered from it (`_BulkStore`). A task
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

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from baton import rules
from baton.domain import Caller, Task
from baton.errors import BadRequest, BatonError, Conflict
from baton.service import MAX_ATTEMPTS, TaskService
from baton.store import MAX_TRANSACTION_ITEMS, ConditionFailed, Keys, Store, TransactionConflict, task_from_item

MAX_TASKS = 100
ITEMS_PER_TASK = 3  # task, history event, a direct claim's pending event written out
MAX_ATOMIC_TASKS = (MAX_TRANSACTION_ITEMS - 2) // ITEMS_PER_TASK  # 32: room for two membership checks
ACTIONS = ("claim", "release", "assign", "reassign", "complete", "abandon")
WITH_USER = frozenset({"assign", "reassign"})
WITH_COMMENT = frozenset({"reassign", "complete", "abandon"})


@dataclass
class ItemResult:
    task_id: str
    status: int
    task: Task | None = None
    error: BatonError | None = None


class _BulkStore(Store):
    """The store as one bulk request sees it: each task's first read comes from the BatchGetItem
    made for all of them; with `collect`, transactions are recorded instead of made."""

    def __init__(self, base: Store, tenant: str, task_ids: Sequence[str], user_ids: Iterable[str],
                 collect: bool = False) -> None:
        super().__init__(base.client, base.table)
        self.collect = collect
        self.recorded: list[list[dict[str, Any]]] = []
        self.first: dict[str, Task | None] = dict.fromkeys(task_ids)
        self.groups: dict[str, list[str]] = {}
        keys = [*(Keys.task(tenant, t) for t in task_ids), *(Keys.user(tenant, u) for u in user_ids)]
        for item in self.batch_get(keys):
            if item["sk"]["S"] == "TASK":
                task = task_from_item(item)
                self.first[task.id] = task
            else:
                user = item.get("userId", {}).get("S")
                if user is not None:
                    self.groups[user] = list(item.get("groups", {}).get("SS", []))

    def read_task_and_users(self, tenant: str, task_id: str, user_ids: Iterable[str]
                            ) -> tuple[Task | None, dict[str, list[str]]]:
        if task_id in self.first:  # the first read of this task: already made
            return self.first.pop(task_id), {u: self.groups[u] for u in user_ids if u in self.groups}
        return super().read_task_and_users(tenant, task_id, user_ids)

    def transact(self, actions: Sequence[dict[str, Any]]) -> None:
        if self.collect:
            self.recorded.append([dict(a) for a in actions])
            return
        super().transact(actions)


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


def run(store: Store, caller: Caller, action: str, task_ids: list[str], user_id: str | None = None,
        comment: str | None = None, atomic: bool = False) -> list[ItemResult]:
    validate(action, task_ids, user_id, comment, atomic)
    rules.require_role(caller)
    users = dict.fromkeys([caller.user_id, *([user_id] if user_id else [])])
    if not atomic:
        bulk = _BulkStore(store, caller.tenant, task_ids, users)
        step = _step(TaskService(bulk, caller), action, user_id, comment)
        results: list[ItemResult] = []
        for task_id in task_ids:
            try:
                results.append(ItemResult(task_id, 200, step(task_id)))
            except BatonError as err:
                results.append(ItemResult(task_id, err.status, error=err))
        return results
    for _ in range(MAX_ATTEMPTS):
        try:
            return _atomic(store, caller, action, task_ids, users, user_id, comment)
        except TransactionConflict:
            continue
    raise Conflict("These tasks are changing too fast; try again", reason="busy")


def _atomic(store: Store, caller: Caller, action: str, task_ids: list[str], users: Iterable[str],
            user_id: str | None, comment: str | None) -> list[ItemResult]:
    bulk = _BulkStore(store, caller.tenant, task_ids, users, collect=True)
    step = _step(TaskService(bulk, caller), action, user_id, comment)
    results: list[ItemResult] = []
    owners: list[str] = []  # the task each transaction item belongs to
    actions: list[dict[str, Any]] = []
    for task_id in task_ids:
        try:
            task = step(task_id)
        except BatonError as err:
            raise Conflict(f"Task {task_id} refused ({err.status}): {err.message}; nothing was changed",
                           reason="atomicRefused", **err.details) from None
        results.append(ItemResult(task_id, 200, task))
        for written in bulk.recorded:
            for item in written:
                if "ConditionCheck" in item:
                    _merge_check(actions, owners, item["ConditionCheck"], task_id)
                else:
                    actions.append(item)
                    owners.append(task_id)
        bulk.recorded.clear()
    if not actions:
        return results
    if len(actions) > MAX_TRANSACTION_ITEMS:
        raise BadRequest(f"atomic: these tasks need {len(actions)} items in one transaction; DynamoDB takes "
                         f"{MAX_TRANSACTION_ITEMS} (a task is 2 or 3, plus one per queue it enters or leaves)")
    try:
        Store.transact(bulk, actions)
    except ConditionFailed as failed:
        first = owners[failed.index] if failed.index < len(owners) else task_ids[0]
        raise Conflict(f"Task {first} changed while the request was applied; nothing was changed",
                       reason="atomicRefused") from None
    return results


_PLACEHOLDER = re.compile(r":[A-Za-z0-9_]+")


def _merge_check(actions: list[dict[str, Any]], owners: list[str], check: dict[str, Any], task_id: str) -> None:
    """One ConditionCheck per item in a transaction (DynamoDB refuses two operations on one
    item): a second membership check on the same user item is ANDed into the first."""
    key = check["Key"]
    for existing in actions:
        prior = existing.get("ConditionCheck")
        if prior is not None and prior["Key"] == key:
            suffix = f"_{len(prior['ExpressionAttributeValues'])}"
            condition = _PLACEHOLDER.sub(rf"\g<0>{suffix}", check["ConditionExpression"])
            prior["ConditionExpression"] = f"({prior['ConditionExpression']}) AND ({condition})"
            prior["ExpressionAttributeValues"].update(
                {k + suffix: v for k, v in check["ExpressionAttributeValues"].items()})
            prior["ExpressionAttributeNames"].update(check.get("ExpressionAttributeNames", {}))
            return
    actions.append({"ConditionCheck": {**check, "ExpressionAttributeValues": dict(check["ExpressionAttributeValues"]),
                                       "ExpressionAttributeNames": dict(check.get("ExpressionAttributeNames", {}))}})
    owners.append(task_id)
