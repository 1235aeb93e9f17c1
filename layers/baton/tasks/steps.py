"""Escalation steps as a request gives them: the model (`Step`, `Target`), the accepted ISO 8601
durations and the checks of a ladder (`parse_ladder`), with the users and groups it names
(`referenced`, `check_known`). Pure, no I/O (tasks.escalations arms and fires them)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import timedelta
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


def check_known(steps: Iterable[Step], unknown: Callable[[set[str], set[str]], tuple[list[str], list[str]]]) -> None:
    """The users and groups the steps name exist in the tenant (`unknown` answers which do not):
    400 naming them otherwise."""
    users, groups = referenced(steps)
    if not users and not groups:
        return
    missing_users, missing_groups = unknown(users, groups)
    for kind, ids in (("user", missing_users), ("group", missing_groups)):
        if ids:
            raise BadRequest(f"escalations: unknown {kind}{'s' if len(ids) > 1 else ''}: {', '.join(ids)}")
