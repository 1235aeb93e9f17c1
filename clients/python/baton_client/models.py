"""What Baton answers with, as typed values. Each keeps the answer it was read from in `raw`, so a
field a newer Baton adds is never lost; `WIRE` maps each attribute to its name on the wire (the
drift test checks those names against the OpenAPI document)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, TypeVar

T = TypeVar("T")


def _get(raw: Mapping[str, Any], wire: Mapping[str, str], default: Any = None) -> dict[str, Any]:
    return {attr: raw.get(name, default) for attr, name in wire.items()}


@dataclass(frozen=True)
class Token:
    """A bearer token from a sign-in route (`access_token` is secret: it is left out of `repr`)."""

    access_token: str = field(repr=False)
    token_type: str = "Bearer"
    expires_in: int | None = None


@dataclass(frozen=True)
class Task:
    id: str
    name: str
    status: str
    version: int
    description: str = ""
    type: str = "manual"
    assignee: str | None = None
    candidate_users: list[str] = field(default_factory=list)
    candidate_groups: list[str] = field(default_factory=list)
    policy: dict[str, Any] = field(default_factory=dict)
    project_id: str | None = None
    activity_id: str | None = None
    priority: int | None = None
    due_date: str | None = None
    follow_up_date: str | None = None
    lease_seconds: int | None = None
    lease_expires_at: str | None = None
    created_by: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    # How a completed task ended, and who ended it when.
    outcome: str | None = None
    variables: dict[str, Any] | None = None
    completed_by: str | None = None
    completed_at: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    WIRE: ClassVar[dict[str, str]] = {
        "id": "id", "name": "name", "status": "status", "version": "version", "description": "description",
        "type": "type", "assignee": "assignee", "candidate_users": "candidateUsers",
        "candidate_groups": "candidateGroups", "policy": "policy", "project_id": "projectId",
        "activity_id": "activityId", "priority": "priority", "due_date": "dueDate", "follow_up_date": "followUpDate",
        "lease_seconds": "leaseSeconds", "lease_expires_at": "leaseExpiresAt", "created_by": "createdBy",
        "created_at": "createdAt", "updated_at": "updatedAt", "outcome": "outcome", "variables": "variables",
        "completed_by": "completedBy", "completed_at": "completedAt",
    }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Task:
        values = _get(raw, cls.WIRE)
        for name in ("candidate_users", "candidate_groups"):
            values[name] = list(values[name] or [])
        values["policy"] = dict(values["policy"] or {})
        values["description"] = values["description"] or ""
        values["type"] = values["type"] or "manual"
        return cls(**values, raw=dict(raw))

    @property
    def etag(self) -> str:
        """The version as `If-Match` takes it (and as every task response's `ETag` carries it)."""
        return f'"{self.version}"'


@dataclass(frozen=True)
class HistoryEvent:
    id: str
    task_id: str
    version: int
    at: str
    actor: str
    action: str
    from_: str | None = None
    to: str | None = None
    comment: str | None = None
    candidates: list[str] | None = None
    # The audit ledger: what the change set (field -> {"from", "to"}), why (a reason code), for
    # whom, and the event's hash in the task's chain (docs/decisions.md).
    changes: dict[str, dict[str, Any]] | None = None
    reason: str | None = None
    on_behalf_of: str | None = None
    hash: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    WIRE: ClassVar[dict[str, str]] = {
        "id": "id", "task_id": "taskId", "version": "version", "at": "at", "actor": "actor", "action": "action",
        "from_": "from", "to": "to", "comment": "comment", "candidates": "candidates", "changes": "changes",
        "reason": "reason", "on_behalf_of": "onBehalfOf", "hash": "hash",
    }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> HistoryEvent:
        return cls(**_get(raw, cls.WIRE), raw=dict(raw))


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a listing; `cursor` asks for the next (None: this was the last)."""

    items: list[T]
    cursor: str | None = None
