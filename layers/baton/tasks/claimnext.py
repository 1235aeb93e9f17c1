"""claim-next (`POST /api/v1/tasks/claim-next`): the caller takes the first task of its queue (or of
one group's queue) that it can win; None when there is none.

What it reads (docs/data-model.md): one Query of the caller's own queue partition, which holds at
its head the caller's user and load items (Keys.profile: groups, capacity, load, skills, active),
and the head page of each of the caller's group queues: this process's copy of it while that is
younger than queuecopy.COPY_SECONDS and not used up, else one Query per group (all at once), kept
as the copy (tasks.queuecopy); merged in queue order; then the claim itself, the claim's own
decision (tasks.eligibility) and conditional write. The caller's items are read from the index
and the group pages may be a copy, so both may be a moment old: nothing the write asserts is
taken from them on trust (the write holds the group membership it relies on, capacity, skills,
active, separation and the task's version: tasks.repository; a refused write's image of the task
says why), and a refusal decided on the caller's items (full, inactive, without a skill, not a
member, or no task at all) is confirmed by a consistent read of the caller before it is answered;
no task at all is answered only once the group queues themselves were read, not a copy. A task
this process is claiming is marked (queuecopy `take`): two requests of one process never try the
same one. A caller whose items are not in its queue partition (written before they were put
there), and a claim from one group's queue, read the caller first (one BatchGetItem). A
delegate's queue holds the queues of the absent users it stands in for (theirs and their groups':
tasks.standins `principals`, one BatchGetItem per hop of the reverse lookup), claimed on their behalf.

It tries the head first; concurrent callers read the same head, so after a collision (one refused
write, whose image of the task says why: no second read) each picks at random among the next
CLAIM_SPREAD, then wider; and where a claim-next of this environment lost a race on one of the
caller's group queues in the last CROWD_SECONDS, it starts spread out over the whole page read
(CROWD_SPREAD: a crowd is draining that queue, each environment from its own copy). A copy that
still showed a task a colleague took is behind: those groups are read again. A task is claimed
by the claim's own rule and write, never given twice; one the caller holds already is not an
answer (a copy, or the index, a moment behind its own claim).
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from baton import clock
from baton.domain import require_role
from baton.errors import BadRequest, Conflict, Forbidden, NotFound
from baton.tasks import eligibility, standins
from baton.tasks.algorithm import MAX_ATTEMPTS, read_principals
from baton.tasks.domain import Person, Task
from baton.tasks.holders import at_capacity, person_from
from baton.tasks.queuecopy import COPIES

if TYPE_CHECKING:
    from baton.tasks.service import TaskService

# claim-next reads the queue CLAIM_BATCH tasks at a time and claims its head; after a collision it
# picks at random among the first CLAIM_SPREAD untried, each further collision doubling the spread
# up to the whole batch: alone a worker takes the queue in order, in a crowd it spreads out.
CLAIM_BATCH = 32
CLAIM_SPREAD = 4
# A group queue where a claim-next of this environment lost a race (a colleague took the task) less
# than CROWD_SECONDS ago is crowded: the next claim-next on it starts among the first CROWD_SPREAD
# (the whole page: environments pick from copies up to COPY_SECONDS old, whose heads are the most
# likely taken; docs/decisions.md, "claim-next's copies of group queues").
CROWD_SECONDS = 5
CROWD_SPREAD = CLAIM_BATCH
_lost: dict[tuple[str, str, str], datetime] = {}  # (table, tenant, group) -> when a race was lost there
# Refusals that may come from a stale copy of the caller (the index's): confirmed before answered.
DOUBTFUL = frozenset({"capacity", "userInactive", "missingSkills", "accessDenied"})
# Refusals that say the task is nobody's to claim now (kept marked in this process: tasks.queuecopy).
GONE = frozenset({"txnAlreadyAssigned", "txnAlreadyFinished", "txnNotFound", "offered"})


def _pick(n: int) -> int:
    return random.randrange(n)  # noqa: S311 - spreading load, not security


class _Doubt(Exception):
    """A refusal, or an empty queue (`empty`), decided on the index's copy of the caller: read it and see."""

    def __init__(self, empty: bool = False) -> None:
        super().__init__()
        self.empty = empty


