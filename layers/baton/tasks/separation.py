"""Separation of duties (API.md "Separation of duties"): who may not hold a task because of
what they held before in the same case, or because they created it.

A user's holds in a case are one item (the case ledger: the task ids and activity ids the user
has held in that case). Every change that gives a task of a case to a user adds to that user's
ledger item in the same transaction, with a condition that the ledger holds none of the task's
separated tasks or activities: two such changes for one user and case write one item, so
DynamoDB serialises them and the second sees the first (never both, under any race). Pure
functions; the write is rendered by the task repository."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import Field

from baton.domain import Model

MAX_SEPARATED = 20  # tasks plus activities a task may be separated from (one condition each)


class Separation(Model):
    excludeCreator: bool = False
    tasks: list[str] = Field(default_factory=list)
    activities: list[str] = Field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.excludeCreator or self.tasks or self.activities)


@dataclass(frozen=True)
class Held:
    """What one user has held in one case (their ledger item; empty when they held nothing)."""

    tasks: frozenset[str] = frozenset()
    activities: frozenset[str] = frozenset()


@dataclass(frozen=True)
class LedgerEntry:
    """The ledger write a change must make when it gives task `task_id` of `case_id` to `user`:
    add the task (and its activity) to the user's holds, on condition that the holds contain
    none of `forbid_tasks` / `forbid_activities`."""

    case_id: str
    user: str
    task_id: str
    activity_id: str | None
    forbid_tasks: tuple[str, ...]
    forbid_activities: tuple[str, ...]

    def refused_by(self, held: Held) -> bool:
        return bool(set(self.forbid_tasks) & held.tasks or set(self.forbid_activities) & held.activities)


def refusal(separation: Separation | None, created_by: str | None, user: str, held: Held) -> str | None:
    """Why `user` may not hold a task with this separation, naming the rule (never the other
    person); None when they may."""
    if separation is None or separation.empty:
        return None
    if separation.excludeCreator and created_by == user:
        return "Separation of duties: the creator of this task may not hold it (excludeCreator)"
    if set(separation.tasks) & held.tasks:
        return "Separation of duties: a holder of a task this one is separated from may not hold it (tasks)"
    if set(separation.activities) & held.activities:
        return ("Separation of duties: a holder of a task of an activity this one is separated from may not "
                "hold it in the same case (activities)")
    return None


def ledger_entry(task_id: str, case_id: str | None, activity_id: str | None, separation: Separation | None,
                 user: str) -> LedgerEntry | None:
    """The ledger write of giving this task to `user`; None for a task outside any case."""
    if case_id is None:
        return None
    sep = separation or Separation()
    return LedgerEntry(case_id, user, task_id, activity_id, tuple(sep.tasks), tuple(sep.activities))


def crossed(staged: tuple[LedgerEntry, ...], entry: LedgerEntry) -> str | None:
    """Why `entry` and the entries already staged for the same user and case (one bulk atomic
    transaction: one write of their ledger item, whose condition sees none of them) may not both
    hold, naming the rule; None when they may."""
    for a, b in ((a, b) for prior in staged for a, b in ((prior, entry), (entry, prior))):
        held = Held(frozenset({a.task_id}), frozenset({a.activity_id} if a.activity_id else ()))
        if b.refused_by(held):
            return refusal(Separation(tasks=list(b.forbid_tasks), activities=list(b.forbid_activities)), None,
                           b.user, held)
    return None
