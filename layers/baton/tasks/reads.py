"""The task service's reads: a task, its history, the task listings (a queue, an inbox, a user's
or the tenant's tasks). A part of TaskService (tasks.service), apart from its actions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from baton import clock
from baton.domain import Caller
from baton.errors import NotFound
from baton.storage.dynamo import Dynamo
from baton.tasks import eligibility, filters, standins
from baton.tasks.algorithm import read_principals
from baton.tasks.audit_repository import AuditRepository
from baton.tasks.domain import Task
from baton.tasks.history import TaskHistory
from baton.tasks.listings import TaskListings
from baton.tasks.repository import TaskRepository
from baton.tasks.separation import Held


class TaskReads:
    caller: Caller
    db: Dynamo
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
             overdue: bool = False, search: str | None = None,
             due_before: str | None = None, sort: str = "queue") -> tuple[list[Task], str | None]:
        """A page of a listing (tasks.listings), narrowed by what its index serves (tasks.filters). A
        delegate's queue (`candidate=me`) holds the queues of the absent users it stands in for too
        (their own, and their groups': tasks.standins `principals`), whose tasks it may claim."""
        acting: list[str] = []

        def groups_of() -> list[str]:
            me = self.caller.user_id
            people = self.tasks.read_people(self.caller.tenant, [me])
            if me not in people or not people[me].stands_in_for:
                return list(people[me].groups) if me in people else []
            known = read_principals(self.tasks, self.caller.tenant, me)
            acting.extend(standins.principals(me, known))
            return list(dict.fromkeys([*known[me].groups, *(g for u in acting for g in known[u].groups)]))
        listing = filters.listing(self.caller, assignee, candidate, status, group, (priority_min, priority_max),
                                  groups_of, search, due_before, sort, overdue)
        if q is not None:  # one GetItem: the task, when the listing holds it (a delegate's: as its absent users')
            task, now = self.tasks.get_task(self.caller.tenant, q), clock.stamp()
            views = [listing, *(replace(listing, cand=(u, listing.cand[1])) for u in acting if listing.cand)]
            return ([task] if task is not None and any(v.holds(task, now) for v in views) else []), None
        return self.listings.tasks_page(self.caller.tenant, assignee=listing.who, candidate=listing.cand,
                                        status=status, limit=limit, cursor=cursor, group=group,
                                        priority=listing.priority, overdue=overdue, search=listing.search,
                                        due_before=listing.due_before, sort=sort, also=tuple(acting))

    def may_hold(self, tasks: Sequence[Task]) -> dict[str, dict[str, Any]]:
        """Whether the caller may hold each of these tasks as far as separation of duties goes
        (tasks.eligibility `separated`, with the caller's holds in their cases: one BatchGetItem,
        only when a task is separated from other tasks or activities of its case), by task id:
        `{"mayHold": true}`, or `{"mayHold": false, "reason": "separation", "message": <the rule>}`.
        What the inbox shows instead of a Claim button; every write still decides for itself."""
        me = self.caller.user_id
        cases = {t.caseId for t in tasks
                 if t.caseId and t.separation and (t.separation.tasks or t.separation.activities)}
        held = AuditRepository(self.db).holds(self.caller.tenant, me, cases) if cases else {}
        out: dict[str, dict[str, Any]] = {}
        for task in tasks:
            why = eligibility.separated(task, me, held.get(task.caseId or "", Held()))
            out[task.id] = {"mayHold": True} if why is None else {
                "mayHold": False, "reason": "separation", "message": why}
        return out
