"""Identity: the caller from the claims API Gateway's JWT authorizer verified.

Functions never parse the token; they read `requestContext.authorizer.jwt.claims`.

Roles travel in one string claim, `baton:roles`, holding a JSON array of the caller's group
names (`["admin","ops team"]`). API Gateway's HTTP API authorizer flattens array claims into
one string (`cognito:groups` `["Domain admin"]` arrives as `"[Domain admin]"`, the same text
as `["Domain", "admin"]`), so the group list cannot be recovered from it. A string claim is
passed through untouched, and JSON keeps every name whole, so a role counts only when one
group is exactly its name. The Cognito user pool's pre-token-generation trigger
(`baton.signin.trigger.pre_token_generation`, wired by the CDK stack) adds the claim to every ID token; the
local issuer adds the same claim; an external identity provider must too.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from baton.domain import Caller
from baton.errors import Unauthorized
from baton.settings import MAX_ID_LENGTH
from baton.text import is_text

ROLES_CLAIM = "baton:roles"


def roles_claim(groups: Iterable[str]) -> str:
    """The `baton:roles` claim for these group names."""
    return json.dumps(sorted(set(groups)), ensure_ascii=False, separators=(",", ":"))


def parse_roles(value: Any) -> frozenset[str]:
    """The group names of a `baton:roles` claim: a JSON array of strings (as a string, as API
    Gateway delivers it, or as a list when a function is invoked with the claims as issued).
    Anything else grants nothing: names are never split or trimmed."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except (ValueError, RecursionError):  # 5,000 nested arrays too: a claim, not a fault
            return frozenset()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        return frozenset()
    return frozenset(value)


def claims_of(event: dict[str, Any]) -> dict[str, Any]:
    ctx = event.get("requestContext") or {}
    claims = ((ctx.get("authorizer") or {}).get("jwt") or {}).get("claims")
    return claims if isinstance(claims, dict) else {}


def caller_from_claims(claims: dict[str, Any]) -> Caller:
    sub = claims.get("sub")
    tenant = claims.get("custom:tenant")
    for name, value in (("sub", sub), ("custom:tenant", tenant)):
        if not isinstance(value, str) or not value.strip():
            raise Unauthorized("Unauthorized", description=f"the token has no {name} claim")
        if not is_text(value):  # a lone surrogate: no key, URL or event can carry it
            raise Unauthorized("Unauthorized", description=f"the token's {name} claim is not valid text")
        if len(value) > MAX_ID_LENGTH:  # every key Baton builds from it must fit DynamoDB's key size
            raise Unauthorized("Unauthorized",
                               description=f"the token's {name} claim is over {MAX_ID_LENGTH} characters")
    username = claims.get("username") or claims.get("cognito:username") or sub
    return Caller(user_id=str(sub), username=str(username), tenant=str(tenant),
                  roles=parse_roles(claims.get(ROLES_CLAIM)))
