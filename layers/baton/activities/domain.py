"""ProcessMaker activities, the directory entries their assignee lists show, and what an
assignment write can answer instead of succeeding."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import Field

from baton.domain import Model

ActivityType = Literal["task", "subprocess"]
KINDS = ("user", "group")


class Activity(Model):
    project_id: str = Field(alias="projectId")
    id: str
    name: str
    type: ActivityType = "task"
    leaseSeconds: int | None = None  # the default lease of its tasks' claims (copied at creation)
    requiredSkills: list[str] = Field(default_factory=list)  # copied to its tasks at creation
    # The ledger of its assignee changes (directory events in the tenant audit, baton.ledger): how
    # many there were and the last one's hash, the previous hash of the next.
    ledgerVersion: int = Field(default=0, exclude=True)
    lastHash: str | None = Field(default=None, exclude=True)
    # The escalation ladder of its tasks (steps as given, checked by tasks.escalations; copied at creation).
    escalations: list[dict[str, Any]] | None = None
    # Separation of duties of its tasks (`excludeCreator`, `tasks`, `activities`: tasks.separation; copied at creation).
    separation: dict[str, Any] | None = None


@dataclass(frozen=True)
class Entry:
    """A directory user or group as an assignee list sees it. `name`: a group's title or a user's
    first name (what its place in the lists comes from); `assigned`: assigned to the activity it
    was read for."""

    kind: str  # "user" or "group"
    uid: str
    name: str
    lastname: str = ""
    username: str = ""
    active: bool = True
    members: tuple[str, ...] = ()
    assigned: bool = False

    @property
    def listed(self) -> bool:
        """Inactive users never appear in assignee or available lists."""
        return self.kind == "group" or self.active


class AssignmentRaced(Exception):
    """The activity or the entry changed between the read and the write: read and decide again."""


class AlreadyAssigned(AssignmentRaced):
    """The same id got assigned meanwhile as the other kind (a user for a group, or back)."""


@dataclass(frozen=True)
class Assignee:
    """An entry as an assignee list shows it."""

    uid: str
    kind: str  # "user" or "group"
    name: str
    lastname: str
    username: str
    fields: tuple[str, ...]  # what a filter matches, case-folded


@dataclass(frozen=True)
class Page:
    """One page of an assignee list, with its counts."""

    total: int
    start: int
    limit: int
    filter: str
    data: list[Assignee]
