"""A task's history, page by page, as of one version of the task: a page never repeats or skips
a version, even while transactions are landing (see `TaskHistory.page`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from baton.tasks.domain import HistoryEvent, Task
from baton.tasks.layout import pending_event
from baton.tasks.listings import TaskListings

READS = 8  # a page read again while a transaction lands, at most this many times


class TaskHistory:
    def __init__(self, listings: TaskListings, tenant: str, get: Callable[[str], Task]) -> None:
        self.listings = listings
        self.tenant = tenant
        self.get = get  # the task, consistent (NotFound when there is none)

    def page(self, task_id: str, limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        """A page of the history as of one version of the task: the task is read first
        (consistent), then the events after the cursor (a consistent Query). Events a writer
        added after that read are left for a later page, and the direct claim's pending event
        (`lastEvent`, always of the version read) is added only where it is not already written
        out. A Query may see part of a transaction that is still landing (DynamoDB gives Query
        read-committed isolation, not serializable): a page with a gap, or a last page that ends
        before the version read, is read again; if it stays so, it ends before the gap with a
        cursor to continue from. So a page never repeats or skips a version."""
        before = self.listings.history_cursor_version(cursor)  # the version the cursor follows (0: none)
        for _ in range(READS - 1):
            events, next_cursor, whole = self._history_read(task_id, limit, cursor, before)
            if whole:
                return events, next_cursor
        events, next_cursor, _ = self._history_read(task_id, limit, cursor, before)
        return events, next_cursor

    def _history_read(self, task_id: str, limit: int, cursor: str | None, before: int
                      ) -> tuple[list[dict[str, Any]], str | None, bool]:
        """One read of a history page: its events, its cursor, and whether it is whole (when not,
        the cursor stops before the gap)."""
        task = self.get(task_id)
        page = self.listings.history_page(self.tenant, task_id, limit, cursor)
        events: list[HistoryEvent] = []
        kept: list[str] = []  # the cursor after each of `events`
        next_cursor = page.cursor
        for event, after in page.events:
            if event.version > task.version:  # written after the task was read: the snapshot ends
                next_cursor = None
                break
            if event.version != (events[-1].version if events else before) + 1:  # a transaction landing
                next_cursor = kept[-1] if kept else cursor
                break
            events.append(event)
            kept.append(after)
        last = events[-1].version if events else before
        pending = pending_event(task)
        if next_cursor is None and pending is not None and last == task.version - 1:
            if len(events) >= limit:  # no room on this page: the next one carries it
                return [e.public() for e in events], kept[-1], True
            events.append(pending)
            last = task.version
        whole = (next_cursor is not None and next_cursor == page.cursor) or last == task.version
        if not whole:  # still landing: stop before the gap, continue from there
            next_cursor = kept[-1] if kept else cursor
        return [e.public() for e in events], next_cursor, whole
