"""Eligibility: may this user hold this task now, given by whom? The one answer for every path
that gives a task to someone, and the conditions its write asserts.

The paths (`PATHS`): a claim (native, Itential, bulk), claim-next, an assign (Itential, bulk), a
group member's assign (Journey Manager), a reassign (ConductorOne, bulk), a delegation and its
resolution (native). Each asks `decide` with a `Handover` (the task as the rules see it, the
caller, the path, the users to hold it and the memberships read with it) and gets a `Grant` (who
holds it, who is offered it, the memberships the write must assert: `change.Membership`, a rule of
`storage.conditions`), None when there is nothing to do, or the refusal as a domain error that
each dialect renders in its own shape.

In order, a path checks: what every path checks (`_open_to`: role, open, manual; nothing to do
when the user holds it already), who may give it on this path (the path's own function below),
the reassignment policy when a held task passes to someone else (`_pass_on`, on every path), and
the rules about the person who is to hold it (`_may_hold`, on every path). Acting on a task held by
someone else is admin's or a lead's of its groups (tasks.oversight, asserted by the write).

To add a rule about who may hold a task: add it to `_may_hold` (and, if the task item alone cannot
decide it, make `direct_claim` answer None). A new path: a constant in `PATHS`, a function in
`_DECIDE`, and a row in tests/unit/test_eligibility.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, NamedTuple

from baton import clock
from baton.domain import Caller, require_role
from baton.errors import BadRequest, Conflict, Forbidden
from baton.storage.conditions import Param, Rule, absent, contains, eq, rule, size
from baton.tasks import standins
from baton.tasks.change import Groups, Membership, membership
from baton.tasks.domain import Person, Task
from baton.tasks.holders import check_holder
from baton.tasks.oversight import oversight
from baton.tasks.policy import check_policy
from baton.tasks.rules import (
    FREE,
    MANUAL,
    OPEN,
    fields,
    is_candidate,
    may_work_on,
    require_group_task,
    require_manual,
    require_open,
)
from baton.tasks.separation import Held, LedgerEntry, ledger_entry
from baton.tasks.separation import refusal as separation_refusal

CLAIM, CLAIM_NEXT, ASSIGN, MEMBER_ASSIGN, REASSIGN = "claim", "claim-next", "assign", "member-assign", "reassign"
DELEGATE, RESOLVE = "delegate", "resolve"
PATHS = (CLAIM, CLAIM_NEXT, ASSIGN, MEMBER_ASSIGN, REASSIGN, DELEGATE, RESOLVE)

# A task anyone eligible may claim: open, manual, held by nobody.
CLAIMABLE = rule(OPEN, MANUAL, FREE)
# The one-request claim (no read first): a claimable task whose only candidate is the caller
# (`me`), offered to no group, without a lease to set, a pending claim event to write out, a
# case (whose holds the claim must record: tasks.separation) or an escalation ladder to re-arm
# (tasks.escalations). Its condition is this rule rendered; anything else takes the read-and-decide path.
DIRECT_CLAIM = CLAIMABLE & rule(contains("candidateUsers", Param("me")), size("candidateUsers", 1),
                                size("candidateGroups", 0), absent("lastEvent"), absent("leaseSeconds"),
                                absent("caseId"), absent("escalations"))
# A write at the version the client expects (If-Match).
AT_VERSION = eq("version", Param("version"))


class Handover(NamedTuple):
    """A request to give `task` (as the rules see it: a passed lease taken over) to `targets` (one
    to hold it; several to be offered it, on a reassign) on path `via`, by `caller`. `groups`: the
    memberships read with the task (None: not read; the caller is then taken for a member of the
    task's groups, and the write asserts it). `reason`: why (a reassignment's comment)."""

    task: Task
    caller: Caller
    via: str
    targets: tuple[str, ...]
    groups: Groups
    reason: str | None = None
    # The users read with the task, as the rules see them (presence, capacity, load, skills); a
    # user missing is not a user of the tenant, or was not read (the write asserts what it can).
    people: Mapping[str, Person] | None = None


class Grant(NamedTuple):
    """Who holds the task after the write (None: nobody, it is offered to `offered`), and the
    memberships the write asserts. `reassignment`: a held task passes to someone else."""

    holder: str | None
    offered: tuple[str, ...] = ()
    members: tuple[Membership, ...] = ()
    reassignment: bool = False
    ledger: LedgerEntry | None = None  # separation of duties: the holder's holds in the task's case
    on_behalf_of: str | None = None  # absence: the absent user the work was meant for (tasks.standins)
    reason: str | None = None  # absence:<mode>, when it went to who stands in


def decide(h: Handover) -> Grant | None:
    """Grant the handover, or raise why not; None when there is nothing to do. A holder of a case's
    task adds it to their holds in the case, in the write, on condition that they held none of the
    tasks or activities it is separated from (tasks.separation: race-safe). Work given to an absent
    user goes to who stands in, the write pinning the absences (tasks.standins)."""
    grant = _DECIDE[h.via](h)
    if grant is not None:  # work meant for an absent user goes to who stands in
        grant = standins.apply(h, grant, _may_hold)
    if grant is None or grant.holder is None:
        return grant
    task = h.task
    return grant._replace(ledger=ledger_entry(task.id, task.caseId, task.activityId, task.separation, grant.holder))


def direct_claim(caller: Caller, if_match: int | None) -> tuple[Rule, dict[str, Any]] | None:
    """The fast path's condition for a claim by `caller`; None when the task item alone cannot decide:
    since capacity, always (a claim moves the claimant's load: docs/decisions.md, "People")."""
    return None


def may_claim_directly(task: Task, user_id: str) -> bool:
    return DIRECT_CLAIM.holds(fields(task), me=user_id)


def check_claim(task: Task, caller: Caller, groups: Iterable[str]) -> bool:
    """Raise why the caller may not claim; False when the caller already holds it."""
    return decide(Handover(task, caller, CLAIM, (caller.user_id,), {caller.user_id: list(groups)})) is not None


# ---- what every path checks ----------------------------------------------------------------------

def _open_to(h: Handover, target: str) -> bool:
    """Role, open, manual; False when `target` holds the task already (nothing to do)."""
    require_role(h.caller)
    require_open(h.task)
    require_manual(h.task)
    return h.task.assignee != target


def _groups_of(h: Handover, user: str) -> list[str] | None:
    """`user`'s groups as read (None: not a user of the tenant); not read: the task's groups."""
    if h.groups is None:
        return list(h.task.candidateGroups) if user == h.caller.user_id else None
    return h.groups.get(user)


def _membership(h: Handover, user: str) -> tuple[Membership, ...]:
    return membership(h.task, h.caller, user, h.groups)


def _pass_on(h: Handover, targets: tuple[str, ...]) -> bool:
    """A held task passing to someone else is a reassignment, on every path: the task's policy
    applies as it does to a reassign (tasks.policy). True when it is one."""
    if h.via != REASSIGN and (h.task.assignee is None or targets == (h.task.assignee,)):
        return False
    check_policy(h.task, targets, h.groups, h.reason)
    return True


def separated(task: Task, user: str, held: Held = Held()) -> str | None:
    """Why separation of duties keeps `user` from holding `task` (the rule), given their holds in its
    case; None if not. `_may_hold` asks it, and a read too (`mayHold`: tasks.reads, the inbox)."""
    return separation_refusal(task.separation, task.createdBy, user, held)


def _may_hold(h: Handover, user: str) -> None:
    """The rules about the person who is to hold the task, whatever the path: separation of
    duties (its creator; what they held in the case is asserted by the write: `decide`), then
    active, skills, capacity (tasks.holders: asserted by the write too, on the user's load item). An
    absent user given work by someone else is not checked: who stands in is (tasks.standins)."""
    if standins.covered(h, user):
        return
    why = separated(h.task, user)
    if why is not None:
        raise Conflict(why, reason="separation")
    check_holder(h.task, (h.people or {}).get(user), user, holds=len(h.targets) == 1)


# ---- who may give it, path by path -------------------------------------------------------------

def _claim(h: Handover) -> Grant | None:
    """The caller takes a task it may work on (a candidate, or admin) that nobody holds."""
    me, task = h.caller.user_id, h.task
    if not _open_to(h, me):
        return None
    acting = None  # a delegate claims where the absent users it stands in for are candidates (tasks.standins)
    if not may_work_on(task, h.caller, _groups_of(h, me) or []) and not (
            acting := standins.acting_for(task, h.caller, h.people)):
        raise Forbidden(f"User {h.caller.username} may not work on task {task.id}", reason="accessDenied")
    if not FREE.holds(fields(task), {}):
        raise Conflict(f"Task {task.id} is already claimed by {task.assignee}",
                       reason="txnAlreadyAssigned", holder=task.assignee)
    if task.offeredTo not in (None, me) and task.offer_live(clock.stamp()):
        raise Conflict(f"Task {task.id} is offered to {task.offeredTo} until {task.offerExpiresAt}",
                       reason="offered")
    _may_hold(h, me)
    return standins.on_behalf(Grant(me, members=_membership(h, me)), acting)


def _assign(h: Handover) -> Grant | None:
    """A task to a candidate of it: anyone may give a free task; the holder may pass its own on,
    admin anyone's (a reassignment: `_pass_on`)."""
    target, task = h.targets[0], h.task
    if _groups_of(h, target) is None:
        raise BadRequest(f"User {target} not found", reason="userNotFound")
    if not _open_to(h, target):
        return None
    acting = standins.acting_for(task, h.caller, h.people, target, _groups_of(h, target))  # a delegate, to itself
    if not is_candidate(task, target, _groups_of(h, target) or []) and acting is None:
        raise BadRequest(f"User {target} may not work on task {task.id}", reason="accessDenied")
    over = () if task.assignee in (None, h.caller.user_id) else oversight(task, h.caller, h.people)
    if over is None:  # held by someone else: admin's, or a lead's of its groups (tasks.oversight)
        raise Conflict(f"Task {task.id} is already assigned to {task.assignee}",
                       reason="txnAlreadyAssigned", holder=task.assignee)
    reassignment = _pass_on(h, (target,))
    _may_hold(h, target)
    return standins.on_behalf(Grant(target, members=_membership(h, target) + over, reassignment=reassignment), acting)


def _member_assign(h: Handover) -> Grant | None:
    """A group task to a member of its groups: the caller, or anyone by admin; a held task is
    unassigned first (so it never passes from a holder here)."""
    target, task, me = h.targets[0], h.task, h.caller.user_id
    require_role(h.caller)
    require_open(task)
    require_manual(task)
    require_group_task(task)
    over = () if target == me else oversight(task, h.caller, h.people)
    if over is None:
        raise Forbidden("Only admin or a lead of the task's groups may assign it to someone else",
                        reason="accessDenied")
    acting = standins.acting_for(task, h.caller, h.people, target, _groups_of(h, target))  # a delegate, to itself
    if not set(_groups_of(h, target) or []) & set(task.candidateGroups) and acting is None:
        raise Forbidden(f"User {target} is not a member of the groups of task {task.id}", reason="accessDenied")
    if task.assignee == target:
        return None
    if task.assignee is not None:
        raise Conflict(f"Task {task.id} is already assigned to {task.assignee}; unassign it first",
                       reason="txnAlreadyAssigned", holder=task.assignee)
    reassignment = _pass_on(h, (target,))
    _may_hold(h, target)
    return standins.on_behalf(Grant(target, members=_membership(h, target) + over, reassignment=reassignment), acting)


def _reassign(h: Handover) -> Grant | None:
    """The holder, a candidate of a free task (or, to itself, a delegate of an absent candidate), or admin
    gives the task to one user, or offers it to several (they become its candidates), within its policy."""
    task, me, targets = h.task, h.caller.user_id, h.targets
    require_role(h.caller)
    require_open(task)
    require_manual(task)
    own = task.assignee == me or (task.assignee is None and is_candidate(task, me, _groups_of(h, me) or []))
    over = None if (acting := standins.reassigns_to_self(h, own)) or own else oversight(task, h.caller, h.people)
    if over is None and not (own or acting):
        raise Forbidden(f"User {h.caller.username} may not reassign task {task.id}", reason="accessDenied")
    _pass_on(h, targets)
    for user in targets:
        _may_hold(h, user)
    members = () if task.assignee == me else _membership(h, me) if own else over or ()
    if over:  # a lead (not admin) gives its groups' tasks to their candidates only, asserted like an assign
        strangers = [u for u in targets if not is_candidate(task, u, _groups_of(h, u) or [])]
        if strangers:
            raise Forbidden(f"A lead gives task {task.id} only to its candidates: not {', '.join(strangers)}",
                            reason="accessDenied")
        members += tuple(m for u in targets for m in _membership(h, u))
    if len(targets) == 1:
        return standins.on_behalf(Grant(targets[0], members=members, reassignment=True), acting)
    return Grant(None, offered=targets, members=members, reassignment=True)


def _delegate(h: Handover) -> Grant | None:
    """The holder (or admin) hands its task to a user of the tenant, keeping it as owner."""
    target, task = h.targets[0], h.task
    if _groups_of(h, target) is None:
        raise BadRequest(f"User {target} not found", reason="userNotFound")
    if not _open_to(h, target):
        return None
    if task.assignee is None:
        raise Conflict(f"Task {task.id} is not assigned: claim it before delegating it", reason="notAssigned")
    if task.assignee != h.caller.user_id and not h.caller.is_admin:
        raise Forbidden(f"Task {task.id} is held by {task.assignee}", reason="accessDenied")
    if task.delegationState == "pending":
        raise Conflict(f"Task {task.id} is delegated already; resolve it first", reason="alreadyDelegated")
    _may_hold(h, target)
    return Grant(target)


def _resolve(h: Handover) -> Grant | None:
    """The delegate (or admin) gives a delegated task back to its owner."""
    task = h.task
    require_role(h.caller)
    require_open(task)
    if task.delegationState != "pending" or task.owner is None:
        raise Conflict(f"Task {task.id} is not delegated", reason="notDelegated")
    if task.assignee != h.caller.user_id and not h.caller.is_admin:
        raise Forbidden(f"Task {task.id} is delegated to {task.assignee}", reason="accessDenied")
    _may_hold(h, task.owner)
    return Grant(task.owner)


_DECIDE: dict[str, Callable[[Handover], Grant | None]] = {CLAIM: _claim, CLAIM_NEXT: _claim, ASSIGN: _assign,
    MEMBER_ASSIGN: _member_assign, REASSIGN: _reassign, DELEGATE: _delegate, RESOLVE: _resolve}
