"""Who gets a group's free task: the routing strategies as pure functions of the group's members
(as read, with their presence, load, capacity and skills) and the task's required skills.

`pick` chooses; the write that gives the task (the same conditional write as a claim, with the
load change in the same transaction) decides: a pick that went stale between the read and the
write (someone else filled the member's last slot, the member went away) is refused there and the
router picks again. Nothing here reads or writes the table."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence

from baton import clock
from baton.directory.domain import Strategy, User

PUSH_STRATEGIES: tuple[Strategy, ...] = ("round-robin", "least-loaded", "longest-idle")


def has_skills(user: User, required: Iterable[str]) -> bool:
    """The user holds every one of the required skills."""
    return set(required) <= set(user.skills)


def has_room(user: User, load: int | None = None) -> bool:
    """One more open task keeps the user within its capacity (no capacity: always)."""
    return user.capacity is None or (user.load if load is None else load) < user.capacity


def routable(user: User, required: Iterable[str] = (), excluded: Collection[str] = ()) -> bool:
    """May the router give a task needing `required` to this user now: active, available, not
    absent (directory.absence), under capacity, holding the skills, and not excluded (it rejected
    the offer, or separation of duties)."""
    return (user.active and user.presence == "available" and not away(user) and has_room(user)
            and has_skills(user, required) and user.id not in excluded)


def away(user: User) -> bool:
    """The user is absent now: never routed to (API.md "Absence")."""
    return user.absence is not None and user.absence.active(clock.stamp())


def pick(strategy: Strategy, members: Sequence[User], required: Iterable[str] = (), *,
         last: str | None = None, excluded: Collection[str] = ()) -> User | None:
    """The member a free task goes to, None when nobody is eligible (or the group is `pull`).
    `members` in the group's order; `last`: the member round-robin gave the previous task to.
    - round-robin: the first eligible member after `last`, going round;
    - least-loaded: the fewest open tasks; ties to the one whose last assignment is oldest, then
      by the group's order;
    - longest-idle: the one whose last assignment is oldest (never assigned first), then by order."""
    wanted = set(required)
    eligible = [(i, m) for i, m in enumerate(members) if routable(m, wanted, excluded)]
    if strategy == "pull" or not eligible:
        return None
    if strategy == "round-robin":
        ids = [m.id for m in members]
        start = ids.index(last) + 1 if last in ids else 0
        return min(eligible, key=lambda im: (im[0] - start) % len(members))[1]
    if strategy == "least-loaded":
        return min(eligible, key=lambda im: (im[1].load, im[1].lastAssignedAt or "", im[0]))[1]
    return min(eligible, key=lambda im: (im[1].lastAssignedAt or "", im[0]))[1]


def spread(members: Iterable[User]) -> int:
    """The difference between the highest and the lowest load."""
    loads = [m.load for m in members]
    return max(loads) - min(loads) if loads else 0
