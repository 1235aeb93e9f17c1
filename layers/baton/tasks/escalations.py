"""Escalation ladders (API.md "Time: escalation ladders"): the steps, their validation, when each
is due, which are pending, and what firing one changes on a task. Pure functions, no I/O: the
sweeper (tasks.sweeper) reads and writes, the time comes in as an argument (baton.clock).

A step is *pending* while the task is open, the step has not fired, its anchor exists (`due`: the
task has a `dueDate`; `claimed`: somebody holds the task) and its `unless` does not hold; a pending
step's `dueAt` is its anchor plus `after`. The earliest pending `dueAt` of a task is its timer
(docs/data-model.md: the task item itself carries it in the sparse timer index), so a timer is
written by the very write that changes the state it depends on, and disappears with it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from baton.tasks.steps import (  # noqa: F401 - the ladder's vocabulary, re-exported
    ACTIONS,
    MAX_STEPS,
    NEEDS_TARGET,
    Step,
    Target,
    check_known,
    parse_duration,
    parse_ladder,
    referenced,
)

ESCALATED = "escalated"  # the history event's action: CloudEvent type `baton.task.escalated`
REASON_PREFIX = "escalation:"

# Changes that give the task to a (new) holder: they re-arm the steps counted `from: claimed`.
CLAIM_ACTIONS = frozenset({"claim", "assign", "accept"})

# ---- time ---------------------------------------------------------------------------------------

def _at(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def _stamp(at: datetime) -> str:
    return at.isoformat(timespec="microseconds").replace("+00:00", "Z")


def plus(stamp: str, after: str) -> str:
    """The stored timestamp `after` (a step's duration) past `stamp`."""
    return _stamp(_at(stamp) + parse_duration(after))


def anchor_of(step: Step, task: Any, claimed_at: str | None) -> str | None:
    """Where the step counts from on this state: None when there is nothing to count from."""
    if step.from_ == "created":
        return str(task.createdAt)
    if step.from_ == "due":
        return task.dueDate  # type: ignore[no-any-return]
    return claimed_at if task.assignee is not None else None


def replace_ladder(old: Sequence[Step], new: Sequence[Step]) -> list[Step]:
    """A ladder given anew (create, the task update route): a step whose definition is unchanged
    keeps its state (`dueAt`, `firedAt`); a new or changed step starts unarmed (`arm` arms it)."""
    before = {s.id: s for s in old}
    out: list[Step] = []
    for step in new:
        prev = before.get(step.id)
        if prev is not None and prev.definition() == step.definition():
            out.append(prev)
        else:
            out.append(step.model_copy(update={"dueAt": None, "firedAt": None}))
    return out


def arm(old: Any | None, new: Any, now: str, new_claim: bool) -> list[Step]:
    """The steps of `new` (a task about to be written, carrying its steps' state) with their
    `dueAt` set for `new`'s state; `old` is the task before the change (None: created):
    - a step not yet armed (no `dueAt`, not fired) is armed if its anchor exists;
    - `from: claimed` steps are re-armed by every new claim (`new_claim`: this change gives the task
      to a holder), counted from `now`, and lose their `dueAt` when nobody holds the task;
    - `from: due` steps that have not fired follow a changed `dueDate`;
    - a step that fired stays fired (a `claimed` one until the next claim)."""
    old_due = getattr(old, "dueDate", None) if old is not None else None
    out: list[Step] = []
    for step in _steps(new):
        if step.from_ == "claimed":
            if new.assignee is None:
                step = step.model_copy(update={"dueAt": None})
            elif new_claim or (step.dueAt is None and step.firedAt is None):
                step = step.model_copy(update={"dueAt": plus(now, step.after), "firedAt": None})
        elif step.firedAt is None and (step.dueAt is None or (step.from_ == "due" and new.dueDate != old_due)):
            anchor = anchor_of(step, new, None)
            step = step.model_copy(update={"dueAt": plus(anchor, step.after) if anchor else None})
        out.append(step)
    return out


def for_new_task(raw: object, due_date: str | None, created: str, directory: Any, tenant: str) -> list[Step]:
    """The ladder of a task being created (`raw` as the request or its activity gives it): checked
    (400 otherwise, naming users and groups `directory` does not know in the tenant) and armed, so
    the create writes its timer."""
    steps = parse_ladder(raw)
    check_known(steps, lambda users, groups: (
        sorted(users - set(directory.users(tenant, sorted(users)))),
        sorted(g for g in groups if directory.get_group(tenant, g)[0] is None)))
    new = SimpleNamespace(escalations=steps, status="open", assignee=None, createdAt=created, dueDate=due_date)
    return arm(None, new, created, False)


def rearmed(before: Any, after: Any, at: str, new_claim: bool = False) -> Any:
    """`after` (the next version of `before`, made without `Changes.next`: an edit that keeps the
    holder and lease) with its steps armed for its state (`arm`); `after` itself when it has none."""
    if not getattr(after, "escalations", None):
        return after
    return after.model_copy(update={"escalations": arm(before, after, at, new_claim)})


def edited(before: Sequence[Step], given: Sequence[Step]) -> list[Step]:
    """A ladder changed by the task update route: `given` (checked steps) with the state of every
    unchanged step kept (`replace_ladder`); `arm` then arms what changed."""
    return replace_ladder(before, given)


def _steps(task: Any) -> list[Step]:
    return list(getattr(task, "escalations", None) or [])


def is_pending(step: Step, task: Any) -> bool:
    """Armed and waiting: the task is open, the step has not fired, it has a `dueAt` and its
    `unless` does not hold now (`unless` is evaluated on the state at firing time; while it holds
    the step waits and is not in the timer index)."""
    if task.status != "open" or step.firedAt is not None or step.dueAt is None:
        return False
    return not (step.unless == "claimed" and task.assignee is not None)


def next_due(task: Any) -> str | None:
    """The task's timer: the earliest `dueAt` of its pending steps, None when none is pending."""
    dues = [s.dueAt for s in _steps(task) if s.dueAt is not None and is_pending(s, task)]
    return min(dues) if dues else None


def due_steps(task: Any, now: str) -> list[Step]:
    """The pending steps due at `now`, in the order they fire (dueAt, then ladder order)."""
    steps = [(s.dueAt, n, s) for n, s in enumerate(_steps(task)) if is_pending(s, task) and s.dueAt
             and s.dueAt <= now]
    return [s for _, _, s in sorted(steps, key=lambda t: (t[0], t[1]))]


def overdue_since(task: Any) -> str | None:
    """Since when the task counts as overdue (`overdue=true`): its `dueDate`, or the first firing
    of a step, whichever is earlier; None when neither exists."""
    marks = [m for m in (task.dueDate, *(s.firedAt for s in _steps(task))) if m]
    return min(marks) if marks else None


def is_overdue(task: Any, now: str) -> bool:
    since = overdue_since(task)
    return task.status == "open" and since is not None and since <= now


# ---- firing -----------------------------------------------------------------------------------

@dataclass
class Firing:
    """What firing `step` changes on the task: the fields to set (`update`, applied with the step's
    `firedAt`), each field's `changes` (from/to, for the history event), and the event's `from`/`to`
    (the holder before and after) and `candidates` (users the task was offered to)."""

    step: Step
    update: dict[str, Any] = field(default_factory=dict)
    changes: dict[str, dict[str, Any]] = field(default_factory=dict)
    holder_from: str | None = None
    holder_to: str | None = None
    outcome: str = ""

    @property
    def reason(self) -> str:
        return REASON_PREFIX + self.step.id


def _set(firing: Firing, task: Any, name: str, value: Any) -> None:
    before = getattr(task, name)
    if before != value:
        firing.update[name] = value
        firing.changes[name] = {"from": before, "to": value}


def _offer(firing: Firing, task: Any, to: Target) -> None:
    _set(firing, task, "candidateUsers", list(dict.fromkeys([*task.candidateUsers, *to.users])))
    _set(firing, task, "candidateGroups", list(dict.fromkeys([*task.candidateGroups, *to.groups])))


def fire(task: Any, step: Step, at: str, may_hold: Callable[[str], bool]) -> Firing:
    """What `step` does to `task` at `at` (the step is due and pending on this state):
    - notify: nothing but the event;
    - raise-priority: the priority becomes `priority` if that is higher (never lowered);
    - offer: `to`'s users and groups join the candidates;
    - reassign: `to.users[0]` holds the task if `may_hold` says so (the eligibility rules), else the
      task is offered to `to` (nobody holds it);
    - release: the current claim ends (the task is back in its queues).
    Every firing records the step's `firedAt` (changes listed under `escalations`)."""
    firing = Firing(step, holder_from=task.assignee, holder_to=task.assignee)
    if step.action == "raise-priority":
        assert step.priority is not None
        if step.priority > task.priority:
            _set(firing, task, "priority", step.priority)
        firing.outcome = "priority"
    elif step.action == "offer":
        assert step.to is not None
        _offer(firing, task, step.to)
        firing.outcome = "offered"
    elif step.action == "reassign":
        assert step.to is not None
        target = step.to.users[0] if step.to.users else None
        if target is not None and target == task.assignee:
            firing.outcome = "kept"
        elif target is not None and may_hold(target):
            _set(firing, task, "assignee", target)
            _set(firing, task, "leaseExpiresAt", None)
            firing.holder_to = target
            firing.outcome = "reassigned"
        else:
            _set(firing, task, "assignee", None)
            _set(firing, task, "leaseExpiresAt", None)
            _offer(firing, task, step.to)
            firing.holder_to = None
            firing.outcome = "offered"
    elif step.action == "release":
        _set(firing, task, "assignee", None)
        _set(firing, task, "leaseExpiresAt", None)
        firing.holder_to = None
        firing.outcome = "released" if task.assignee is not None else "free"
    else:
        firing.outcome = "notified"
    before = _steps(task)
    after = [s.model_copy(update={"firedAt": at}) if s.id == step.id else s for s in before]
    firing.update["escalations"] = after
    firing.changes["escalations"] = {"from": {step.id: {"firedAt": None}}, "to": {step.id: {"firedAt": at}}}
    return firing


def is_new_claim(old: Any | None, new: Any, action: str) -> bool:
    """Whether a change gives the task to a holder afresh (re-arming `from: claimed` steps)."""
    if new.assignee is None:
        return False
    return old is None or old.assignee != new.assignee or action in CLAIM_ACTIONS


def public_steps(steps: Sequence[Step] | None) -> list[dict[str, Any]]:
    return [s.public() for s in steps or []]


def steps_of(raw: Sequence[Mapping[str, Any]] | None) -> list[Step]:
    """Stored steps (already validated) back as Steps."""
    return [Step.model_validate(s) for s in raw or []]
