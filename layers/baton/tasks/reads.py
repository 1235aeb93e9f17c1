"""The task service's reads: a task, its history, the task listings (a queue, an inbox, a user's
or the tenant's tasks). A part of TaskService (tasks.service), apart from its actions."""

from __future__ import annotations

from typing import Any

from baton import clock
from baton.domain import Caller
from baton.errors import NotFound
from baton.tasks import filters
from baton.tasks.domain import Task
from baton.tasks.history import TaskHistory
from baton.tasks.listings import TaskListings
from baton.tasks.repository import TaskRepository


class TaskReads:
    caller: Caller
    tasks: TaskRepository
    listings: TaskListings

    def _groups_of(self, user: str) -> list[str]:
        raise NotImplementedError  # the service reads the directory

    def get(self, task_id: str) -> Task:
        task = self.tasks.get_task(self.caller.tenant, task_id)
        if task is None:
            raise NotFound(f"Task {task_id} not found", reason="txnNotFound")
        return task

    def history(self, task_id: str, limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        """A page of the history as of one version of the task (tasks.history)."""
        return TaskHistory(self.listings, self.caller.tenant, self.get).page(task_id, limit, cursor)

    def list(self, *, assignee: str | None, candidate: str | None, status: str | None, limit: int,
             cursor: str | None, group: str | None = None, priority_min: int | None = None,
             priority_max: int | None = None, q: str | None = None,
             overdue: bool = False) -> tuple[list[Task], str | None]:
        """A page of a listing (tasks.listings), narrowed by what its index serves (tasks.filters)."""
        listing = filters.listing(self.caller, assignee, candidate, status, group, (priority_min, priority_max),
                                  lambda: self._groups_of(self.caller.user_id), overdue)
        if q is not None:  # one GetItem: the task, when the listing holds it
            task = self.tasks.get_task(self.caller.tenant, q)
            return ([task] if task is not None and listing.holds(task, clock.stamp()) else []), None
        return self.listings.tasks_page(self.caller.tenant, assignee=listing.who, candidate=listing.cand,
                                        status=status, limit=limit, cursor=cursor, group=group,
                                        priority=listing.priority, overdue=overdue)
