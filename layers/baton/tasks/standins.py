"""Absence on every path that gives or offers a task (API.md "Absence, delegation, offboarding"):
work meant for an absent user goes to who stands in (directory.absence: `redirect` to the last
delegate of the chain, `share` with them), recorded `onBehalfOf` the absent user with reason
`absence:<mode>`. tasks.eligibility asks `cover` after a path granted a hand-over, so each path
(assign in every dialect, reassign, bulk, delegate, resolve, the router's assign and offer, an
escalation's reassign) gets it by construction; an escalation's `offer` asks `retarget`.

A user taking work for themselves (a claim, claim-next, an assign to oneself) is never redirected:
they are acting, so they are here. A delegate acts on behalf of the absent users it stands in for
(`principals`, found through the reverse lookup `standsInFor` on its user item, written with each
absence, each confirmed by the absent user's own absence): it may claim wherever they are candidates
(`acting_for`, asked by tasks.eligibility's claim), recorded `onBehalfOf` the absent user with
reason `absence:<mode>`, the write pinning that absence (and the membership it relied on). The users
the decision looked at (the one meant, and every one of its chain) have their absence pinned by the
write (`Membership.absence`, a ConditionCheck on their user item): a `PUT .../absence` between the
read and the write refuses the write, and the hand-over is decided again on the new absence. Pure:
the people come in as read (`Person.absence`, the stored map), the delegates a chain needs are named
by `unread` for the service to read first."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from baton import clock
from baton.directory.absence import MAX_HOPS, Absence, StandIn, stand_in
from baton.errors import Conflict
from baton.tasks.change import Membership, Pin, membership
from baton.tasks.domain import Person, Task
from baton.tasks.rules import is_candidate
from baton.tasks.steps import Step

if TYPE_CHECKING:
    from baton.tasks.eligibility import Grant, Handover

# The paths that need one holder (tasks.eligibility DELEGATE, RESOLVE): a share gives the task to
# the delegate alone there (a delegation cannot be offered to several).
ONE_HOLDER = frozenset({"delegate", "resolve"})


class Cover(NamedTuple):
    """Who takes work meant for `users`: `users` with each absent one replaced by who stands in
    (one for redirect, the absent user and its delegate for share), the first absent user
    (`on_behalf_of`) and its reason, whether a share made it an offer to several, and the absence
    of every user looked at, to pin."""

    users: tuple[str, ...]
    on_behalf_of: str | None = None
    reason: str | None = None
    shared: bool = False
    pins: tuple[tuple[str, Pin], ...] = ()


def absence_of(person: Person | None) -> Absence | None:
    raw = person.absence if person is not None else None
    return Absence.model_validate(raw) if raw else None


def away(person: Person | None, now: str | None = None) -> bool:
    """The user is absent now (its absence has started and not ended)."""
    absence = absence_of(person)
    return absence is not None and absence.active(now or clock.stamp())


def _lookup(people: Mapping[str, Person]) -> Callable[[str], Absence | None]:
    return lambda user: absence_of(people.get(user))


def _gone(people: Mapping[str, Person]) -> frozenset[str]:
    """The users read who are inactive (offboarded): a delegate among them stands in for nobody."""
    return frozenset(u for u, p in people.items() if not p.active)


def unread(users: Iterable[str], people: Mapping[str, Person], now: str, tried: Iterable[str] = ()) -> list[str]:
    """The users, and the delegates their chains reach, that have not been read (and were not
    tried): the service reads them, then asks again, until none is left (at most MAX_HOPS rounds)."""
    known, skip, out = _lookup(people), set(tried), []
    for user in users:
        if user not in people:
            if user not in skip:
                out.append(user)
            continue
        seen = [user]
        absence = known(user)
        while absence is not None and absence.active(now) and absence.delegateTo and len(seen) <= MAX_HOPS:
            nxt = absence.delegateTo
            if nxt in seen:
                break
            if nxt not in people:
                if nxt not in skip:
                    out.append(nxt)
                break
            seen.append(nxt)
            absence = known(nxt)
    return list(dict.fromkeys(out))


def cover(users: Sequence[str], people: Mapping[str, Person], me: str, now: str | None = None,
          dead_ends: bool = False) -> Cover:
    """Who takes work meant for `users` (in order), given to them by `me`. Raises 409 `absent`
    when an absent user's chain ends without anyone to take it (a dead end, a cycle, too long):
    the work stays where it is (in its queues); `dead_ends`: that user is left out instead (an
    escalation's step, which then offers the task to the rest of its `to`)."""
    now = now or clock.stamp()
    lookup, gone = _lookup(people), _gone(people)
    out: list[str] = []
    first: StandIn | None = None
    pins: dict[str, Pin] = {}
    for user in users:
        if user == me:
            out.append(user)
            continue
        found = stand_in(user, lookup, now, gone)
        pins.update((u, _pin(people[u])) for u in found.chain if u in people)
        if found.on_behalf_of is None:
            out.append(user)
            continue
        if not found.users and dead_ends:
            continue
        if not found.users:
            raise Conflict(f"User {user} is absent and nobody can stand in for them now; the task stays where it is",
                           reason="absent")
        first = first or found
        out.extend(found.users)
    if first is None:
        return Cover(tuple(out), pins=tuple(pins.items()))
    return Cover(tuple(dict.fromkeys(out)), first.on_behalf_of, first.reason, first.mode == "share",
                 tuple(pins.items()))


def _pin(person: Person) -> Pin:
    return Pin(person.absence, person.active)


def pinned(members: Iterable[Membership], pins: Iterable[tuple[str, Pin]]) -> tuple[Membership, ...]:
    """The memberships a write asserts, with each pinned user's absence (and whether it is active)
    asserted on the same user item (one check per item: DynamoDB takes one operation per item in a
    transaction)."""
    out = {m.user: m for m in members}
    for user, pin in pins:
        held = out.get(user)
        out[user] = (held or Membership(user, ()))._replace(absence=pin)
    return tuple(out.values())


def covered(h: Handover, user: str) -> bool:
    """`user` is absent and given the work by someone else: the rules about who holds it apply to
    who stands in instead (tasks.eligibility `_may_hold`)."""
    return user != h.caller.user_id and away((h.people or {}).get(user))


def apply(h: Handover, grant: Grant, may_hold: Callable[[Handover, str], None]) -> Grant | None:
    """The grant of a path (to hold: `grant.holder`; offered: `grant.offered`) with absence applied:
    the absent users replaced by who stands in (redirect), or the task offered to them and their
    delegates (share: the delegate becomes a candidate too; on a reassign the offered users are the
    candidates, as for several users; on a delegation or resolution the delegate holds it). The
    rules about who holds it (`may_hold`) are asked of who stands in; every user looked at has its
    absence pinned. None when who stands in holds the task already."""
    found = cover((grant.holder,) if grant.holder is not None else grant.offered, h.people or {}, h.caller.user_id)
    members = pinned(grant.members, found.pins)
    if found.on_behalf_of is None:
        return grant._replace(members=members)
    task, users = h.task, found.users
    holder: str | None = None
    offered: tuple[str, ...] = ()
    if grant.holder is not None and (not found.shared or h.via in ONE_HOLDER):
        holder = users[-1]
    elif grant.holder is None or h.via == "reassign":
        offered = users
    else:
        offered = tuple(dict.fromkeys([*task.candidateUsers, *users]))
    if holder is not None and holder == task.assignee:
        return None
    checked = h._replace(targets=(holder,) if holder is not None else offered)
    for user in (holder,) if holder is not None else users:
        may_hold(checked, user)
    return grant._replace(holder=holder, offered=offered, members=members, on_behalf_of=found.on_behalf_of,
                          reason=found.reason)


def retarget(step: Step, people: Mapping[str, Person], me: str) -> tuple[Step, Cover | None]:
    """An escalation step (`reassign`, `offer`) whose `to.users` are replaced by who stands in for
    the absent ones (redirect: the delegate; share: both, so a reassign offers the task to them),
    and the cover (None: the step names nobody absent)."""
    if step.to is None or not step.to.users or step.action not in ("reassign", "offer"):
        return step, None
    found = cover(step.to.users, people, me, dead_ends=True)
    if found.users == tuple(step.to.users):
        return step, found
    return step.model_copy(update={"to": step.to.model_copy(update={"users": list(found.users)})}), found


def _reverse(me: str, people: Mapping[str, Person]) -> tuple[list[str], list[str]]:
    """The users reached from `me` backwards through `standsInFor` (at most MAX_HOPS hops): those
    read, and those named but not read yet."""
    found, missing, frontier = [me], list[str](), [me]
    for _ in range(MAX_HOPS):
        step: list[str] = []
        for user in frontier:
            for other in people[user].stands_in_for if user in people else ():
                if other in found or other in missing:
                    continue
                (step if other in people else missing).append(other)
        found += step
        frontier = step
    return found[1:], missing


def unread_principals(me: str, people: Mapping[str, Person], tried: Iterable[str] = ()) -> list[str]:
    """The users `me` may stand in for (its `standsInFor`, and theirs, up the chain) not read yet."""
    skip = set(tried)
    return [u for u in _reverse(me, people)[1] if u not in skip]


def principals(me: str, people: Mapping[str, Person], now: str | None = None) -> dict[str, StandIn]:
    """The absent users `me` stands in for now, by user: each found through the reverse lookup
    and confirmed by its own absence as read (its chain, at most MAX_HOPS hops, ends at `me`)."""
    now, lookup, gone = now or clock.stamp(), _lookup(people), _gone(people)
    out: dict[str, StandIn] = {}
    for user in _reverse(me, people)[0]:
        found = stand_in(user, lookup, now, gone)
        if found.on_behalf_of is not None and me in found.users and user != me:
            out[user] = found
    return out


class Acting(NamedTuple):
    """The caller claims on behalf of `user` (absent, a candidate of the task): what the write
    asserts (the membership it relied on, every absence of the chain pinned), and the reason."""

    user: str
    members: tuple[Membership, ...]
    reason: str | None


def acting_for(task: Task, caller: Any, people: Mapping[str, Person] | None, user: str | None = None,
               groups: list[str] | None = None) -> Acting | None:
    """The first absent user (by id) the caller stands in for now who is a candidate of `task`
    (a candidate user, or a member of a candidate group), else None; None too when the task is to
    go to someone else than the caller (`user`), or the caller is a candidate itself (`groups`: its
    groups, when asked so)."""
    me, people = caller.user_id, people or {}
    if user not in (None, me) or groups is not None and is_candidate(task, me, groups):
        return None
    for user, found in sorted(principals(me, people).items()):
        groups = list(people[user].groups)
        if not is_candidate(task, user, groups):
            continue
        members = membership(task, caller, user, {user: groups})
        return Acting(user, pinned(members, ((u, _pin(people[u])) for u in found.chain if u in people)),
                      found.reason)
    return None


def reassigns_to_self(h: Handover, own: bool) -> Acting | None:
    """A delegate's reassign of a free task to itself (ConductorOne's) acts for the absent user it
    stands in for, as its claim does; None otherwise (`own`: it may already, as a candidate)."""
    if own or h.targets != (h.caller.user_id,) or h.task.assignee is not None:
        return None
    return acting_for(h.task, h.caller, h.people)


def on_behalf(grant: Grant, acting: Acting | None) -> Grant:
    """The grant of a path to the caller, as the delegate of `acting.user` when it is one: the
    write asserts that user's absence (and membership), the event names them with the reason."""
    if acting is None:
        return grant
    return grant._replace(members=(*grant.members, *acting.members), on_behalf_of=acting.user, reason=acting.reason)
