"""Claim leases: when a claim ends, and the takeover of a task whose lease has passed.

A leased claim holds a task until `leaseExpiresAt`; after it the task is free for anyone eligible.
The next change of the task takes it over in its own transaction, writing the `lease-expired`
event (actor `system`) before its own (tasks.algorithm); the queues show the task again from that
moment (SHOW_IN_QUEUE). The lease's end is also the task's timer (tasks.timers), so if nothing
else changes it the sweep takes it over alone (tasks.sweeper), which the router hears."""

from __future__ import annotations

import uuid

from baton import clock
from baton.errors import Conflict
from baton.tasks.domain import HistoryEvent, Task

LEASE = "leaseExpiresAt"  # the task item's attribute: when its holder's claim ends
# Which queue and inbox rows a read shows: a queue shows lease-free entries and passed leases, an
# inbox lease-free holds and running leases (one attribute compared with the time of the read).
SHOW_IN_QUEUE = f"attribute_not_exists({LEASE}) OR {LEASE} <= :now"
SHOW_IN_INBOX = f"attribute_not_exists({LEASE}) OR {LEASE} > :now"


def lease_until(task: Task, seconds: int | None) -> str | None:
    """When a claim of `task` ends: the claim's own `leaseSeconds`, else the task's; None: no lease."""
    seconds = seconds or task.leaseSeconds
    return clock.after(seconds) if seconds else None


def takeover(task: Task, caller_id: str, holder_action: bool) -> tuple[Task, HistoryEvent | None]:
    """The task as the rules see it: a task whose lease has passed is free, one version on,
    with the `lease-expired` event (actor `system`) that the change will write before its own.
    The old holder's own release, complete or heartbeat (`holder_action`) is then a 409."""
    stamp = clock.stamp()
    if not task.lease_expired(stamp):
        return task, None
    if holder_action and task.assignee == caller_id:
        raise Conflict(f"The lease of {task.assignee} on task {task.id} expired at {task.leaseExpiresAt}",
                       reason="leaseExpired")
    event = HistoryEvent.model_validate({"id": uuid.uuid4().hex, "taskId": task.id, "version": task.version + 1,
                                         "at": stamp, "actor": "system", "action": "lease-expired",
                                         "reason": "lease-expired",
                                         "from": task.assignee, "to": None})
    free = task.model_copy(update={"assignee": None, "leaseExpiresAt": None, "version": task.version + 1,
                                   "updatedAt": stamp})
    return free, event
