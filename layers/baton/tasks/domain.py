"""Tasks and their history events, and the outcomes of the task repository's writes."""

from __future__ import annotations

from typing import Any, Literal, NamedTuple

from pydantic import Field

from baton.domain import Model
from baton.ledger import served
from baton.tasks.escalations import Step
from baton.tasks.separation import Separation

DEFAULT_PRIORITY = 50
MAX_PRIORITY = 100

TaskStatus = Literal["open", "completed", "abandoned"]
TaskType = Literal["manual", "automatic"]
DelegationState = Literal["pending", "resolved"]
STATUSES: tuple[TaskStatus, ...] = ("open", "completed", "abandoned")


class TaskPolicy(Model):
    allowReassignment: bool = True
    allowedReassignees: list[str] = Field(default_factory=list)
    requireReassignmentReason: bool = False


class Task(Model):
    id: str
    name: str
    description: str = ""
    type: TaskType = "manual"
    status: TaskStatus = "open"
    assignee: str | None = None
    candidateUsers: list[str] = Field(default_factory=list)
    candidateGroups: list[str] = Field(default_factory=list)
    policy: TaskPolicy = Field(default_factory=TaskPolicy)
    projectId: str | None = None
    activityId: str | None = None
    # Queue order: priority descending, then dueDate ascending (none last), createdAt, id.
    priority: int = DEFAULT_PRIORITY
    dueDate: str | None = None
    followUpDate: str | None = None
    # Leases: the default lease of a claim (seconds), and while a leased claim holds the task,
    # when it ends (after it the task is claimable again; see tasks.leases).
    leaseSeconds: int | None = None
    leaseExpiresAt: str | None = None
    createdBy: str | None = None  # the user who created it (ConductorOne's createdByUserId)
    # Only users holding every one of these may claim it or be given it (admin too).
    requiredSkills: list[str] = Field(default_factory=list)
    # An offer (a group's routing with offerSeconds): reserved for `offeredTo` until it accepts,
    # rejects, or `offerExpiresAt` passes; `offerTried`: who was offered it and let it go (not
    # offered it again until everyone eligible has been).
    offeredTo: str | None = None
    offerExpiresAt: str | None = None
    offerTried: list[str] = Field(default_factory=list)
    caseId: str | None = None  # the process instance it belongs to (an Itential job, a ProcessMaker case)
    # Who may not hold it because of what they held in the same case (tasks.separation).
    separation: Separation | None = None
    # The escalation ladder, each step with its `dueAt` and `firedAt` (tasks.escalations).
    escalations: list[Step] = Field(default_factory=list)
    version: int = 1
    createdAt: str
    updatedAt: str
    # Delegation with return (tasks.delegation): while `pending`, `owner` (who delegated it) keeps
    # it and alone (or admin) completes it; the delegate (the assignee) resolves it back.
    owner: str | None = None
    delegationState: DelegationState | None = None
    # How it ended (complete's `outcome` and `variables`; ConductorOne's approve/deny), by whom, when.
    outcome: str | None = None
    variables: dict[str, Any] | None = None
    completedBy: str | None = None
    completedAt: str | None = None
    # A Step Functions execution waiting on this task (tasks.callbacks): the token is kept on the
    # item and never served; `callback` shows its last characters only.
    callback: dict[str, str] | None = None
    callbackToken: str | None = Field(default=None, exclude=True, repr=False)
    requestHash: str | None = Field(default=None, exclude=True)
    # The event of a direct claim, kept in the task item by its single conditional write until
    # the next change writes it out as its history event (see tasks.repository.claim_direct).
    lastEvent: dict[str, Any] | None = Field(default=None, exclude=True)
    # The hash of the task's last written history event: the previous hash of the next one
    # (tasks.ledger), so that a change hashes its event without reading the history.
    lastHash: str | None = Field(default=None, exclude=True)

    @staticmethod
    def callback_view(token: str) -> dict[str, str]:
        """How a task shows its callback token: never in full."""
        return {"stepFunctionsTaskToken": "…" + token[-6:]}

    @property
    def is_group_task(self) -> bool:
        return bool(self.candidateGroups)

    @property
    def bearer(self) -> str | None:
        """Whose load the task counts in: its holder, else the member it is offered to."""
        return self.assignee or self.offeredTo

    def offer_live(self, now: str) -> bool:
        return self.offeredTo is not None and (self.offerExpiresAt is None or self.offerExpiresAt > now)

    def lease_expired(self, now: str) -> bool:
        """Held under a lease that has passed: the task is free again for anyone eligible."""
        return self.assignee is not None and self.leaseExpiresAt is not None and self.leaseExpiresAt <= now


