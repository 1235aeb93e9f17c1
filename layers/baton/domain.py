"""What every feature shares: the caller and its roles, the models' base, timestamps.
Each feature's own types live in its package (tasks.domain, directory.domain, activities.domain)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict

from baton.errors import Forbidden

ROLE_ADMIN = "admin"
ROLE_APIWRITE = "apiwrite"
ROLE_ENGINEERING = "engineering"
ROLE_OPERATIONS = "operations"
ROLE_PM_FACTORY = "PM_FACTORY"

WORK_ROLES = frozenset({ROLE_ADMIN, ROLE_APIWRITE, ROLE_ENGINEERING, ROLE_OPERATIONS})
WRITE_ROLES = frozenset({ROLE_ADMIN, ROLE_APIWRITE})
PM_ROLES = frozenset({ROLE_PM_FACTORY, ROLE_ADMIN})

MAX_LEASE_SECONDS = 7 * 24 * 3600  # a claim's lease (and an activity's default one): 1 second to 7 days


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


class Model(BaseModel):
    # Built on first use: a function validates only the models its routes touch.
    model_config = ConfigDict(extra="ignore", populate_by_name=True, defer_build=True)


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


def require_role(caller: Caller, roles: frozenset[str] = WORK_ROLES) -> None:
    """The first rule of every action: the caller holds one of the roles it needs."""
    if not caller.has_any(roles):
        raise Forbidden(f"Requires one of the roles: {', '.join(sorted(roles))}", reason="roleRequired")
