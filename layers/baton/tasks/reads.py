"""The task service's reads: a task, its history, the task listings (a queue, an inbox, a user's
or the tenant's tasks). A part of TaskService (tasks.service), apart from its actions."""

from __future__ import annotations

from typing import Any

from baton.domain import Caller
from baton.errors import BadRequest, NotFound
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
             cursor: str | None) -> tuple[list[Task], str | None]:
        me = self.caller.user_id
        who = me if assignee == "me" else assignee
        cand: tuple[str, list[str]] | None = None
        if candidate is not None:
            if candidate != "me":
                raise BadRequest("candidate accepts only 'me'")
            if assignee is not None:
                raise BadRequest("Give assignee or candidate, not both")
            cand = (me, self._groups_of(me))
        return self.listings.tasks_page(self.caller.tenant, assignee=who, candidate=cand, status=status,
                                     limit=limit, cursor=cursor)
