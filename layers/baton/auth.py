"""Identity: the caller from the claims API Gateway's JWT authorizer verified.

Functions never parse the token; they read `requestContext.authorizer.jwt.claims`.
"""

from __future__ import annotations

from typing import Any

from baton.domain import Caller
from baton.errors import Unauthorized


def parse_roles(value: Any) -> frozenset[str]:
    """`cognito:groups` arrives as a list, or (HTTP API flattens arrays) as "[a b]" or "a,b"."""
    if value is None:
        return frozenset()
    if isinstance(value, list | tuple | set | frozenset):
        return frozenset(str(v) for v in value)
    text = str(value).strip().strip("[]")
    return frozenset(p for p in text.replace(",", " ").split() if p)


def claims_of(event: dict[str, Any]) -> dict[str, Any]:
    ctx = event.get("requestContext") or {}
    claims = ((ctx.get("authorizer") or {}).get("jwt") or {}).get("claims")
    return claims if isinstance(claims, dict) else {}


def caller_from_claims(claims: dict[str, Any]) -> Caller:
    sub = claims.get("sub")
    tenant = claims.get("custom:tenant")
    if not isinstance(sub, str) or not sub or not isinstance(tenant, str) or not tenant:
        raise Unauthorized("Unauthorized")
    username = claims.get("username") or claims.get("cognito:username") or sub
    return Caller(user_id=sub, username=str(username), tenant=tenant,
                  roles=parse_roles(claims.get("cognito:groups")))
