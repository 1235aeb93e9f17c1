"""The rules about a task's holder that API.md "People" adds, as tasks.eligibility asks them:
skills (every one of the task's `requiredSkills`, admin too: the work needs the skill; a user
the directory does not hold has none) and capacity (not to a user holding as many open tasks as
its `capacity`: 409 `capacity`); and before both, active (an inactive user, offboarded, holds
and is offered nothing: 409 `userInactive`). The task write asserts all three again on the
user's load item (tasks.repository), so no race passes them. Presence is the router's
(directory.routing)."""

from __future__ import annotations

from typing import Any

from baton.errors import Conflict, Forbidden
from baton.tasks.domain import Person, Task


def person_from(user: dict[str, Any], load: dict[str, Any] | None) -> Person:
    """A user as the task rules see it: its (deserialized) user item (groups, presence, active,
    absence) and load item (Keys.person: load, capacity, skills, lastAssignedAt; None: it has none)."""
    load = load or {}
    capacity = load.get("capacity")
    return Person(str(user["userId"]), tuple(user.get("groups", [])), frozenset(load.get("skills", [])),
                  None if capacity is None else int(capacity), int(load.get("load", 0)),
                  str(user.get("presence", "available")), bool(user.get("active", True)), load.get("lastAssignedAt"),
                  user.get("absence"), tuple(user.get("leads", [])), tuple(sorted(user.get("standsInFor", []))))


def check_holder(task: Task, person: Person | None, user: str, holds: bool = True) -> None:
    """Raise why `user` (read as `person`; None: no user of the directory, or not read) may not
    hold `task`; `holds` False: it is only offered it among several (nobody holds it)."""
    if person is not None and not person.active:
        raise inactive(user)
    required = set(task.requiredSkills)
    if required and (person is None or not required <= person.skills):
        missing = sorted(required - (person.skills if person else frozenset()))
        raise Forbidden(f"User {user} lacks the skills task {task.id} requires: {', '.join(missing)}",
                        reason="missingSkills")
    # an offer to this user holds its slot already
    if holds and person is not None and person.full and task.bearer != user:
        raise at_capacity(person)


def inactive(user: str) -> Conflict:
    """An inactive user (offboarded: tasks.offboarding) holds nothing and is offered nothing."""
    return Conflict(f"User {user} is inactive", reason="userInactive")


def at_capacity(person: Person) -> Conflict:
    return Conflict(f"User {person.id} holds {person.load} open tasks, its capacity", reason="capacity")
