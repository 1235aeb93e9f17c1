"""Task listings: a page of tasks (a queue, an inbox, a user's tasks, the tenant's tasks), the
head of a queue for claim-next, a page of a task's history. Each from keys made for it (never a
filtered tenant-wide list), through the merged Queries of storage.dynamo."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from baton import clock
from baton.settings import get_settings
from baton.storage.cursors import cursor_after, decode_position, encode_position, fingerprint, sort_key_of
from baton.storage.dynamo import Dynamo, _pool, deserialize, serialize
from baton.storage.keys import HISTORY, PERSON_SK, PROFILE, QUEUED, Keys
from baton.table import GSI_AGE, GSI_ASSIGNEE, GSI_DUE, GSI_QUEUE, GSI_TASKS
from baton.tasks.domain import MAX_PRIORITY, STATUSES, HistoryEvent, Task
from baton.tasks.filters import SHOW_DUE_BEFORE, SHOW_SEARCH
from baton.tasks.layout import is_task, task_from_item
from baton.tasks.leases import SHOW_IN_INBOX, SHOW_IN_QUEUE
from baton.tasks.queuecopy import Page, QueueCopies
from baton.tasks.timers import SHOW_OVERDUE


@dataclass
class HistoryPage:
    """Events in version order, each with the cursor that resumes right after it, and the
    page's own cursor (None on the last page)."""

    events: list[tuple[HistoryEvent, str]]
    cursor: str | None


# A queue's or inbox's other orders: the index that holds it so, and its direction.
# A group's open tasks: its queue's items (entries name their task), and its members' held tasks of it.
SHOW_OF_GROUP = "attribute_exists(taskId) OR contains(candidateGroups, :group)"
SORTED = {"due": (GSI_DUE, True), "age": (GSI_AGE, True), "newest": (GSI_AGE, False)}


