"""The team view of a group (`GET /api/v1/groups/{id}/stats`, API.md "People"): its queue (open
tasks nobody holds: how many, the oldest one's age, how many are past due, offered, or carry a
fired escalation) and its members (presence, load, capacity, whether the router may give them
work now).

Its cost grows with the group's open work and members, never with history: the group item
(GetItem), its members' items (BatchGetItem, 100 a call) and the group's queue partition, read in
queue order a page at a time (a Query each, plus a BatchGetItem for the tasks a page names by an
entry item). No history item and no finished task is ever read."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from baton import clock
from baton.directory.repository import DirectoryRepository
from baton.directory.routing import routable
from baton.domain import Caller
from baton.errors import Forbidden, NotFound
from baton.storage.dynamo import Dynamo
from baton.tasks.domain import Task
from baton.tasks.listings import TaskListings

PAGE = 100


def _seconds_between(earlier: str, later: str) -> float:
    def parse(s: str) -> datetime:
        return datetime.fromisoformat(s.replace("Z", "+00:00"))
    return round((parse(later) - parse(earlier)).total_seconds(), 3)


def _escalated(task: Task) -> bool:
    """The task carries an escalation step that has fired (the escalation ladders' `firedAt`)."""
    steps = getattr(task, "escalations", None) or []
    return any((s.get("firedAt") if isinstance(s, dict) else getattr(s, "firedAt", None)) for s in steps)


class TeamView:
    def __init__(self, db: Dynamo, caller: Caller) -> None:
        self.db = db
        self.caller = caller

    def stats(self, group_id: str) -> dict[str, Any]:
        tenant = self.caller.tenant
        directory = DirectoryRepository(self.db)
        group, _ = directory.get_group(tenant, group_id)
        if group is None:
            raise NotFound(f"Group {group_id} not found", reason="groupNotFound")
        members = directory.users(tenant, group.members)
        listings = TaskListings(self.db)
        queue: list[Task] = []
        after: str | None = None
        while True:
            page, after = listings.queue_head(tenant, ("", [group_id]), PAGE, after, own_queue=False)
            queue += page
            if after is None or not page:
                break
        now = clock.stamp()
        free = [t for t in queue if t.assignee is None or t.lease_expired(now)]
        oldest = min((t.createdAt for t in free), default=None)
        return {
            "groupId": group.id, "name": group.name, "routing": group.routing.model_dump(), "leads": group.leads,
            "queue": {
                "depth": len(free),
                "oldestAgeSeconds": _seconds_between(oldest, now) if oldest else None,
                "pastDue": sum(1 for t in free if t.dueDate is not None and t.dueDate < now),
                "offered": sum(1 for t in free if getattr(t, "offeredTo", None)),
                "escalated": sum(1 for t in free if _escalated(t)),
            },
            "members": [
                {"id": uid, "known": uid in members,
                 **({"presence": m.presence, "load": m.load, "capacity": m.capacity, "active": m.active,
                     "routable": routable(m)} if (m := members.get(uid)) else {})}
                for uid in group.members],
            "at": now,
        }

    def open_tasks(self, group_id: str, limit: int, cursor: str | None) -> tuple[list[Task], str | None]:
        """A page of the group's open tasks, free and held, in queue order (its leads' supervisor
        view: the UI groups them by holder): `admin` or a lead of the group, else 403. One GetItem
        (the group: members and leads), then one Query per partition per page (tasks.listings)."""
        group, _ = DirectoryRepository(self.db).get_group(self.caller.tenant, group_id)
        if group is None:
            raise NotFound(f"Group {group_id} not found", reason="groupNotFound")
        if not (self.caller.is_admin or self.caller.user_id in group.leads):
            raise Forbidden(f"User {self.caller.username} does not lead group {group_id}", reason="accessDenied")
        return TaskListings(self.db).group_open(self.caller.tenant, group_id, group.members, limit, cursor)
