"""Vendor sign-in's tokens: where they come from. Itential's client credentials and `/login`, and
ProcessMaker's password grant, are answered with tokens Baton's authorizer accepts, from a backend:
- in AWS, the stack's Cognito user pool (`signin.cognito.CognitoBackend`), whose
  pre-token-generation trigger (`signin.trigger`) puts the tenant and roles in the access token;
- locally, the local issuer with the users, passwords and clients kept in the state dir
  (`baton_local.credentials`, outside the layer: `baton serve` hands it in with
  `signin.backend.use_backend`).

A credential belongs to one tenant; a grant carries it, so a route can refuse to hand out a token
for another tenant's workspace."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from baton.errors import BatonError

SCOPE = "baton/api"  # the resource server's one scope, asked for by client-credentials sign-ins


class SignInFailed(BatonError):
    """Wrong or unknown credentials: 401 in the vendor's shape (OAuth's `error` code in `reason`)."""

    status = 401
    reason = "invalid_grant"


class TooManySignIns(BatonError):
    """Too many failed sign-ins for a credential or from a source: 429 with `Retry-After` (the
    local server throttles; in AWS the user pool does, and its refusal is answered the same)."""

    status = 429
    reason = "slow_down"


@dataclass(frozen=True)
class Grant:
    access_token: str
    expires_in: int
    tenant: str
    refresh_token: str | None = None


class Backend(Protocol):
    def client_credentials(self, client_id: str, client_secret: str) -> Grant: ...

    def password(self, username: str, password: str, client: tuple[str, str] | None) -> Grant: ...


class Disabled:
    """A deployment on another identity provider: its clients sign in there."""

    def client_credentials(self, client_id: str, client_secret: str) -> Grant:
        raise SignInFailed("This deployment signs in through its identity provider", reason="invalid_client")

    def password(self, username: str, password: str, client: tuple[str, str] | None) -> Grant:
        raise SignInFailed("This deployment signs in through its identity provider")
