"""The ledger's reads as a service: the tenant audit (`GET /api/v1/audit`, admin only), a task's
history verified (`GET /api/v1/tasks/{id}/history?verify=true`) and a case's tasks
(`GET /api/v1/tasks?caseId=`). Writes stay with the actions (tasks.service): every event is
written, hashed, in the transaction of its change."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from baton import clock, ledger
from baton.domain import ROLE_ADMIN, Caller, require_role, utc_timestamp
from baton.errors import BadRequest, NotFound
from baton.storage.dynamo import Dynamo
from baton.tasks import reasons
from baton.tasks.audit_repository import AuditPage, AuditRepository
from baton.tasks.domain import Task
from baton.tasks.layout import pending_event
from baton.tasks.listings import TaskListings
from baton.tasks.repository import TaskRepository

MAX_WINDOW = timedelta(days=31)
DEFAULT_WINDOW = timedelta(days=1)
HISTORY_READ = 1000  # events per Query when a whole history is read (verify)


def _stamp(name: str, text: str) -> str:
    try:
        return utc_timestamp(text)
    except (ValueError, TypeError):
        raise BadRequest(f"{name} must be an RFC 3339 date-time with an offset, such as 2026-01-02T03:04:05Z; "
                         f"got {text[:64]!r}") from None


def _parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def window(start: str | None, end: str | None) -> tuple[str, str]:
    """The audit window as stored timestamps: `to` defaults to now, `from` to a day before `to`;
    `from` after `to` and windows over 31 days are refused."""
    end_at = _stamp("to", end) if end is not None else clock.stamp()
    start_at = _stamp("from", start) if start is not None else clock.stamp(_parse(end_at) - DEFAULT_WINDOW)
    if start_at > end_at:
        raise BadRequest(f"from ({start_at}) is after to ({end_at})")
    if _parse(end_at) - _parse(start_at) > MAX_WINDOW:
        raise BadRequest(f"The window from {start_at} to {end_at} is longer than 31 days: ask for at most 31 "
                         "days at a time")
    return start_at, end_at


class AuditService:
    def __init__(self, db: Dynamo, caller: Caller) -> None:
        self.db = db
        self.caller = caller
        self.repo = AuditRepository(db)
        self.tasks = TaskRepository(db)
        self.listings = TaskListings(db)

    def audit(self, *, start: str | None, end: str | None, actor: str | None, action: str | None,
              limit: int, cursor: str | None) -> tuple[AuditPage, str, str]:
        """Every ledger event of the caller's tenant in the window, oldest first, optionally one
        actor's or one action's; and the window as applied."""
        require_role(self.caller, frozenset({ROLE_ADMIN}))
        if action is not None and action not in reasons.ACTIONS:
            raise BadRequest(f"Unknown action {action!r}: one of {', '.join(reasons.ACTIONS)}")
        start_at, end_at = window(start, end)

        def keep(event: dict[str, Any]) -> bool:
            return (actor is None or event.get("actor") == actor) and (action is None or event.get("action") == action)

        filtered = actor is not None or action is not None
        page = self.repo.page(self.caller.tenant, start_at, end_at, limit=limit, cursor=cursor,
                              keep=keep if filtered else None)
        return page, start_at, end_at

    def case(self, case_id: str, limit: int, cursor: str | None,
             overdue: bool = False) -> tuple[list[Task], str | None]:
        """A case's tasks, in creation order (any caller of the tenant); `overdue`: only those overdue
        at the time of the read."""
        return self.repo.case_page(self.caller.tenant, case_id, limit, cursor, clock.stamp() if overdue else None)

    def verify(self, task_id: str) -> ledger.Verification:
        """Recompute a task's hash chain over its whole history, as of one version of the task
        (read first): the events written, then a direct claim's pending one; the task item's
        last hash must be the chain's at the last written event."""
        task = self.tasks.get_task(self.caller.tenant, task_id)
        if task is None:
            raise NotFound(f"Task {task_id} not found", reason="txnNotFound")
        events: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            page = self.listings.history_page(self.caller.tenant, task_id, HISTORY_READ, cursor)
            events += [e.public() for e, _ in page.events if e.version <= task.version]
            cursor = page.cursor
            if cursor is None:
                break
        pending = pending_event(task)
        if pending is not None and (not events or events[-1]["version"] == task.version - 1):
            events.append(pending.public())
        written_to = task.version - 1 if task.lastEvent else task.version
        return ledger.verify(events, (written_to, task.lastHash))
