"""Users and groups of a tenant's directory, and what a directory write can answer instead."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import Field

from baton.domain import Model


class User(Model):
    id: str
    username: str
    firstname: str = ""
    lastname: str = ""
    email: str = ""
    active: bool = True


class Group(Model):
    id: str
    name: str
    members: list[str] = Field(default_factory=list)


@dataclass(frozen=True)
class ClientRegistration:
    """A client-credentials app client's tenant and roles (its sign-in tokens carry them)."""

    tenant: str
    roles: tuple[str, ...]


class GroupChanged(Exception):
    """The group changed since it was read: read and decide again."""


class UnknownMember(Exception):
    """A group write names a user the directory does not hold; `user` when it is one being added."""

    def __init__(self, user: str | None) -> None:
        super().__init__(f"unknown member {user}")
        self.user = user