def claim_next(service: TaskService, group_id: str | None = None, lease_seconds: int | None = None) -> Task | None:
    require_role(service.caller)
    me, tenant = service.caller.user_id, service.caller.tenant
    seen: Person | None = None
    empty = False
    if group_id is None:
        own, read = service.listings.own_head(tenant, me, CLAIM_BATCH)
        if "user" in own and "load" in own:  # the caller's items, as the index has them
            seen = service.tasks.people[me] = person_from(own["user"], own["load"])
            try:
                return _claim_next(service, seen, None, lease_seconds, read)
            except _Doubt as doubt:
                empty = doubt.empty
    person = service.tasks.read_people(tenant, [me]).get(me)
    same = seen is not None and person is not None and (set(person.groups), person.stands_in_for) == (
        set(seen.groups), seen.stands_in_for)
    if empty and same and person is not None and not person.full:
        return None  # the very queues it would read were read: there is none to take
    return _claim_next(service, person, group_id, lease_seconds)


def _claim_next(service: TaskService, person: Person | None, group_id: str | None, lease_seconds: int | None,
                read: dict[str, Any] | None = None) -> Task | None:
    """claim-next on `person` (the caller as read; `read`: from the index, with its own queue's
    first page, and any refusal is a _Doubt)."""
    me = service.caller.user_id
    doubtful = read is not None
    groups = list(person.groups) if person else []
    if person is not None and person.full:
        raise _Doubt() if doubtful else at_capacity(person)
    if group_id is not None:
        if group_id not in groups and not service.caller.is_admin:
            raise Forbidden(f"User {service.caller.username} is not a member of group {group_id}",
                            reason="accessDenied")
        candidate: tuple[str, list[str]] = (me, [group_id])
    else:
        candidate = (me, groups)
    also: tuple[str, ...] = ()  # a delegate's queue holds the absent users' it stands in for (tasks.standins)
    if group_id is None and person is not None and person.stands_in_for:
        known = read_principals(service.tasks, service.caller.tenant, me)
        also = tuple(standins.principals(me, known))
        candidate = (me, list(dict.fromkeys([*groups, *(g for u in also for g in known[u].groups)])))
    action = service.handover(eligibility.CLAIM_NEXT, "claim", (me,), leased=True, lease_seconds=lease_seconds)
    table, tenant = service.db.table, service.caller.tenant
    tried: set[str] = set()
    cursor: str | None = None
    crowd = [(table, tenant, g) for g in candidate[1]]
    recent = clock.current() - timedelta(seconds=CROWD_SECONDS)
    # the head; spread out once a colleague got there first (now, or lately on these queues)
    spread = CROWD_SPREAD if any(_lost.get(k, recent) > recent for k in crowd) else 1
    served: list[str] = []  # group queues answered from this process's copies (tasks.queuecopy)
    fresh_read = False
    for _ in range(MAX_ATTEMPTS * 4):
        tasks, cursor = service.listings.queue_head(tenant, candidate, CLAIM_BATCH, cursor, own_queue=group_id is None,
                                                    read=read, also=also, copies=COPIES, served=served)
        fresh = [t for t in tasks if t.id not in tried]
        stale = False
        while fresh and not stale:
            task = fresh.pop(_pick(min(spread, len(fresh))))
            tried.add(task.id)
            if not COPIES.take(table, tenant, task.id):
                continue  # another request of this process is claiming it, or has
            gone = False
            try:
                claimed, change = service.apply(task.id, action, None, (task, {me: groups}))
                gone = True
                if change is not None:
                    return claimed
                continue  # the caller holds it already (a copy, or the index, behind its own claim): not a new one
            except (Conflict, Forbidden, BadRequest, NotFound) as refused:
                gone = refused.reason in GONE
                if doubtful and refused.reason in DOUBTFUL:
                    raise _Doubt() from None
                if isinstance(refused, Conflict) and refused.reason == "capacity":  # full: no other task either
                    raise
                if refused.reason == "txnAlreadyAssigned":  # a colleague took it: these queues are crowded
                    if len(_lost) > 4096:
                        _lost.clear()
                    _lost.update(dict.fromkeys(crowd, clock.current()))
                    # a copy that still showed it is behind: read those queues again
                    copied = [g for g in served if g in task.candidateGroups]
                    if copied:
                        COPIES.forget(table, tenant, copied)
                        served, stale, cursor = [g for g in served if g not in copied], True, None
                spread = min(CLAIM_BATCH, max(CLAIM_SPREAD, spread * 2))  # taken or changed: spread out
            finally:
                if not gone:
                    COPIES.put_back(table, tenant, task.id)
        if cursor is None and not stale:
            if served and not fresh_read:  # the end of this process's copies: the queues themselves, to be sure
                COPIES.forget(table, tenant, served)
                served, fresh_read = [], True
                continue
            if doubtful:
                raise _Doubt(empty=True)
            return None
    raise Conflict("The queue is changing too fast; try again", reason="busy")
