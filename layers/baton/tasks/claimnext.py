"""claim-next (`POST /api/v1/tasks/claim-next`): the caller takes the first task of its queue (or of
one group's queue) that it can win; None when there is none.

What it reads (docs/data-model.md): one Query of the caller's own queue partition, which holds at
its head the caller's user and load items (Keys.profile: groups, capacity, load, skills, active),
then one Query per group queue of the caller (all at once), merged in queue order; then the claim
itself, the claim's own decision (tasks.eligibility) and conditional write. The caller's items are
read from the index, so they may be a moment old: nothing the write asserts is taken from them on
trust (the write holds the group membership it relies on, capacity, skills, active, separation
and the task's version: tasks.repository), and a refusal decided on them (full, inactive, without
a skill, not a member, or no task at all) is confirmed by a consistent read of the caller before
it is answered. A caller whose items are not in its queue partition (written before they were
put there), and a claim from one group's queue, read the caller first (one BatchGetItem). A
delegate's queue holds the queues of the absent users it stands in for (theirs and their groups':
tasks.standins `principals`, one BatchGetItem per hop of the reverse lookup), claimed on their behalf.

It tries the head first; concurrent callers read the same head, so after a collision (one refused
write, whose image of the task says why: no second read) each picks at random among the next
CLAIM_SPREAD, then wider; and where a claim-next of this environment lost a race on one of the
caller's group queues in the last CROWD_SECONDS, it starts spread out (a crowd is draining that
queue). A task is claimed by the claim's own rule and write, never given twice.
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

if TYPE_CHECKING:
    from baton.tasks.service import TaskService

# claim-next reads the queue CLAIM_BATCH tasks at a time and claims its head; after a collision it
# picks at random among the first CLAIM_SPREAD untried, each further collision doubling the spread
# up to the whole batch: alone a worker takes the queue in order, in a crowd it spreads out.
CLAIM_BATCH = 32
CLAIM_SPREAD = 4
# A group queue where a claim-next of this environment lost a race (a colleague took the task) less
# than CROWD_SECONDS ago is crowded: the next claim-next on it starts among the first CLAIM_SPREAD.
CROWD_SECONDS = 5
_lost: dict[tuple[str, str, str], datetime] = {}  # (table, tenant, group) -> when a race was lost there
# Refusals that may come from a stale copy of the caller (the index's): confirmed before answered.
DOUBTFUL = frozenset({"capacity", "userInactive", "missingSkills", "accessDenied"})


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
    tried: set[str] = set()
    cursor: str | None = None
    crowd = [(service.db.table, service.caller.tenant, g) for g in candidate[1]]
    recent = clock.current() - timedelta(seconds=CROWD_SECONDS)
    # the head; spread out once a colleague got there first (now, or lately on these queues)
    spread = CLAIM_SPREAD if any(_lost.get(k, recent) > recent for k in crowd) else 1
    for _ in range(MAX_ATTEMPTS * 4):
        tasks, cursor = service.listings.queue_head(service.caller.tenant, candidate, CLAIM_BATCH, cursor,
                                                    own_queue=group_id is None, read=read, also=also)
        fresh = [t for t in tasks if t.id not in tried]
        while fresh:
            task = fresh.pop(_pick(min(spread, len(fresh))))
            tried.add(task.id)
            try:
                return service.apply(task.id, action, None, (task, {me: groups}))[0]
            except (Conflict, Forbidden, BadRequest, NotFound) as refused:
                if doubtful and refused.reason in DOUBTFUL:
                    raise _Doubt() from None
                if isinstance(refused, Conflict) and refused.reason == "capacity":  # full: no other task either
                    raise
                if refused.reason == "txnAlreadyAssigned":  # a colleague took it: these queues are crowded
                    if len(_lost) > 4096:
                        _lost.clear()
                    _lost.update(dict.fromkeys(crowd, clock.current()))
                spread = min(CLAIM_BATCH, max(CLAIM_SPREAD, spread * 2))  # taken or changed: spread out
        if cursor is None:
            if doubtful:
                raise _Doubt(empty=True)
            return None
    raise Conflict("The queue is changing too fast; try again", reason="busy")
