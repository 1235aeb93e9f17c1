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

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import ConfigDict, Field, ValidationError

from baton.domain import Model
from baton.errors import BadRequest

MAX_STEPS = 5
MAX_STEP_ID = 64
MAX_TARGETS = 25  # users and groups of one step's `to`, together
MIN_AFTER = timedelta(minutes=1)
MAX_AFTER = timedelta(days=365)
# The accepted ISO 8601 durations: weeks alone (`P2W`), or days, hours, minutes and seconds in
# whole numbers (`P1DT12H`, `PT90M`, `PT45S`). Years and months have no fixed length: refused.
_DURATION = re.compile(r"^P(?:(?P<w>\d{1,3})W|(?:(?P<d>\d{1,3})D)?(?:T(?:(?P<h>\d{1,4})H)?(?:(?P<m>\d{1,6})M)?"
                       r"(?:(?P<s>\d{1,8})S)?)?)$")

Anchor = Literal["created", "claimed", "due"]
Unless = Literal["claimed", "completed"]
Action = Literal["notify", "raise-priority", "offer", "reassign", "release"]
ACTIONS: tuple[Action, ...] = ("notify", "raise-priority", "offer", "reassign", "release")
NEEDS_TARGET: frozenset[str] = frozenset({"offer", "reassign"})
ESCALATED = "escalated"  # the history event's action: CloudEvent type `baton.task.escalated`
REASON_PREFIX = "escalation:"

# Changes that give the task to a (new) holder: they re-arm the steps counted `from: claimed`.
CLAIM_ACTIONS = frozenset({"claim", "assign", "accept"})


def parse_duration(text: object) -> timedelta:
    """An ISO 8601 duration of the accepted forms, PT1M to P365D; ValueError otherwise."""
    if not isinstance(text, str) or len(text) > 32:
        raise ValueError("an ISO 8601 duration is a string such as PT30M, PT4H or P2D")
    found = _DURATION.match(text)
    if not found or text in ("P", "PT") or text.endswith("T"):
        raise ValueError(f"'{text}' is not an ISO 8601 duration of weeks, or of days, hours, minutes and seconds "
                         f"(such as PT30M, PT4H, P1DT12H or P2W)")
    parts = {k: int(v) for k, v in found.groupdict().items() if v is not None}
    length = timedelta(weeks=parts.get("w", 0), days=parts.get("d", 0), hours=parts.get("h", 0),
                       minutes=parts.get("m", 0), seconds=parts.get("s", 0))
    if not MIN_AFTER <= length <= MAX_AFTER:
        raise ValueError(f"'{text}' is out of range: a step waits at least PT1M and at most P365D")
    return length


class Target(Model):
    users: list[str] = Field(default_factory=list)
    groups: list[str] = Field(default_factory=list)


