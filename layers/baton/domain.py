"""The domain: users, groups, activities, tasks, history events, and the caller."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

ROLE_ADMIN = "admin"
ROLE_APIWRITE = "apiwrite"
ROLE_ENGINEERING = "engineering"
ROLE_OPERATIONS = "operations"
ROLE_PM_FACTORY = "PM_FACTORY"

WORK_ROLES = frozenset({ROLE_ADMIN, ROLE_APIWRITE, ROLE_ENGINEERING, ROLE_OPERATIONS})
WRITE_ROLES = frozenset({ROLE_ADMIN, ROLE_APIWRITE})
PM_ROLES = frozenset({ROLE_PM_FACTORY, ROLE_ADMIN})

DEFAULT_PRIORITY = 50
MAX_LEASE_SECONDS = 7 * 24 * 3600  # a claim's lease: 1 second to 7 days
MAX_PRIORITY = 100

TaskStatus = Literal["open", "completed", "abandoned"]
TaskType = Literal["manual", "automatic"]
ActivityType = Literal["task", "subprocess"]


@dataclass(frozen=True)
class Caller:
    """Who is calling, from the verified JWT claims."""

    user_id: str
    username: str
    tenant: str
    roles: frozenset[str] = field(default_factory=frozenset)

    @property
    def is_admin(self) -> bool:
        return ROLE_ADMIN in self.roles

    def has_any(self, roles: frozenset[str]) -> bool:
        return bool(self.roles & roles)


class _Model(BaseModel):
    # Built on first use: a function validates only the models its routes touch.
    model_config = ConfigDict(extra="ignore", populate_by_name=True, defer_build=True)


class User(_Model):
    id: str
    username: str
    firstname: str = ""
    lastname: str = ""
    email: str = ""
    active: bool = True


class Group(_Model):
    id: str
    name: str
    members: list[str] = Field(default_factory=list)

    @property
    def display_name(self) -> str:
        return f"{self.name} ({len(self.members)} Users)"


class Activity(_Model):
    project_id: str = Field(alias="projectId")
    id: str
    name: str
    type: ActivityType = "task"
    leaseSeconds: int | None = None  # the default lease of its tasks' claims (copied at creation)


class TaskPolicy(_Model):
    allowReassignment: bool = True
    allowedReassignees: list[str] = Field(default_factory=list)
    requireReassignmentReason: bool = False


class Task(_Model):
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
    # when it ends (after it the task is claimable again; see rules.holder).
    leaseSeconds: int | None = None
    leaseExpiresAt: str | None = None
    createdBy: str | None = None  # the user who created it (ConductorOne's createdByUserId)
    version: int = 1
    createdAt: str
    updatedAt: str
    requestHash: str | None = Field(default=None, exclude=True)
    # The event of a direct claim, kept in the task item by its single conditional write until
    # the next change writes it out as history item H#{version} (see store.claim_direct).
    lastEvent: dict[str, Any] | None = Field(default=None, exclude=True)

    @property
    def is_group_task(self) -> bool:
        return bool(self.candidateGroups)

    def lease_expired(self, now: str) -> bool:
        """Held under a lease that has passed: the task is free again for anyone eligible."""
        return self.assignee is not None and self.leaseExpiresAt is not None and self.leaseExpiresAt <= now


def utc_timestamp(text: str) -> str:
    """An RFC 3339 date-time with an offset, as the one fixed-width UTC form Baton stores
    (`2026-01-02T03:04:05.000000Z`), so that timestamps sort as strings. ValueError otherwise."""
    if not isinstance(text, str) or len(text) > 64 or "T" not in text.upper():
        raise ValueError("not an RFC 3339 date-time")
    parsed = datetime.fromisoformat(text.upper().replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError("an RFC 3339 date-time needs an offset (Z or +hh:mm)")
    try:
        utc = parsed.astimezone(UTC)
    except OverflowError:
        raise ValueError("date-time out of range") from None
    return f"{utc.year:04d}-{utc:%m-%dT%H:%M:%S.%f}Z"


class HistoryEvent(_Model):
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

    def public(self) -> dict[str, object]:
        return self.model_dump(by_alias=True)
