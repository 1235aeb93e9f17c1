"""The stack's Cognito user pool as a sign-in backend: client credentials through the pool's
token endpoint (a resource server scope, over HTTPS), passwords through InitiateAuth."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import urllib.error
import urllib.parse
import urllib.request
from functools import lru_cache
from typing import Any

from baton.signin.grants import SCOPE, Grant, SignInFailed, TooManySignIns


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
            if err.response.get("Error", {}).get("Code") in ("TooManyRequestsException", "LimitExceededException"):
                raise TooManySignIns("Too many sign-ins; retry later", retry_after=30) from err  # the pool throttles
            raise SignInFailed("Invalid username and password combination") from err
        result = out.get("AuthenticationResult")
        if not result:  # a challenge (new password, MFA): not something a password grant can answer
            raise SignInFailed(f"This user must sign in interactively ({out.get('ChallengeName', 'challenge')})")
        token = str(result["AccessToken"])
        tenant = str(_unverified_claims(token).get("custom:tenant", ""))
        return Grant(token, int(result.get("ExpiresIn", 3600)), tenant, result.get("RefreshToken"))


@lru_cache(maxsize=8)
def _client_secret(client: Any, pool_id: str, client_id: str) -> str | None:
    """The stack's own password app client's secret, read once per container (never in env)."""
    out = client.describe_user_pool_client(UserPoolId=pool_id, ClientId=client_id)
    secret = out.get("UserPoolClient", {}).get("ClientSecret")
    return str(secret) if secret else None


def from_environment() -> CognitoBackend:
    """The pool the CDK stack configured in the function's environment."""
    from botocore.session import Session

    from baton.settings import get_settings

    cognito = Session().create_client("cognito-idp", region_name=get_settings().region)
    return CognitoBackend(cognito, os.environ["SIGNIN_DOMAIN"], os.environ["SIGNIN_USER_POOL_ID"],
                          os.environ["SIGNIN_PASSWORD_CLIENT_ID"])