class HistoryEvent(Model):
    id: str
    taskId: str
    version: int
    at: str
    actor: str
    action: str
    from_: str | None = Field(default=None, alias="from")
    to: str | None = None
    comment: str | None = None
    candidates: list[str] | None = None  # set when a reassign offered the task to several users
    # The audit ledger (tasks.ledger): what the change set (field -> {from, to}), why (a code of
    # tasks.reasons), for whom (the user the actor stood in for), and the hash chain.
    changes: dict[str, dict[str, Any]] = Field(default_factory=dict)
    reason: str = "request"
    onBehalfOf: str | None = None
    hash: str | None = None

    def public(self) -> dict[str, Any]:
        """The event as the history route serves it (and as its hash covers it): tasks.ledger.served.
        A field added later must default to None, so that older events are served, and hash, as
        they were."""
        return served(self.model_dump(by_alias=True))


class Person(NamedTuple):
    """A user of the directory as the task rules see it: read with the task (its user item)."""

    id: str
    groups: tuple[str, ...] = ()
    skills: frozenset[str] = frozenset()
    capacity: int | None = None
    load: int = 0
    presence: str = "available"
    active: bool = True
    lastAssignedAt: str | None = None
    absence: Any = None  # the stored absence map, as read (tasks.standins); None: none
    leads: tuple[str, ...] = ()  # the groups it leads (tasks.oversight)
    # The users whose absence names it as `delegateTo` (the reverse lookup: tasks.standins `principals`)
    stands_in_for: tuple[str, ...] = ()

    @property
    def full(self) -> bool:
        return self.capacity is not None and self.load >= self.capacity


# ---- what a task write can answer instead of succeeding ------------------------------------------

class TaskChanged(Exception):
    """The task is no longer as it was read (the write's condition failed on it): `current` is
    the task as it is now, None if it does not exist."""

    def __init__(self, current: Task | None) -> None:
        super().__init__("the task changed")
        self.current = current


class TaskExists(Exception):
    """A create found the id taken: `existing` is the task stored under it."""

    def __init__(self, existing: Task | None) -> None:
        super().__init__("the task exists")
        self.existing = existing


class MembershipLost(Exception):
    """The group membership (or lead, `attribute` "leads") a change relied on is gone (`user` is
    no longer in the groups, or no longer leads them)."""

    def __init__(self, user: str, attribute: str = "groups") -> None:
        super().__init__(f"{user} left the groups")
        self.user = user
        self.attribute = attribute


class HolderRefused(Exception):
    """The user who was to hold the task may not at write time: `why` is `capacity` (it holds as
    many open tasks as its capacity allows) or `skills` (it lacks one the task requires)."""

    def __init__(self, user: str, why: str, person: Person | None) -> None:
        super().__init__(f"{user}: {why}")
        self.user = user
        self.why = why
        self.person = person
class SeparationRefused(Exception):
    """The user's holds in the task's case include one the task is separated from (the ledger's
    condition failed): `rule` says which clause, never who."""

    def __init__(self, rule: str) -> None:
        super().__init__(rule)
        self.rule = rule


class StandInChanged(Exception):
    """The absence of a user the change was decided on (the one meant, or its chain), or whether it
    is active, changed since it was read: read and decide again (tasks.standins)."""

    def __init__(self, user: str) -> None:
        super().__init__(f"{user}'s absence changed")
        self.user = user


class HistoryRaced(Exception):
    """Another change wrote the history event this one meant to write: read and decide again."""


class AtomicRefused(Exception):
    """A bulk atomic transaction's condition failed on the change of task `task_id` (None: on
    none the request named); `rule`: the rule that condition stands for, when it is one
    (separation of duties), named as a single task's refusal names it; `index`: the refused
    operation's place in the transaction (a bulk chunk tells a task's own item from a user's)."""

    def __init__(self, task_id: str | None, rule: str | None = None, index: int | None = None) -> None:
        super().__init__(f"task {task_id} changed")
        self.task_id = task_id
        self.rule = rule
        self.index = index
