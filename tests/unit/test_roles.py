"""Roles are exact: only a group named exactly `admin` grants admin, whichever way the claims
travel (the Cognito trigger's claim through API Gateway's flattening, the local issuer's token
through the local server, or a function invoked with the claims as issued)."""

from __future__ import annotations

from typing import Any

import pytest

from baton.edge.auth import caller_from_claims, parse_roles
from baton.signin.trigger import pre_token_generation
from baton_local import tokens
from tests.support import TENANT, call

LOOKALIKES = ["Domain admin", "[admin]", "x,admin", "not-admin,admin", "helpdesk apiwrite", " admin", "admin ",
              "ADMIN", '["admin"]', "admin\n", "[admin apiwrite]"]


def _cognito_event(groups: list[str]) -> dict[str, Any]:
    return {"version": "3", "triggerSource": "TokenGeneration_Authentication", "userName": "eve",
            "callerContext": {"clientId": "inbox"},
            "request": {"userAttributes": {"sub": "eve", "custom:tenant": TENANT}, "groupConfiguration": {
                "groupsToOverride": groups, "iamRolesToOverride": [], "preferredRole": None}},
            "response": {}}


def _as_api_gateway_delivers(groups: list[str]) -> dict[str, Any]:
    """The ID token Cognito issues with the trigger's claim, flattened by the HTTP API authorizer."""
    added = pre_token_generation(_cognito_event(groups), None)["response"]["claimsAndScopeOverrideDetails"]
    claims = {"sub": "eve", "cognito:groups": groups, **added["accessTokenGeneration"]["claimsToAddOrOverride"]}
    return tokens.authorizer_claims(claims)


@pytest.mark.parametrize("group", LOOKALIKES)
def test_a_lookalike_group_grants_nothing_behind_api_gateway(group: str) -> None:
    caller = caller_from_claims(_as_api_gateway_delivers([group, "engineering"]))
    assert caller.roles == {group, "engineering"}
    assert not caller.is_admin and "apiwrite" not in caller.roles


def test_exact_groups_still_grant_their_roles() -> None:
    caller = caller_from_claims(_as_api_gateway_delivers(["admin", "PM_FACTORY"]))
    assert caller.is_admin and caller.roles == {"admin", "PM_FACTORY"}


@pytest.mark.parametrize("value", ["[admin]", "admin", "admin,apiwrite", '{"admin": 1}', '["admin", 1]', "[", 7,
                                   None, ["admin", 1]])
def test_anything_but_a_json_array_of_names_grants_nothing(value: Any) -> None:
    assert parse_roles(value) == frozenset()


def test_the_flattened_groups_claim_is_never_read() -> None:
    claims = {"sub": "eve", "custom:tenant": TENANT, "cognito:groups": "[admin]"}
    assert caller_from_claims(claims).roles == frozenset()


@pytest.mark.parametrize("group", ["Domain admin", "[admin]", "x,admin", "helpdesk apiwrite"])
def test_lookalike_cannot_create_a_task_through_the_handlers(moto_table: str, group: str) -> None:
    r = call("POST", "/api/v1/tasks", {"id": "t-odd", "name": "Odd"}, user="eve", roles=(group,))
    assert r.status == 403, r
    assert call("GET", "/api/v1/tasks/t-odd", user="eve").status == 404  # nothing written
    assert call("POST", "/api/v1/tasks", {"id": "t-ok", "name": "Ok"}, user="eve", roles=("admin",)).status == 201
