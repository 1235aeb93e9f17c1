"""ProcessMaker's part of sign-in: `POST /{workspace}/oauth2/token` answers a `bearer` token, and
never one for another tenant's workspace."""

from __future__ import annotations

from baton.signin.grants import Grant, SignInFailed

TOKEN_TYPE = "bearer"


def for_workspace(grant: Grant, workspace: str) -> Grant:
    """The grant, if its tenant is the workspace signed in to (else the same 401 as a wrong password)."""
    if grant.tenant != workspace:
        raise SignInFailed("Invalid username and password combination")
    return grant
