"""Itential's part of sign-in: `POST /oauth/token` answers a `Bearer` token; `POST /login` takes
the credentials under `user` (or at the top level, as older clients send them)."""

from __future__ import annotations

from typing import Any

from baton.errors import BadRequest

TOKEN_TYPE = "Bearer"


def login_user(fields: dict[str, Any]) -> dict[str, Any]:
    """The object of a `/login` body that holds `username` and `password`."""
    user = fields.get("user", fields)
    if not isinstance(user, dict):
        raise BadRequest("Invalid request: user must be an object")
    return user
