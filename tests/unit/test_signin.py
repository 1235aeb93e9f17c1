"""Sign-in in AWS, short of an AWS account: the user pool's pre-token-generation trigger on its
version-3 events, and the Cognito backend against botocore's stubber (InitiateAuth) and a loopback
stand-in for the pool's token endpoint (tests/integration/test_signin_http.py). The flows themselves run
over HTTP in tests/integration/test_vendor_clients.py."""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

import pytest
from botocore.stub import Stubber

from baton.edge.auth import ROLES_CLAIM
from baton.signin.cognito import CognitoBackend
from baton.signin.grants import SignInFailed
from baton.signin.trigger import pre_token_generation
from baton.storage.dynamo import get_dynamo, serialize
from baton.storage.keys import Keys
from tests.support.cognito import cognito, jwt


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


def test_the_trigger_entry_point_resumes_garbage_collection() -> None:
    import gc

    from baton.edge import coldstart
    from baton_functions.signin import pre_token_generation as entry

    coldstart.pause()
    event = {"triggerSource": "TokenGeneration_RefreshTokens", "request": {
        "userAttributes": {"custom:tenant": "acme"}, "groupConfiguration": {"groupsToOverride": []}}}
    assert entry(event, None)["response"]["claimsAndScopeOverrideDetails"]["idTokenGeneration"]
    assert gc.isenabled()
