"""Absence: who stands in for a user who is away (API.md "Absence, delegation, offboarding").

Pure functions of the absences read with a change. An absence is kept on the user's item
(`absence`), so it ends by itself at `until`: every reader compares it with the time of the
read (the sweep removes it after `until`, only so that the router hears the user is back). Work
given or offered to an absent user goes to the delegate instead (`redirect`) or to both
(`share`), following delegates up to `MAX_HOPS` hops; a chain that ends at an absent user
without a delegate leaves the work where it is (in its queues)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Literal

from pydantic import Field

from baton.domain import Model

AbsenceMode = Literal["redirect", "share"]
MAX_HOPS = 3


class Absence(Model):
    start: str = Field(alias="from")  # fixed-width UTC stamps (baton.domain.utc_timestamp)
    until: str
    delegateTo: str | None = None
    mode: AbsenceMode = "redirect"

    def active(self, now: str) -> bool:
        return self.start <= now < self.until

    def public(self) -> dict[str, object]:
        return self.model_dump(by_alias=True)


@dataclass(frozen=True)
class StandIn:
    """Where work meant for `meant_for` goes: to `users` (one for redirect or a present user, two
    for share: the absent user and the delegate), recorded `on_behalf_of` the absent user with
    reason `absence:<mode>`; `users` empty: nobody can take it now (it stays in its queues)."""

    meant_for: str
    users: tuple[str, ...]
    on_behalf_of: str | None = None
    mode: AbsenceMode | None = None
    path: tuple[str, ...] = ()  # every user the resolution followed, in order (`meant_for` first)

    @property
    def reason(self) -> str | None:
        return f"absence:{self.mode}" if self.mode else None

    @property
    def chain(self) -> tuple[str, ...]:
        """Every user the resolution looked at (their absences are what the write must pin)."""
        return tuple(dict.fromkeys((self.meant_for, *self.path, *self.users)))


Lookup = Callable[[str], Absence | None]


def absent(absences: Mapping[str, Absence | None], user: str, now: str) -> bool:
    found = absences.get(user)
    return found is not None and found.active(now)


def stand_in(user: str, lookup: Lookup, now: str, gone: Collection[str] = ()) -> StandIn:
    """Who takes work meant for `user` at `now`. `lookup(u)` is u's absence (None: none). The
    first absence's mode decides; delegates are followed up to MAX_HOPS hops. A delegate in `gone`
    (inactive: offboarded) stands in for nobody: the chain ends there as at an absent user
    without a delegate (the work stays in its queues)."""
    absence = lookup(user)
    if absence is None or not absence.active(now):
        return StandIn(user, (user,), path=(user,))
    mode, seen = absence.mode, [user]
    while absence is not None and absence.active(now):
        nxt = absence.delegateTo
        if nxt is None or nxt in seen or nxt in gone or len(seen) > MAX_HOPS:
            # a dead end (no delegate, or an inactive one), a cycle, or too long a chain: nobody takes it now
            path = (*seen, nxt) if nxt is not None and nxt in gone else tuple(seen)
            return StandIn(user, (), on_behalf_of=user, mode=mode, path=path)
        seen.append(nxt)
        absence = lookup(nxt)
    users = (user, seen[-1]) if mode == "share" else (seen[-1],)
    return StandIn(user, users, on_behalf_of=user, mode=mode, path=tuple(seen))


def refuses_cycle(user: str, delegate: str | None, lookup: Lookup) -> str | None:
    """Why setting `user`'s absence with `delegate` is refused (a cycle), else None. Every
    absence in the chain counts, current or future: a cycle refused today cannot form later
    when the absences overlap."""
    if delegate is None:
        return None
    if delegate == user:
        return "A user cannot stand in for themselves"
    chain, current = [user, delegate], delegate
    while True:
        absence = lookup(current)
        if absence is None or absence.delegateTo is None:
            return None
        if absence.delegateTo in chain:
            return f"Delegation cycle: {' -> '.join([*chain, absence.delegateTo])}"
        chain.append(absence.delegateTo)
        current = absence.delegateTo
