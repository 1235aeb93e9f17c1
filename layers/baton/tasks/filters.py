"""What `GET /api/v1/tasks` may be narrowed by, each served by an index (docs/data-model.md): one
group's queue (its queue partition), a priority range (a key range of the queue order, whose
keys start with the priority), a task id (one GetItem). Three narrow a listing of open tasks by a
filter on its own partitions' items (read and dropped, so a page's cost grows with the open tasks
of those partitions, never with history or the tenant's other tasks): `overdue`, `search` (words
in the id, name or the start of the description, any case) and `dueBefore`; `search` and
`dueBefore` are refused on a listing of finished tasks, and a finished task is never overdue.
Anything else is refused. Pure functions, no I/O."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from baton.domain import Caller
from baton.errors import BadRequest, Forbidden
from baton.tasks.domain import MAX_PRIORITY, Task
from baton.tasks.escalations import is_overdue

# On a task item and its queue entries: what `search=` looks in (`search_text`: tasks.layout puts
# it there), and the due date (`dueBefore=`); listings of open tasks filter on them (tasks.listings).
SEARCH = "searchText"
SEARCH_DESCRIPTION_CHARS = 400  # of a description, searched (an entry stays within one write unit)
SHOW_SEARCH = f"contains({SEARCH}, :search)"
SHOW_DUE_BEFORE = "dueDate <= :dueBefore"


def search_text(task: Task) -> str:
    """What a search looks in: the id, the name and the start of the description, case-folded."""
    return "\n".join((task.id, task.name, task.description[:SEARCH_DESCRIPTION_CHARS])).casefold()


def search_term(text: str | None) -> str | None:
    """A search as it is compared (case-folded, spaces at its ends dropped); None when empty."""
    found = (text or "").strip().casefold()
    return found or None


def listing(caller: Caller, assignee: str | None, candidate: str | None, status: str | None, group: str | None,
            priority: tuple[int | None, int | None], groups_of: Callable[[], list[str]],
            search: str | None = None, due_before: str | None = None, sort: str = "queue",
            overdue: bool = False) -> Listing:
    """The listing a request asks for, checked (`groups_of`: the caller's groups, read for its queue)."""
    me = caller.user_id
    who = me if assignee == "me" else assignee
    cand: tuple[str, list[str]] | None = None
    if candidate is not None:
        if candidate != "me":
            raise BadRequest("candidate accepts only 'me'")
        if assignee is not None:
            raise BadRequest("Give assignee or candidate, not both")
        cand = (me, groups_of())
        if group is not None and group not in cand[1] and not caller.is_admin:
            raise Forbidden(f"User {caller.username} is not a member of group {group}", reason="accessDenied")
    found = Listing(who, cand, status, group, priority_range(*priority), search_term(search), due_before, sort,
                    overdue)
    found.check()
    return found


def priority_range(low: int | None, high: int | None) -> tuple[int, int] | None:
    if low is None and high is None:
        return None
    found = (low if low is not None else 0, high if high is not None else MAX_PRIORITY)
    if found[0] > found[1]:
        raise BadRequest("priorityMin is above priorityMax")
    return found


@dataclass(frozen=True)
class Listing:
    """One listing's parameters: the holder (`who`), the caller and its groups for its queue
    (`cand`), the status, one group's queue, a priority range, only overdue tasks (open, past
    their `dueDate` or with a fired escalation step: tasks.escalations.is_overdue)."""

    who: str | None
    cand: tuple[str, list[str]] | None
    status: str | None
    group: str | None
    priority: tuple[int, int] | None
    search: str | None = None
    due_before: str | None = None
    sort: str = "queue"  # a list in queue order may be read in due-date or age order instead
    overdue: bool = False  # only open tasks past their dueDate or with a fired step (tasks.escalations)

    @property
    def of_open_tasks(self) -> bool:
        return self.cand is not None or self.group is not None or self.status == "open"

    @property
    def in_queue_order(self) -> bool:
        return self.cand is not None or self.group is not None or (self.who is not None and self.status == "open")

    def check(self) -> None:
        if self.group is not None and self.who is not None:
            raise BadRequest("group lists a group's queue: give it with candidate=me or alone, not with assignee")
        if self.priority is not None and not self.in_queue_order:
            raise BadRequest("priorityMin and priorityMax narrow the lists in queue order (candidate=me, group, "
                             "or assignee with status=open), whose index is ordered by priority")
        if self.sort != "queue" and not self.in_queue_order:
            raise BadRequest("sort orders the lists in queue order (candidate=me, group, or assignee with "
                             "status=open); the other lists are newest first")
        if self.sort != "queue" and self.priority is not None:
            raise BadRequest("priorityMin and priorityMax narrow queue order (sort=queue)")
        if (self.search is not None or self.due_before is not None) and not self.of_open_tasks:
            raise BadRequest("search and dueBefore narrow lists of open tasks (candidate=me, group, or "
                             "status=open): they filter the listing's items, whose cost must not grow with history")

    def holds(self, task: Task, now: str) -> bool:
        """Whether the listing holds this task (the search by id)."""
        if self.status is not None and task.status != self.status:
            return False
        if self.overdue and not is_overdue(task, now):
            return False
        if self.priority is not None and not self.priority[0] <= task.priority <= self.priority[1]:
            return False
        if self.search is not None and self.search not in search_text(task):
            return False
        if self.due_before is not None and not (task.dueDate is not None and task.dueDate <= self.due_before):
            return False
        if self.who is not None:
            return task.assignee == self.who and not (self.status == "open" and task.lease_expired(now))
        if self.cand is None and self.group is None:
            return True
        free = task.status == "open" and (task.assignee is None or task.lease_expired(now))
        if not free or task.type != "manual":
            return False
        if self.group is not None:
            return self.group in task.candidateGroups
        assert self.cand is not None
        return self.cand[0] in task.candidateUsers or bool(set(self.cand[1]) & set(task.candidateGroups))
