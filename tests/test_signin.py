"""Sign-in in AWS, short of an AWS account: the user pool's pre-token-generation trigger on its
version-3 events, and the Cognito backend against botocore's stubber (InitiateAuth) and a loopback
stand-in for the pool's token endpoint. The flows themselves run over HTTP in test_vendor_clients."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from botocore.session import Session
from botocore.stub import Stubber

from baton.platform.dynamo import get_dynamo, serialize
from baton.platform.keys import Keys
from baton.signin import ROLES_CLAIM, CognitoBackend, SignInFailed, pre_token_generation


def jwt(claims: dict[str, Any]) -> str:
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"eyJhbGciOiJSUzI1NiJ9.{body}.c2ln"


def test_trigger_adds_tenant_and_roles_of_a_user() -> None:
    event = {"version": "3", "triggerSource": "TokenGeneration_Authentication", "callerContext": {"clientId": "c"},
             "request": {"userAttributes": {"custom:tenant": "acme", "sub": "u1"},
                         "groupConfiguration": {"groupsToOverride": ["operations", "Domain admin"]}},
             "response": {}}
    out = pre_token_generation(event, None)["response"]["claimsAndScopeOverrideDetails"]
    expected = {"custom:tenant": "acme", ROLES_CLAIM: '["Domain admin","operations"]'}
    assert out["accessTokenGeneration"]["claimsToAddOrOverride"] == expected
    assert out["idTokenGeneration"]["claimsToAddOrOverride"] == expected


def test_trigger_adds_a_registered_clients_tenant_and_refuses_an_unregistered_one(moto_table: str) -> None:
    store = get_dynamo()
    store.client.put_item(TableName=store.table, Item=serialize({
        **Keys.client_registration("itential-prod"), "tenant": "acme", "roles": ["operations"]}))

    def event(client: str) -> dict[str, Any]:
        return {"version": "3", "triggerSource": "TokenGeneration_ClientCredentials",
                "callerContext": {"clientId": client}, "request": {"scopes": ["baton/api"]}, "response": {}}

    out = pre_token_generation(event("itential-prod"), None)["response"]["claimsAndScopeOverrideDetails"]
    assert out == {"accessTokenGeneration": {"claimsToAddOrOverride": {
        "custom:tenant": "acme", ROLES_CLAIM: '["operations"]'}}}
    with pytest.raises(PermissionError):
        pre_token_generation(event("stranger"), None)


def cognito() -> Any:
    return Session().create_client("cognito-idp", region_name="us-east-1", aws_access_key_id="x",
                                   aws_secret_access_key="x")


def test_password_grant_through_initiate_auth_with_the_secret_hash() -> None:
    client = cognito()
    backend = CognitoBackend(client, "https://unused", "pool", "pw-client")
    token = jwt({"custom:tenant": "acme", "sub": "u1"})
    digest = base64.b64encode(hmac.new(b"s3cret", b"alicepm-client", hashlib.sha256).digest()).decode()
    with Stubber(client) as stub:
        stub.add_response("initiate_auth", {"AuthenticationResult": {
            "AccessToken": token, "ExpiresIn": 3600, "RefreshToken": "r", "IdToken": "i", "TokenType": "Bearer"}},
            {"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": "pm-client",
             "AuthParameters": {"USERNAME": "alice", "PASSWORD": "pw", "SECRET_HASH": digest}})
        stub.add_client_error("initiate_auth", "NotAuthorizedException", http_status_code=400)
        stub.add_response("initiate_auth", {"ChallengeName": "SOFTWARE_TOKEN_MFA", "Session": "s" * 20})
        grant = backend.password("alice", "pw", ("pm-client", "s3cret"))
        assert (grant.access_token, grant.tenant, grant.refresh_token) == (token, "acme", "r")
        for _ in range(2):
            with pytest.raises(SignInFailed) as failed:
                backend.password("alice", "pw", ("pm-client", "s3cret"))
            assert failed.value.status == 401


@pytest.fixture
def token_endpoint() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A loopback stand-in for the pool domain's /oauth2/token (client credentials)."""
    seen: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            return

        def do_POST(self) -> None:  # noqa: N802
            form = dict(urllib.parse.parse_qsl(self.rfile.read(int(self.headers["Content-Length"])).decode()))
            seen.append({"path": self.path, "form": form, "auth": self.headers.get("Authorization")})
            good = self.headers.get("Authorization") == "Basic " + base64.b64encode(b"m2m:secret").decode()
            body = json.dumps({"access_token": jwt({"custom:tenant": "acme", "sub": "m2m"}), "expires_in": 3600,
                               "token_type": "Bearer"} if good else {"error": "invalid_client"}).encode()
            self.send_response(200 if good else 400)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", seen
    server.shutdown()
    server.server_close()


def test_client_credentials_through_the_pools_token_endpoint(token_endpoint: tuple[str, list[dict[str, Any]]]
                                                             ) -> None:
    url, seen = token_endpoint
    backend = CognitoBackend(cognito(), url, "pool", "pw-client")
    grant = backend.client_credentials("m2m", "secret")
    assert grant.tenant == "acme" and grant.expires_in == 3600
    assert seen[0]["path"] == "/oauth2/token"
    assert seen[0]["form"] == {"grant_type": "client_credentials", "scope": "baton/api"}
    with pytest.raises(SignInFailed) as failed:
        backend.client_credentials("m2m", "wrong")
    assert failed.value.reason == "invalid_client"


def test_the_trigger_entry_point_resumes_garbage_collection() -> None:
    import gc

    from baton.platform import coldstart
    from baton_functions.signin import pre_token_generation as entry

    coldstart.pause()
    event = {"triggerSource": "TokenGeneration_RefreshTokens", "request": {
        "userAttributes": {"custom:tenant": "acme"}, "groupConfiguration": {"groupsToOverride": []}}}
    assert entry(event, None)["response"]["claimsAndScopeOverrideDetails"]["idTokenGeneration"]
    assert gc.isenabled()
