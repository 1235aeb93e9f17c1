"""The authorization matrix: every route of the route table × every role set, expected allow or
deny generated from the table's `roles` (not written per route), plus a foreign tenant."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from baton.domain import PM_ROLES, WORK_ROLES, WRITE_ROLES
from baton.routes import ROUTES, Route
from baton_local.events import LambdaContext, claims_for
from tests.gen_events import file_name
from tests.support import TENANT, get_task, handlers, seed

ROLE_SETS: list[tuple[str, ...]] = [(), *[(r,) for r in sorted(WORK_ROLES | PM_ROLES | WRITE_ROLES)]]
DENIED = "Requires one of the roles"
AUTHENTICATED = [r for r in ROUTES if r.auth]


def message(body: Any) -> str:
    if isinstance(body, dict):
        inner = body.get("error")
        return str(inner.get("message") if isinstance(inner, dict) else body.get("message", ""))
    return ""


def send(route: Route, roles: tuple[str, ...], tenant: str = TENANT) -> tuple[int, Any]:
    event = copy.deepcopy(json.loads(file_name(route).read_text()))
    user = event["requestContext"]["authorizer"]["jwt"]["claims"]["sub"]
    event["requestContext"]["authorizer"]["jwt"]["claims"] = claims_for(user, tenant, roles)
    result = handlers()[route.family](event, LambdaContext())
    body = json.loads(result["body"]) if result.get("body") else None
    return int(result["statusCode"]), body


@pytest.mark.usefixtures("moto_table")
@pytest.mark.parametrize("route", AUTHENTICATED, ids=lambda r: f"{r.method} {r.path}")
def test_roles(route: Route) -> None:
    seed()
    for roles in ROLE_SETS:
        allowed = route.roles is None or bool(set(roles) & route.roles)
        status, body = send(route, roles)
        assert status < 500, (roles, status, body)
        if allowed:
            assert DENIED not in message(body), (roles, status, body)
        else:
            expected = 400 if route.family == "journey" else 403
            assert status == expected and DENIED in message(body), (roles, status, body)
            if route.family == "journey":
                assert body["errorKey"] == "accessDenied"


@pytest.mark.usefixtures("moto_table")
@pytest.mark.parametrize("route", AUTHENTICATED, ids=lambda r: f"{r.method} {r.path}")
def test_foreign_tenant_sees_and_changes_nothing(route: Route) -> None:
    seed()
    before = get_task("t1").body
    status, body = send(route, ("admin", "PM_FACTORY"), tenant="intruder")
    text = json.dumps(body)
    names_a_resource = "{" in route.path and "{action}" not in route.path  # a bulk action names no task
    if names_a_resource and route.family != "directory" or route.family == "journey":
        expected = 400 if route.family == "journey" else 404
        assert status == expected, (status, body)
        if route.family == "journey":
            assert body["errorKey"] == "txnNotFound"
    else:  # collections and creations act within the caller's own tenant (where acme's users do not exist)
        assert status < 500 and status != 403, (status, body)
        for secret in ('"t1"', '"alice"', "Group task"):
            assert secret not in text or route.method in ("POST", "PUT"), (route, text)
    assert get_task("t1").body == before
