"""Users and groups of a tenant's directory, and what a directory write can answer instead."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import Field

from baton.directory.absence import Absence
from baton.domain import Model

Presence = Literal["available", "away", "offline"]
PRESENCES: tuple[Presence, ...] = ("available", "away", "offline")
# A skill as input names it (a user's `skills`, a task's or activity's `requiredSkills`).
Skill = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[^\s,]+( [^\s,]+)*$",
                             description="A skill: 1 to 64 characters, no commas, single spaces inside only")]
Skills = Annotated[list[Skill], Field(max_length=50)]
Strategy = Literal["pull", "round-robin", "least-loaded", "longest-idle"]
STRATEGIES: tuple[Strategy, ...] = ("pull", "round-robin", "least-loaded", "longest-idle")


class User(Model):
    id: str
    username: str
    firstname: str = ""
    lastname: str = ""
    email: str = ""
    active: bool = True
    # People (API.md "People: presence, capacity, skills and routing"). `presence` changes only
    # through its own route; `load` (the open tasks held now) and `lastAssignedAt` (when the user
    # last got a task: longest-idle routing) change only with the task changes that make them
    # (in the same transaction), never through a user write.
    presence: Presence = "available"
    capacity: int | None = None  # the most open tasks held at once; None: no limit
    skills: list[str] = Field(default_factory=list)
    load: int = 0
    lastAssignedAt: str | None = None
    groups: list[str] = Field(default_factory=list)  # the groups it is a member of (their writes')
    leads: list[str] = Field(default_factory=list)  # the groups it leads (their writes'), a member or not
    # Away, and who stands in (directory.absence); only through its own route. Shown until it
    # ends: a reader compares `until` with now (an absence ends by itself).
    absence: Absence | None = None


# The fields a user write (PUT /api/v1/users/{id}) sets; the others belong to their own paths.
PROFILE_FIELDS = ("username", "firstname", "lastname", "email", "active", "capacity", "skills")


class Routing(Model):
    """How a group's free tasks reach its members: `pull` (they claim them: the default) or pushed
    by a strategy, as a direct assignment or, with `offerSeconds`, as an offer that times out."""

    strategy: Strategy = "pull"
    offerSeconds: int | None = None


class Group(Model):
    id: str
    name: str
    members: list[str] = Field(default_factory=list)
    routing: Routing = Field(default_factory=Routing)
    # Its leads: users of the tenant, members or not, who may act on the group's tasks held by others
    # (release, assign, reassign: tasks.oversight) and see its open tasks by holder (tasks.team).
    leads: list[str] = Field(default_factory=list)
    # The member round-robin routing gave the last task to (the router's, never a group write's).
    routingLast: str | None = Field(default=None, exclude=True)


@dataclass(frozen=True)
class ClientRegistration:
    """A client-credentials app client's tenant and roles (its sign-in tokens carry them)."""

    tenant: str
    roles: tuple[str, ...]


class AbsenceChanged(Exception):
    """An absence the change was checked on (the user's own or one in its delegate chain) changed
    since it was read: read and decide again."""


class GroupChanged(Exception):
    """The group changed since it was read: read and decide again."""


class UnknownMember(Exception):
    """A group write names a user the directory does not hold; `user` when it is one being added."""

    def __init__(self, user: str | None) -> None:
        super().__init__(f"unknown member {user}")
        self.user = user
