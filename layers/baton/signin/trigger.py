"""The user pool's pre-token-generation trigger (event version 3): the tenant and roles in every
token, for a client-credentials client from its registration (signin.registrations)."""

from __future__ import annotations

from typing import Any

from baton.edge.auth import ROLES_CLAIM, roles_claim
from baton.signin.registrations import registration


def token_claims(tenant: str, roles: list[str]) -> dict[str, str]:
    """The claims Baton reads, as strings (API Gateway hands string claims through untouched):
    the tenant, and the roles as `baton:roles` (see baton.edge.auth: one JSON array, since API Gateway
    flattens array claims; `cognito:groups` can't be set for a client anyway)."""
    return {"custom:tenant": tenant, ROLES_CLAIM: roles_claim(roles)}


def pre_token_generation(event: dict[str, Any], context: Any, lookup: Any = None) -> dict[str, Any]:
    """Add the tenant and roles to the tokens. A user's come from its `custom:tenant` attribute and
    its groups; a client-credentials client's from its registration (an unregistered client gets
    no token: the error fails the sign-in)."""
    request = event.get("request") or {}
    if event.get("triggerSource") == "TokenGeneration_ClientCredentials":
        client_id = str((event.get("callerContext") or {}).get("clientId", ""))
        found = (lookup or registration)(client_id)
        if not found:
            raise PermissionError(f"client {client_id} is not registered with a tenant")
        claims = token_claims(found.tenant, list(found.roles))
        event.setdefault("response", {})["claimsAndScopeOverrideDetails"] = {
            "accessTokenGeneration": {"claimsToAddOrOverride": claims}}
        return event
    tenant = str((request.get("userAttributes") or {}).get("custom:tenant", ""))
    groups = list((request.get("groupConfiguration") or {}).get("groupsToOverride") or [])
    claims = token_claims(tenant, groups)
    event.setdefault("response", {})["claimsAndScopeOverrideDetails"] = {
        "idTokenGeneration": {"claimsToAddOrOverride": claims},
        "accessTokenGeneration": {"claimsToAddOrOverride": claims}}
    return event

