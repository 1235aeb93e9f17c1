"""Issue 23: input that must be a 4xx, never a 5xx or a poison record, through the handlers
(events shaped as API Gateway delivers them). Each case failed before its fix: lone surrogates
(`"\\ud800"` in JSON parses to one) in the tenant claim, ids, queries, bodies and cursors; a
`baton:roles` claim of 5,000 nested arrays; ids `.` and `..`; a blank `sub`; the cursors'
unkeyed fingerprint; answers without `nosniff` / `no-store`."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import pytest

from baton.routes import match
from baton.settings import get_settings
from baton.storage.cursors import fingerprint
from baton_local.events import LambdaContext, http_event
from tests.support import TENANT, handlers, seed, table_items

pytestmark = pytest.mark.usefixtures("moto_table")


@pytest.fixture(autouse=True)
def _seeded(moto_table: str) -> None:
    seed()


def _send(method: str, path: str, body: str | None = None, claims: dict[str, Any] | None = None,
          query: dict[str, str] | None = None) -> tuple[int, str]:
    route, _ = match(method, path)
    assert route is not None, path
    event = http_event(method, path, route=route, body=body, query=query, raw_query="", claims=claims)
    result = handlers()[route.family](event, LambdaContext())
    return int(result["statusCode"]), result.get("body") or ""


def _claims(sub: str = "root", tenant: str = TENANT, roles: str = '["admin"]') -> dict[str, Any]:
    return {"sub": sub, "username": "root", "custom:tenant": tenant, "baton:roles": roles}


def test_claims_that_are_not_text_or_blank_are_401() -> None:
    for claims in (_claims(tenant="\ud800bad"), _claims(sub="\udfff"), _claims(sub=" "), _claims(tenant="\t")):
        for method, path, body in (("GET", "/api/v1/tasks", None),
                                   ("POST", "/api/v1/tasks", '{"id": "p1", "name": "x"}')):
            before = table_items()
            status, text = _send(method, path, body, claims=claims)
            assert status == 401, (claims, path, status, text)
            assert table_items() == before


def test_lone_surrogates_in_ids_queries_and_bodies_are_400_and_write_nothing() -> None:
    before = table_items()
    cases = [
        ("POST", "/api/v1/tasks", '{"id": "\\ud800bad", "name": "x"}', None),
        ("POST", "/api/v1/tasks", '{"id": "ok", "name": "x\\udfff"}', None),
        ("POST", "/api/v1/tasks", '{"id": "ok", "name": "x", "candidateUsers": ["\\udbff"]}', None),
        ("POST", "/api/v1/tasks/t1/action/reassign", '{"newStepUserIds": ["\\ud800"]}', None),
        ("PUT", "/api/v1/users/\ud800", '{"username": "x"}', None),
        ("PUT", "/api/v1/users/u1", '{"username": "\\ud800"}', None),
        ("GET", "/api/v1/tasks/\ud800", None, None),
        ("GET", "/api/v1/tasks", None, {"assignee": "\ud800"}),
        ("POST", "/oauth/token", '{"grant_type": "client_credentials", "client_id": "\\ud800", '
                                 '"client_secret": "x"}', None),
        ("POST", "/login", '{"username": "\\ud800", "password": "x"}', None),
    ]
    for method, path, body, query in cases:
        status, text = _send(method, path, body, claims=_claims(), query=query)
        assert 400 <= status < 500 and status != 401, (method, path, body, status, text)
    assert table_items() == before
    # a pair of surrogates is one character, and fine
    status, text = _send("POST", "/api/v1/tasks", '{"id": "emoji", "name": "\\ud83d\\ude00"}', claims=_claims())
    assert status == 201, text


def _b64(data: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode()


def test_crafted_cursors_with_lone_surrogates_are_400() -> None:
    """Before: `UnicodeEncodeError` in platform/cursors.py (now storage/cursors.py), a 500."""
    mark = fingerprint(TENANT, "tasks", None)
    for path, cursor in (
            ("/api/v1/tasks", _b64({"a": "\ud800", "h": mark})),
            ("/api/v1/tasks", _b64({"a": "x", "h": "\ud800"})),
            ("/api/v1/tasks/t1/history", _b64({"pk": {"S": f"T#{TENANT}#TASK#t1"}, "sk": {"S": "H#\ud800"}})),
            ("/api/v1/users", _b64({"pk": {"S": f"T#{TENANT}#DIR"}, "sk": {"S": "USER#\udfff"}})),
            ("/api/v1/tasks", "\ud800"), ("/api/v1/tasks", _b64("[" * 5000 + "]" * 5000))):
        status, text = _send("GET", path, claims=_claims(), query={"cursor": cursor})
        assert status == 400, (path, cursor[:40], status, text)


def test_a_listing_position_is_keyed_by_the_deployment_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fingerprint was an unkeyed hash anyone could compute: a position for any listing
    could be forged. Now it is an HMAC under the per-deployment `BATON_CURSOR_KEY`."""
    parts = (TENANT, "tasks", None)
    unkeyed = hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:16]
    status, text = _send("GET", "/api/v1/tasks", claims=_claims(), query={"cursor": _b64({"a": "z", "h": unkeyed})})
    assert status == 400, text
    issued = json.loads(_send("GET", "/api/v1/tasks", claims=_claims(), query={"limit": "1"})[1])["cursor"]
    assert _send("GET", "/api/v1/tasks", claims=_claims(), query={"cursor": issued})[0] == 200
    monkeypatch.setenv("BATON_CURSOR_KEY", "another deployment")
    get_settings.cache_clear()
    try:
        assert fingerprint(*parts) != json.loads(base64.urlsafe_b64decode(issued))["h"]
        assert _send("GET", "/api/v1/tasks", claims=_claims(), query={"cursor": issued})[0] == 400
    finally:
        get_settings.cache_clear()


