"""Vendor sign-in flows: Itential's client credentials and `/login`, ProcessMaker's password grant.

Baton answers them with tokens its authorizer accepts. Where the tokens come from is a backend:
- in AWS, the stack's Cognito user pool (`CognitoBackend`): client credentials through the pool's
  token endpoint (a resource server scope), passwords through InitiateAuth; the pool's
  pre-token-generation trigger (`pre_token_generation` below) puts the tenant and roles in the
  access token, for client credentials from the client's registration in the table;
- locally, the local issuer with the users, passwords and clients kept in the state dir
  (`baton_local.credentials`, outside the layer: `baton serve` hands it in with `use_backend`).

A credential belongs to one tenant; a grant carries it, so a route can refuse to hand out a token
for another tenant's workspace."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

from baton.directory.domain import ClientRegistration
from baton.edge.auth import ROLES_CLAIM, roles_claim
from baton.errors import BatonError

SCOPE = "baton/api"  # the resource server's one scope, asked for by client-credentials sign-ins


class SignInFailed(BatonError):
    """Wrong or unknown credentials: 401 in the vendor's shape (OAuth's `error` code in `reason`)."""

    status = 401
    reason = "invalid_grant"


@dataclass(frozen=True)
class Grant:
    access_token: str
    expires_in: int
    tenant: str
    refresh_token: str | None = None


class Backend(Protocol):
    def client_credentials(self, client_id: str, client_secret: str) -> Grant: ...

    def password(self, username: str, password: str, client: tuple[str, str] | None) -> Grant: ...


def _unverified_claims(token: str) -> dict[str, Any]:
    """The payload of a token Cognito has just issued to us over TLS (to read its tenant)."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError) as err:
        raise SignInFailed("The identity provider answered an unreadable token") from err
    return claims if isinstance(claims, dict) else {}


class CognitoBackend:
    """The stack's user pool. Settings from the function's environment (set by the CDK stack)."""

    def __init__(self, client: Any, domain: str, pool_id: str, password_client_id: str) -> None:
        self.client, self.domain, self.pool_id = client, domain.rstrip("/"), pool_id
        self.password_client_id = password_client_id

    def client_credentials(self, client_id: str, client_secret: str) -> Grant:
        form = urllib.parse.urlencode({"grant_type": "client_credentials", "scope": SCOPE}).encode()
        basic = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
        req = urllib.request.Request(f"{self.domain}/oauth2/token", data=form, method="POST", headers={
            "Content-Type": "application/x-www-form-urlencoded", "Authorization": f"Basic {basic}"})
        try:
            with urllib.request.urlopen(req, timeout=5) as resp:  # noqa: S310 - the pool's own https domain
                answer = json.loads(resp.read())
        except urllib.error.HTTPError as err:
            raise SignInFailed("Invalid client credentials", reason="invalid_client") from err
        token = str(answer["access_token"])
        tenant = str(_unverified_claims(token).get("custom:tenant", ""))
        return Grant(token, int(answer.get("expires_in", 3600)), tenant)

    def _secret(self, client_id: str) -> str | None:
        return _client_secret(self.client, self.pool_id, client_id)

    def password(self, username: str, password: str, client: tuple[str, str] | None) -> Grant:
        client_id, secret = client if client else (self.password_client_id, self._secret(self.password_client_id))
        params = {"USERNAME": username, "PASSWORD": password}
        if secret:
            digest = hmac.new(secret.encode(), (username + client_id).encode(), hashlib.sha256).digest()
            params["SECRET_HASH"] = base64.b64encode(digest).decode()
        from botocore.exceptions import ClientError

        try:
            out = self.client.initiate_auth(AuthFlow="USER_PASSWORD_AUTH", ClientId=client_id, AuthParameters=params)
        except ClientError as err:
            raise SignInFailed("Invalid username and password combination") from err
        result = out.get("AuthenticationResult")
        if not result:  # a challenge (new password, MFA): not something a password grant can answer
            raise SignInFailed(f"This user must sign in interactively ({out.get('ChallengeName', 'challenge')})")
        token = str(result["AccessToken"])
        tenant = str(_unverified_claims(token).get("custom:tenant", ""))
        return Grant(token, int(result.get("ExpiresIn", 3600)), tenant, result.get("RefreshToken"))


class Disabled:
    """A deployment on another identity provider: its clients sign in there."""

    def client_credentials(self, client_id: str, client_secret: str) -> Grant:
        raise SignInFailed("This deployment signs in through its identity provider", reason="invalid_client")

    def password(self, username: str, password: str, client: tuple[str, str] | None) -> Grant:
        raise SignInFailed("This deployment signs in through its identity provider")


@lru_cache(maxsize=8)
def _client_secret(client: Any, pool_id: str, client_id: str) -> str | None:
    """The stack's own password app client's secret, read once per container (never in env)."""
    out = client.describe_user_pool_client(UserPoolId=pool_id, ClientId=client_id)
    secret = out.get("UserPoolClient", {}).get("ClientSecret")
    return str(secret) if secret else None


_given: list[Backend] = []  # a backend handed in by the process that runs the functions


def use_backend(given: Backend | None) -> None:
    """Serve sign-ins from `given` (the local server's issuer); None: back to the environment's."""
    _given[:] = [given] if given is not None else []


def backend() -> Backend:
    """The backend handed in with `use_backend`, else the environment's."""
    return _given[0] if _given else _configured()


@lru_cache(maxsize=1)
def _configured() -> Backend:
    """Chosen on first use from the environment (nothing happens at import): the stack's user
    pool where the CDK stack configured one, else none."""
    if "SIGNIN_DOMAIN" not in os.environ:
        return Disabled()
    from botocore.session import Session

    from baton.settings import get_settings

    cognito = Session().create_client("cognito-idp", region_name=get_settings().region)
    return CognitoBackend(cognito, os.environ["SIGNIN_DOMAIN"], os.environ["SIGNIN_USER_POOL_ID"],
                          os.environ["SIGNIN_PASSWORD_CLIENT_ID"])


# ---- the user pool's pre-token-generation trigger (event version 3) ------------------------------

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
        registration = (lookup or _registration)(client_id)
        if not registration:
            raise PermissionError(f"client {client_id} is not registered with a tenant")
        claims = token_claims(registration.tenant, list(registration.roles))
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


def _registration(client_id: str) -> ClientRegistration | None:
    from baton.directory.repository import DirectoryRepository
    from baton.storage.dynamo import get_dynamo

    return DirectoryRepository(get_dynamo()).client_registration(client_id)