class Step(Model):
    """One step of a ladder, with its state: `dueAt` (None while it has nothing to count from)
    and `firedAt`. Always written with the name `from` (a Python keyword, hence `from_`)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True, defer_build=True, serialize_by_alias=True)

    id: str
    after: str
    from_: Anchor = Field(default="created", alias="from")
    unless: Unless | None = None
    action: Action
    to: Target | None = None
    priority: int | None = None
    dueAt: str | None = None
    firedAt: str | None = None

    def definition(self) -> tuple[Any, ...]:
        """What the step says (not its state): a step whose definition changes is armed afresh."""
        to = (tuple(self.to.users), tuple(self.to.groups)) if self.to else None
        return self.id, self.after, self.from_, self.unless, self.action, to, self.priority

    def public(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True, exclude_none=True) | {"dueAt": self.dueAt, "firedAt": self.firedAt}


# ---- validation -------------------------------------------------------------------------------

_STEP_FIELDS = frozenset({"id", "after", "from", "unless", "action", "to", "priority"})
_TARGET_FIELDS = frozenset({"users", "groups"})


def _ids(value: object, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and 1 <= len(v) <= 128 for v in value):
        raise BadRequest(f"{where} must be a list of ids (1 to 128 characters each)")
    return list(dict.fromkeys(value))


def parse_ladder(raw: object) -> list[Step]:
    """The steps of an `escalations` value as a request gives it (a list of step objects), checked:
    at most 5 steps, unique ids, durations PT1M to P365D, known `from`/`unless`/`action`, `to` where
    the action needs it, `priority` 0-100 for `raise-priority`, no state fields. BadRequest (400)
    with a message naming the step otherwise. Whether `to` names users and groups of the tenant is
    the service's to check (`referenced`)."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise BadRequest("escalations must be a list of steps")
    if len(raw) > MAX_STEPS:
        raise BadRequest(f"escalations: at most {MAX_STEPS} steps, not {len(raw)}")
    steps: list[Step] = []
    seen: set[str] = set()
    for n, item in enumerate(raw):
        where = f"escalations[{n}]"
        if not isinstance(item, dict):
            raise BadRequest(f"{where} must be an object")
        unknown = sorted(set(item) - _STEP_FIELDS)
        if unknown:
            raise BadRequest(f"{where}: unknown propert{'ies' if len(unknown) > 1 else 'y'} {', '.join(unknown)}")
        step_id = item.get("id")
        if not isinstance(step_id, str) or not 1 <= len(step_id) <= MAX_STEP_ID or not step_id.isprintable():
            raise BadRequest(f"{where}.id must be a string of 1 to {MAX_STEP_ID} printable characters")
        where = f"escalations step '{step_id}'"
        if step_id in seen:
            raise BadRequest(f"escalations: step id '{step_id}' is used twice; ids must be unique")
        seen.add(step_id)
        try:
            parse_duration(item.get("after"))
        except ValueError as bad:
            raise BadRequest(f"{where}: after: {bad}") from None
        anchor, unless, action = item.get("from", "created"), item.get("unless"), item.get("action")
        if anchor not in ("created", "claimed", "due"):
            raise BadRequest(f"{where}: from must be one of created, claimed, due")
        if unless is not None and unless not in ("claimed", "completed"):
            raise BadRequest(f"{where}: unless must be claimed or completed")
        if anchor == "claimed" and unless == "claimed":
            raise BadRequest(f"{where}: a step counted from the claim would never fire unless claimed")
        if action not in ACTIONS:
            raise BadRequest(f"{where}: action must be one of {', '.join(ACTIONS)}")
        to = item.get("to")
        target = None
        if to is not None:
            if not isinstance(to, dict) or set(to) - _TARGET_FIELDS:
                raise BadRequest(f"{where}: to must be an object with users and/or groups")
            target = Target(users=_ids(to.get("users", []), f"{where}: to.users"),
                            groups=_ids(to.get("groups", []), f"{where}: to.groups"))
            if len(target.users) + len(target.groups) > MAX_TARGETS:
                raise BadRequest(f"{where}: to names at most {MAX_TARGETS} users and groups")
        if action in NEEDS_TARGET and (target is None or not (target.users or target.groups)):
            raise BadRequest(f"{where}: action {action} needs to (users and/or groups)")
        if action not in NEEDS_TARGET and target is not None:
            raise BadRequest(f"{where}: action {action} takes no to")
        priority = item.get("priority")
        if action == "raise-priority":
            if isinstance(priority, bool) or not isinstance(priority, int) or not 0 <= priority <= 100:
                raise BadRequest(f"{where}: raise-priority needs priority, an integer from 0 to 100")
        elif priority is not None:
            raise BadRequest(f"{where}: priority goes with raise-priority only")
        try:
            steps.append(Step.model_validate({**item, "to": target}))
        except ValidationError:  # pragma: no cover - every field was checked above
            raise BadRequest(f"{where} is not a valid step") from None
    return steps


def referenced(steps: Iterable[Step]) -> tuple[set[str], set[str]]:
    """The users and groups the steps' `to` name (the service checks they exist in the tenant)."""
    users: set[str] = set()
    groups: set[str] = set()
    for step in steps:
        if step.to:
            users.update(step.to.users)
            groups.update(step.to.groups)
    return users, groups


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