class TaskListings:
    def __init__(self, db: Dynamo) -> None:
        self.db = db

    def history_page(self, tenant: str, task_id: str, limit: int, cursor: str | None) -> HistoryPage:
        pk = Keys.task(tenant, task_id)["pk"]
        page = self.db.query_page(
            limit, cursor, "pk", pk, HISTORY,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :h)", ConsistentRead=True,
            ExpressionAttributeValues=serialize({":pk": pk, ":h": HISTORY}))
        events = [(HistoryEvent.model_validate(deserialize(i)), cursor_after(i) or "") for i in page.items]
        return HistoryPage(events, page.cursor)

    @staticmethod
    def history_cursor_version(cursor: str | None) -> int:
        """The version of the history event a (valid) history cursor follows; 0 without one."""
        return Keys.history_version(sort_key_of(cursor))

    def tasks_page(self, tenant: str, *, assignee: str | None, candidate: tuple[str, list[str]] | None,
                   status: str | None, limit: int, cursor: str | None, group: str | None = None,
                   priority: tuple[int, int] | None = None, overdue: bool = False, search: str | None = None,
                   due_before: str | None = None, sort: str = "queue", also: tuple[str, ...] = ()
                   ) -> tuple[list[Task], str | None]:
        """A page of tasks, each from keys made for it (never a filtered tenant-wide list):
        - `candidate` (user, groups): the user's queue, in queue order: the user's own queue
          partition (and those of the users in `also`: whom a delegate stands in for) and one per
          group, merged; a task in several of them appears once;
        - `assignee` with status open: that user's inbox, in queue order;
        - `assignee` otherwise: the user's tasks by status, newest first (all statuses merged);
        - neither: the tenant's tasks by status, newest first, merged over the listing shards;
        - `group` (with `candidate`, or alone): that group's queue only, in queue order;
        - `priority` (lowest, highest; queue-ordered lists only): a key range of the queue order,
          whose keys start with the priority (inverted), so no task outside it is read.
        - `overdue`: only open tasks past their `dueDate` or with a fired escalation step, at the read
          (of a user's or the tenant's tasks, only the open ones' partitions are read);
          `search` (case-folded: tasks.filters): only tasks whose id, name or description's start
          holds it; `due_before`: only tasks due by then. Filters on the partitions' own items.
        - `sort` (a queue or the inbox): `queue` (queue order), `due` (due date first), `age`
          (oldest first) or `newest`: the same partitions in another index (gsi7, gsi8).
        A page holds `limit` items whenever that many exist, and has a cursor only if more do."""
        kind: tuple[str | None, ...]
        show: str | None = None
        if overdue and status not in (None, "open"):
            return [], None  # a finished task is never overdue
        # overdue: only the open tasks' partitions are read (the finished ones' never hold one)
        statuses = (status,) if status else ("open",) if overdue else STATUSES
        if candidate is not None or group is not None:
            if status not in (None, "open"):
                return [], None  # a queue holds open tasks only
            user = candidate[0] if candidate else None
            if group is not None:
                parts = [Keys.group_queue(tenant, group)]
            else:
                assert candidate is not None
                parts = [Keys.user_queue(tenant, candidate[0]), *(Keys.user_queue(tenant, u) for u in also),
                         *(Keys.group_queue(tenant, g) for g in candidate[1])]
            kind = ("queue", user) if group is None else ("queue", user, "group", group)
            index, forward, show = GSI_QUEUE, True, SHOW_IN_QUEUE
        elif assignee is not None and status == "open":
            parts, index, forward, kind = [Keys.inbox(tenant, assignee)], GSI_QUEUE, True, ("inbox", assignee)
            show = SHOW_IN_INBOX
        elif assignee is not None:
            parts = [Keys.assignee_index(tenant, assignee, s) for s in statuses]
            index, forward, kind = GSI_ASSIGNEE, False, ("assignee", assignee, status)
        else:
            shards = range(get_settings().list_shards)
            parts = [Keys.tasks_index(tenant, s, k) for s in statuses for k in shards]
            index, forward, kind = GSI_TASKS, False, ("tasks", status)
        if sort != "queue":
            assert index == GSI_QUEUE and priority is None, "a queue or an inbox is sorted, by its own keys"
            index, forward, kind = SORTED[sort][0], SORTED[sort][1], (*kind, "sort", sort)
        extra: dict[str, Any] = {}
        for wanted, clause, name, value in ((overdue, SHOW_OVERDUE, "overdue", None),
                                            (search is not None, SHOW_SEARCH, ":search", search),
                                            (due_before is not None, SHOW_DUE_BEFORE, ":dueBefore", due_before)):
            if wanted:
                show = f"({show}) AND {clause}" if show else clause
                kind = (*kind, name) if value is None else (*kind, name, value)
                if value is not None:
                    extra[name] = value
        between = None
        if priority is not None:
            assert forward, "a priority range is a range of the queue order"
            low, high = priority
            between = (f"{QUEUED}{MAX_PRIORITY - high:03d}#", f"{QUEUED}{MAX_PRIORITY - low:03d}$")  # '$' > '#'
            kind = (*kind, "priority", str(low), str(high))
        mark = fingerprint(tenant, *kind)
        after = decode_position(cursor, mark, QUEUED if forward else None)
        items, last = self.db.merged(index, parts, forward=forward, limit=limit, after=after, region=QUEUED,
                                     show=show, now=clock.stamp() if show else None, between=between,
                                     extra=extra or None)
        return self._tasks_of(tenant, items), encode_position(last, mark)

    def group_open(self, tenant: str, group: str, members: list[str], limit: int, cursor: str | None
                   ) -> tuple[list[Task], str | None]:
        """A page of a group's open tasks in queue order (its leads' view: tasks.team): the group's
        queue partition (free tasks, and leased ones) and its members' inboxes (only the tasks the
        group is a candidate of), merged: one Query per partition per page, a filter on their own
        items. A task held by a non-member shows only while its lease runs (its queue entry)."""
        parts = [Keys.group_queue(tenant, group), *(Keys.inbox(tenant, m) for m in dict.fromkeys(members))]
        mark = fingerprint(tenant, "group-open", group)
        after = decode_position(cursor, mark, QUEUED)
        items, last = self.db.merged(GSI_QUEUE, parts, forward=True, limit=limit, after=after, region=QUEUED,
                                     show=SHOW_OF_GROUP, extra={":group": group})
        return self._tasks_of(tenant, items), encode_position(last, mark)

    def queue_head(self, tenant: str, candidate: tuple[str, list[str]], limit: int, after: str | None,
                   own_queue: bool = True, read: dict[str, Any] | None = None, also: tuple[str, ...] = (),
                   copies: QueueCopies | None = None, served: list[str] | None = None
                   ) -> tuple[list[Task], str | None]:
        """The first `limit` tasks of a user's queue (or, without `own_queue`, of the given
        groups' queues) after the queue position `after`, and the position to go on from. With a few
        partitions each is asked for `limit` (none runs out before the head is complete: no second
        Query); `read`: the own queue's first page, read already (`own_head`); `also`: the users
        whose own queues are read too (whom a delegate stands in for). `copies` (claim-next, from
        the head): the group queues' pages are this process's copies where it holds a live one
        (those groups added to `served`), read (and kept) otherwise; the head then ends where
        the shortest copy with more after it ends (the position goes on from there, read afresh)."""
        user, groups = candidate
        parts = ([Keys.user_queue(tenant, user)] if own_queue else []) + [Keys.user_queue(tenant, u) for u in also]
        parts += [Keys.group_queue(tenant, g) for g in groups]
        if not parts:
            return [], None
        now = clock.stamp()
        read = dict(read or {}) if after is None else {}
        bound: str | None = None
        if copies is not None and after is None:
            table = self.db.table
            held = copies.view(table, tenant, groups)
            if served is not None:
                served += held
            missing = [g for g in groups if g not in held]
            held.update({g: copies.keep(table, tenant, g, p) for g, p in self._heads(tenant, missing, limit, now)})
            for group, (items, lek) in held.items():
                read[Keys.group_queue(tenant, group)] = (items, None)
                if lek is not None and (bound is None or lek["gsi3sk"]["S"] < bound):
                    bound = lek["gsi3sk"]["S"]
        items, last = self.db.merged(GSI_QUEUE, parts, forward=True, limit=limit, after=after, region=QUEUED,
                                     show=SHOW_IN_QUEUE, now=now, share=limit if len(parts) <= 4 else None,
                                     read=read or None)
        if bound is not None and (last is None or last > bound):  # known up to the end of the shortest copy
            items, last = [i for i in items if i["gsi3sk"]["S"] <= bound], bound
        return self._tasks_of(tenant, items), last

    def _heads(self, tenant: str, groups: list[str], limit: int, now: str) -> list[tuple[str, Page]]:
        """The first page (up to `limit` items shown in a queue) of each group's queue, in parallel."""
        def head(group: str) -> tuple[str, Page]:
            values = {":p": Keys.group_queue(tenant, group), ":r": QUEUED, ":now": now}
            out = self.db.call("query", TableName=self.db.table, IndexName=GSI_QUEUE, Limit=limit,
                               KeyConditionExpression="gsi3pk = :p AND begins_with(gsi3sk, :r)",
                               FilterExpression=SHOW_IN_QUEUE, ExpressionAttributeValues=serialize(values))
            return group, (out.get("Items", []), out.get("LastEvaluatedKey"))

        if len(groups) <= 1:
            return [head(g) for g in groups]
        return list(_pool().map(head, groups))

    def own_head(self, tenant: str, user: str, limit: int
                 ) -> tuple[dict[str, dict[str, Any]], dict[str, tuple[list[dict[str, Any]], Any]]]:
        """One Query of the user's own queue partition from its head: the user's own items there
        (Keys.profile: its user and load items, as `user` and `load`, as the index has them: a moment
        old at most), and the partition's first queue page (up to `limit` items) for `queue_head`."""
        part = Keys.user_queue(tenant, user)
        out = self.db.call("query", TableName=self.db.table, IndexName=GSI_QUEUE, Limit=limit + 2,
                           KeyConditionExpression="gsi3pk = :p AND gsi3sk >= :h", FilterExpression=SHOW_IN_QUEUE,
                           ExpressionAttributeValues=serialize({":p": part, ":h": PROFILE, ":now": clock.stamp()}))
        names = {f"{PROFILE}USER": "user", f"{PROFILE}{PERSON_SK}": "load"}
        own = {names[i["gsi3sk"]["S"]]: deserialize(i) for i in out.get("Items", []) if i["gsi3sk"]["S"] in names}
        queued = [i for i in out.get("Items", []) if i["gsi3sk"]["S"].startswith(QUEUED)]
        return own, {part: (queued, out.get("LastEvaluatedKey"))}

    def involving(self, tenant: str, user: str) -> list[str]:
        """The ids of the open tasks `user` holds (the assignee index, gsi2), of those in its own
        queue (gsi3: a candidate user of a free or leased task, or offered it) and of those naming
        it that neither shows (gsi2's `Keys.named` partition: tasks it delegated, tasks it is a
        candidate user of while someone else holds them, offered to another, automatic), each once,
        in that order (offboarding: tasks.offboarding). Three Queries, paged to the end: O(those tasks)."""
        held = self.db.query_all(IndexName=GSI_ASSIGNEE, KeyConditionExpression="gsi2pk = :p",
                                 ExpressionAttributeValues=serialize({":p": Keys.assignee_index(tenant, user, "open")}))
        mine = serialize({":p": Keys.user_queue(tenant, user), ":q": QUEUED})
        queued = self.db.query_all(IndexName=GSI_QUEUE, ExpressionAttributeValues=mine,
                                   KeyConditionExpression="gsi3pk = :p AND begins_with(gsi3sk, :q)")
        named = self.db.query_all(IndexName=GSI_ASSIGNEE, KeyConditionExpression="gsi2pk = :p",
                                  ExpressionAttributeValues=serialize({":p": Keys.named(tenant, user)}))
        return list(dict.fromkeys((i.get("taskId") or i["id"])["S"] for i in held + queued + named))

    def _tasks_of(self, tenant: str, items: list[dict[str, Any]]) -> list[Task]:
        """The tasks of index items: a task item is the task; a queue entry names its task,
        read (consistent) in one BatchGetItem for the page."""
        wanted = [i["taskId"]["S"] for i in items if not is_task(i)]
        found: dict[str, Task] = {}
        if wanted:
            found = {t.id: t for t in (task_from_item(i) for i in self.db.batch_get(
                Keys.task(tenant, t) for t in wanted))}
        tasks: list[Task] = []
        for item in items:
            if is_task(item):
                tasks.append(task_from_item(item))
            elif item["taskId"]["S"] in found:
                tasks.append(found[item["taskId"]["S"]])
        return tasks