def test_a_roles_claim_of_5000_nested_arrays_grants_nothing() -> None:
    """Before: RecursionError, a 500."""
    before = table_items()
    deep = "[" * 5000 + "]" * 5000
    status, text = _send("POST", "/api/v1/tasks", '{"id": "deep", "name": "x"}', claims=_claims(roles=deep))
    assert status == 403, text
    assert _send("GET", "/api/v1/tasks", claims=_claims(roles=deep))[0] == 200
    assert table_items() == before


def test_dot_ids_are_400() -> None:
    """`.` and `..` were accepted, and broke the inbox's URLs (`/inbox/tasks/..`)."""
    before = table_items()
    for method, path, body in (("POST", "/api/v1/tasks", '{"id": ".", "name": "x"}'),
                               ("POST", "/api/v1/tasks", '{"id": "..", "name": "x"}'),
                               ("PUT", "/api/v1/users/.", '{"username": "x"}'),
                               ("PUT", "/api/v1/groups/..", '{"name": "x", "members": []}'),
                               ("GET", "/api/v1/tasks/..", None),
                               ("POST", "/api/v1/tasks/./action/claim", None)):
        status, text = _send(method, path, body, claims=_claims())
        assert status == 400, (method, path, status, text)
    assert table_items() == before
    assert _send("POST", "/api/v1/tasks", '{"id": "...", "name": "x"}', claims=_claims())[0] == 201


def test_every_api_answer_is_nosniff_and_no_store() -> None:
    for method, path, claims in (("GET", "/api/v1/tasks", _claims()), ("GET", "/api/v1/tasks/none", _claims()),
                                 ("GET", "/health", None), ("GET", "/openapi.json", None)):
        route, _ = match(method, path)
        assert route is not None
        event = http_event(method, path, route=route, claims=claims if route.auth else None)
        headers = {k.lower(): v for k, v in handlers()[route.family](event, LambdaContext())["headers"].items()}
        assert headers["x-content-type-options"] == "nosniff", path
        assert headers["cache-control"] == "no-store", path


