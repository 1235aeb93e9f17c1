"""A task change as a value: the task before (as read), the task after, the events written with it,
and what the write asserts. The service builds one per action (tasks.service), the repository
writes it as one transaction (tasks.repository), and nothing else describes a change.

What a change asserts is declared through `storage.conditions` (one rule: a Python check and a
DynamoDB condition): on the task item, the state the rules were checked on (version, status,
assignee) and the lease where it matters (`task_rule`); on user items, the group memberships the
decision relied on (`Membership`, from tasks.eligibility)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from baton.domain import Caller
from baton.storage.conditions import Rule, absent, after, at_most, contains, either, eq, rule
from baton.tasks.domain import HistoryEvent, Task
from baton.tasks.leases import LEASE
from baton.tasks.separation import LedgerEntry

# The group memberships read with a task, by user id (a user missing is not a user of the tenant);
# None: not read (the fast path's refused image), see tasks.eligibility.
Groups = Mapping[str, list[str]] | None


class Pin(NamedTuple):
    """A user's absence as the decision read it (the stored map; None: none), asserted unchanged,
    and whether it was active (offboarded: inactive, standing in for nobody), asserted too."""

    absence: Any
    active: bool = True

    @property
    def rule(self) -> Rule:
        away = absent("absence") if self.absence is None else eq("absence", self.absence)
        return rule(away, either(absent("active"), eq("active", True)) if self.active else eq("active", False))


class Membership(NamedTuple):
    """A change relies on `user` being a member of one of `groups` (none: on nothing but its
    absence); the write asserts it on the user's item. `assumed`: taken for granted (not read), so
    losing it means it never held. `absence`: the user's absence as read, asserted unchanged
    (tasks.standins: work is never given to a user who went away meanwhile)."""

    user: str
    groups: tuple[str, ...]
    assumed: bool = False
    absence: Pin | None = None
    attribute: str = "groups"  # "leads": the user leads one of `groups` (tasks.oversight)

    @property
    def in_groups(self) -> Rule:
        return rule(either(*(contains(self.attribute, g) for g in self.groups))) if self.groups else rule()

    @property
    def rule(self) -> Rule:
        return self.in_groups & self.absence.rule if self.absence is not None else self.in_groups


def membership(task: Task, caller: Caller, user: str, groups: Groups) -> tuple[Membership, ...]:
    """What a write asserts for `user` to hold (or act on) the task: nothing for a candidate user
    (or admin acting for itself); else a membership of a candidate group it shares (not read:
    of one of the task's groups). tasks.eligibility decides with it."""
    if user in task.candidateUsers or caller.is_admin and user == caller.user_id:
        return ()
    if groups is None:
        return (Membership(user, tuple(task.candidateGroups), assumed=True),) if task.candidateGroups else ()
    shared = sorted(set(groups.get(user) or []) & set(task.candidateGroups))
    return (Membership(user, (shared[0],)),) if shared else ()


class Change(NamedTuple):
    """One change of one task. `expired`: the `lease-expired` event of a takeover (numbered before
    `event`), when the change takes over a passed lease; `by_holder`: the holder's own action
    (release, heartbeat, complete), which asserts its lease has not passed meanwhile."""

    before: Task
    after: Task
    event: HistoryEvent
    expired: HistoryEvent | None = None
    members: tuple[Membership, ...] = ()
    by_holder: bool = False
    ledger: LedgerEntry | None = None  # the holder's holds in the task's case (tasks.separation)

    @property
    def events(self) -> tuple[HistoryEvent, ...]:
        return (self.expired, self.event) if self.expired is not None else (self.event,)

    def holders(self) -> tuple[str | None, str | None]:
        """Who bore the task as read (held it, or had it offered: an offer reserves a slot) and who
        bears it after the change: the users whose load it changes (the same user: nobody's)."""
        old = self.before.bearer if self.before.status == "open" else None
        new = self.after.bearer if self.after.status == "open" else None
        return (old, new) if old != new else (None, None)

    def task_rule(self) -> Rule:
        """The task is still exactly as read: version, status, assignee; a passed lease taken over
        had passed at the takeover; a holder's lease has not passed at the time of its action."""
        old = self.before
        pinned = rule(eq("version", old.version), eq("status", old.status),
                      absent("assignee") if old.assignee is None else eq("assignee", old.assignee))
        if self.expired is not None:
            return pinned & at_most(LEASE, self.expired.at)
        if self.by_holder and old.leaseExpiresAt:
            return pinned & either(absent(LEASE), after(LEASE, self.event.at))
        return pinned

    def membership_of(self, user: str) -> Membership | None:
        return next((m for m in self.members if m.user == user), None)

    def assertions(self) -> dict[str, tuple[str, Rule]]:
        """The memberships and leads asserted, by user (one check of its item in the write): what a
        refusal lost ("leads" when the user's lead is asserted, else "groups") and the rule."""
        found: dict[str, tuple[str, Rule]] = {}
        for m in self.members:
            kind, asserted = found.get(m.user, ("groups", rule()))
            found[m.user] = ("leads" if m.attribute == "leads" else kind, asserted & m.rule)
        return found


class Seen(NamedTuple):
    """A task as read (`before`), as the rules see it (`view`: a passed lease taken over, with its
    `expired` event), and the memberships read with it. `change` makes the Change of an action."""

    before: Task
    view: Task
    expired: HistoryEvent | None
    groups: Groups
    by_holder: bool

    def change(self, after: Task, event: HistoryEvent, members: tuple[Membership, ...] = (),
               ledger: LedgerEntry | None = None) -> Change:
        return Change(self.before, after, event, self.expired, members, self.by_holder, ledger)
