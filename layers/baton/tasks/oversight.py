"""Acting on a task someone else holds, and what the write asserts for it (a member's own
membership of a candidate group is `change.membership`): `admin`, or a lead of one of the task's
candidate groups (directory: a group's `leads`, kept on each lead's user item as `leads`), may
release, assign and reassign it. A lead's authority is asserted by the write on the lead's user
item, the way a membership is (`change.Membership` with attribute `leads`): a lead revoked while
its action is in flight refuses the action (403), in every dialect. Pure."""

from __future__ import annotations

from collections.abc import Mapping

from baton.domain import Caller
from baton.tasks.change import Membership
from baton.tasks.domain import Person, Task


def led_groups(task: Task, caller: Caller, people: Mapping[str, Person] | None) -> list[str]:
    """The task's candidate groups the caller leads, as read with the task (none when not read)."""
    person = (people or {}).get(caller.user_id)
    return sorted(set(person.leads) & set(task.candidateGroups)) if person is not None else []


def oversight(task: Task, caller: Caller, people: Mapping[str, Person] | None) -> tuple[Membership, ...] | None:
    """Whether `caller` may act on `task` while someone else holds it, and what the write then
    asserts: `admin`, nothing; a lead of one of its candidate groups, that it still leads one of
    them; None: it may not."""
    if caller.is_admin:
        return ()
    led = led_groups(task, caller, people)
    return (Membership(caller.user_id, tuple(led), attribute="leads"),) if led else None
