"""claim-next's copies of group queues: this process's short-lived copy of each group queue's head
page (`COPY_SECONDS`), shared by every request it serves (`baton serve`'s threads; one warm Lambda
environment's consecutive invocations), so a claim-next reads a group queue only when this
process's copy is older than that or used up. Nothing is trusted from a copy: the claim's own
write pins the task's version, the membership, capacity, skills, `active` and separation (as every
claim's does), and a refused write's image of the task says why (tasks.claimnext).

A task a request of this process is claiming, or has claimed or found taken, is marked (`take`)
for `MARK_SECONDS`: no other request of this process tries it meanwhile (its copies, and the
index a moment behind the write, still show it), and a claim that failed for the caller's own
reasons puts it back (`put_back`). A write of this process that leaves a task free in its groups'
queues (created, released, changed) drops those groups' copies and the task's mark (`freed`), so
the process reads its own writes. Bounded: at most MAX_COPIES copies and MAX_MARKS marks. Thread
safe (one lock); nothing happens at import."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from baton import clock
from baton.tasks.domain import Task

# A group queue's copy serves claim-next for this long (the index it is read from is eventually
# consistent anyway: a moment behind the table).
COPY_SECONDS = 2.0
MARK_SECONDS = 5.0
MAX_COPIES = 128
MAX_MARKS = 4096

Page = tuple[list[dict[str, Any]], Any]  # a queue's items (index items, in order) and where it goes on


@dataclass
class _Copy:
    at: datetime
    items: list[dict[str, Any]]
    lek: Any


def task_id_of(item: dict[str, Any]) -> str:
    """The task an index item of a queue stands for (the task item, or an entry naming it)."""
    return str((item.get("taskId") or item["id"])["S"])


class QueueCopies:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._copies: OrderedDict[tuple[str, str, str], _Copy] = OrderedDict()  # (table, tenant, group) -> copy
        self._marks: dict[tuple[str, str, str], datetime] = {}  # (table, tenant, task id) -> when marked

    def view(self, table: str, tenant: str, groups: Iterable[str]) -> dict[str, Page]:
        """The group queues this process holds a live copy of, without the tasks marked here; a copy
        used up (none of its tasks left, more after it) is not live."""
        now = clock.current()
        out: dict[str, Page] = {}
        with self._lock:
            for group in groups:
                copy = self._copies.get((table, tenant, group))
                if copy is None or not now - timedelta(seconds=COPY_SECONDS) <= copy.at <= now:
                    continue
                items = self._unmarked(table, tenant, copy.items, now)
                if items or copy.lek is None:
                    out[group] = (items, copy.lek)
        return out

    def keep(self, table: str, tenant: str, group: str, page: Page) -> Page:
        """Keep a group queue's page just read as this process's copy; its view."""
        now = clock.current()
        with self._lock:
            self._copies[(table, tenant, group)] = _Copy(now, list(page[0]), page[1])
            self._copies.move_to_end((table, tenant, group))
            while len(self._copies) > MAX_COPIES:
                self._copies.popitem(last=False)
            return self._unmarked(table, tenant, page[0], now), page[1]

    def forget(self, table: str, tenant: str, groups: Iterable[str]) -> None:
        with self._lock:
            for group in groups:
                self._copies.pop((table, tenant, group), None)

    def take(self, table: str, tenant: str, task_id: str) -> bool:
        """Mark a task as being claimed here; False when a request of this process has it marked already."""
        now = clock.current()
        key = (table, tenant, task_id)
        with self._lock:
            if self._live(self._marks.get(key), now):
                return False
            if len(self._marks) >= MAX_MARKS:
                for old in [k for k, at in self._marks.items() if not self._live(at, now)]:
                    del self._marks[old]
                if len(self._marks) >= MAX_MARKS:
                    self._marks.clear()
            self._marks[key] = now
            return True

    def put_back(self, table: str, tenant: str, task_id: str) -> None:
        with self._lock:
            self._marks.pop((table, tenant, task_id), None)

    def freed(self, table: str, tenant: str, task_id: str, groups: Iterable[str]) -> None:
        """A write of this process left the task free in these groups' queues."""
        with self._lock:
            self._marks.pop((table, tenant, task_id), None)
            for group in groups:
                self._copies.pop((table, tenant, group), None)

    def clear(self) -> None:
        with self._lock:
            self._copies.clear()
            self._marks.clear()

    @staticmethod
    def _live(at: datetime | None, now: datetime) -> bool:
        return at is not None and now - timedelta(seconds=MARK_SECONDS) <= at <= now

    def _unmarked(self, table: str, tenant: str, items: list[dict[str, Any]], now: datetime) -> list[dict[str, Any]]:
        if not self._marks:
            return list(items)
        return [i for i in items if not self._live(self._marks.get((table, tenant, task_id_of(i))), now)]


COPIES = QueueCopies()  # this process's


def left_free(table: str, tenant: str, task: Task) -> None:
    """A write of this process left `task` as it is now: free in its groups' queues, their copies are behind."""
    if task.status == "open" and task.assignee is None:
        COPIES.freed(table, tenant, task.id, task.candidateGroups)
