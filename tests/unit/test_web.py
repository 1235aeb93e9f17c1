"""The pages and assets the docs function serves, the local demo sign-in, and the demo data
they rely on (the browser itself is in tests/browser/test_pages.py)."""

from __future__ import annotations

import base64
import gzip
import json
from typing import Any

import pytest
from werkzeug.test import Client

from baton import web
from baton.routes import ROUTES, match
from baton_local import demo, tokens
from baton_local.events import LambdaContext, http_event
from baton_local.server import LocalApi
from tests.support import handlers


def get(path: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    route, _ = match("GET", path)
    assert route is not None and route.page, path
    result: dict[str, Any] = handlers()["docs"](http_event("GET", path, route=route, headers=headers),
                                                    LambdaContext())
    return result


def body_of(result: dict[str, Any]) -> bytes:
    raw = str(result.get("body") or "")
    data = base64.b64decode(raw) if result.get("isBase64Encoded") else raw.encode()
    return gzip.decompress(data) if (result.get("headers") or {}).get("Content-Encoding") == "gzip" else data


def test_the_inbox_page_loads_only_its_own_assets() -> None:
    result = get("/")
    headers = result["headers"]
    assert result["statusCode"] == 200 and headers["Content-Type"].startswith("text/html")
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    html = body_of(result).decode()
    assert 'src="inbox/inbox.js"' in html and 'href="inbox/inbox.css"' in html
    assert "http://" not in html and "https://" not in html


@pytest.mark.parametrize("path", ["/inbox/inbox.js", "/inbox/inbox.css", "/swagger/swagger-init.js",
                                  "/swagger/swagger-ui-bundle.js", "/swagger/swagger-ui.css"])
def test_assets_are_served_with_an_etag_and_gzip_when_asked(path: str) -> None:
    plain = get(path)
    assert plain["statusCode"] == 200
    name = path.rsplit("/", 1)[1]
    expected = (web.swagger_ui_static() / name if name in web.SWAGGER_PACKAGE else web.HERE / name).read_bytes()
    assert body_of(plain) == expected
    zipped = get(path, {"accept-encoding": "gzip, deflate"})
    assert zipped["headers"]["Content-Encoding"] == "gzip" and body_of(zipped) == expected
    etag = plain["headers"]["ETag"]
    again = get(path, {"if-none-match": etag})
    assert again["statusCode"] == 304 and not again.get("body")


@pytest.mark.parametrize("path", ["/inbox/nope.js", "/inbox/..%2F__init__.py", "/inbox/swagger-ui.css",
                                  "/swagger/inbox.js", "/swagger/swagger-ui.js.map", "/inbox/__init__.py"])
def test_only_the_listed_assets_are_served(path: str) -> None:
    result = get(path)
    assert result["statusCode"] == 404 and json.loads(str(result["body"])) == {"message": "Not Found"}


def test_swagger_uses_its_own_assets_and_keeps_no_token() -> None:
    html = body_of(get("/swagger")).decode()
    assert 'src="swagger/swagger-ui-bundle.js"' in html and "unpkg" not in html and "https://" not in html
    init = (web.HERE / "swagger-init.js").read_text()
    assert "persistAuthorization: false" in init and "validatorUrl: null" in init


def test_sign_in_config_names_the_hosted_ui_only_when_deployed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BATON_SIGNIN_URL", raising=False)
    assert json.loads(str(get("/inbox/config.json")["body"])) == {"cognito": None}
    monkeypatch.setenv("BATON_SIGNIN_URL", "https://baton-x.auth.eu-west-1.amazoncognito.com/")
    monkeypatch.setenv("BATON_SIGNIN_CLIENT_ID", "abc123")
    assert json.loads(str(get("/inbox/config.json")["body"])) == {
        "cognito": {"url": "https://baton-x.auth.eu-west-1.amazoncognito.com", "clientId": "abc123"}}


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> tuple[Client, Any]:
    """The local server's WSGI app (no handlers needed) and its issuer's key."""
    key = tokens.load_key(tmp_path_factory.mktemp("state"))
    return Client(LocalApi(key, handlers={})), key


def test_demo_sign_in_lists_the_demo_users_with_roles_and_groups(local: tuple[Client, Any]) -> None:
    client, _ = local
    response = client.get("/local/demo-users", base_url="http://127.0.0.1:3000")
    listed = response.get_json()
    assert response.status_code == 200 and listed["tenant"] == demo.TENANT
    by_id = {u["id"]: u for u in listed["users"]}
    assert by_id["alice"] == {"id": "alice", "name": "Alice Archer", "roles": ["operations"], "groups": ["ops"]}
    assert by_id["dave"]["roles"] == ["engineering", "PM_FACTORY"] and by_id["admin"]["roles"] == ["admin"]


@pytest.mark.parametrize("host", ["127.0.0.1:3000", "localhost:3100", "[::1]:3000", "localhost"])
def test_demo_sign_in_mints_a_token_the_server_accepts(local: tuple[Client, Any], host: str) -> None:
    client, key = local
    response = client.post("/local/demo-token", data=b'{"user": "carol"}', headers={"Host": host},
                           content_type="application/json")
    assert response.status_code == 200, response.get_data()
    claims = tokens.verify(key, response.get_json()["token"])
    assert (claims["sub"], claims["custom:tenant"], claims["cognito:groups"]) == ("carol", "workflow", ["engineering"])


@pytest.mark.parametrize(("method", "path", "host", "body", "status"), [
    ("POST", "/local/demo-token", "127.0.0.1:3000", b'{"user": "mallory"}', 400),
    ("POST", "/local/demo-token", "127.0.0.1:3000", b'["alice"]', 400),
    ("POST", "/local/demo-token", "127.0.0.1:3000", b"{", 400),
    ("POST", "/local/demo-token", "127.0.0.1:3000", b"", 400),
    ("GET", "/local/demo-token", "127.0.0.1:3000", b"", 404),
    ("POST", "/local/demo-users", "127.0.0.1:3000", b"", 404),
    ("POST", "/local/demo-token", "evil.example:3000", b'{"user": "admin"}', 403),
    ("GET", "/local/demo-users", "127.0.0.1.evil.example", b"", 403),
    ("GET", "/local/demo-users", "", b"", 403),
])
def test_demo_sign_in_refusals(local: tuple[Client, Any], method: str, path: str, host: str, body: bytes,
                               status: int) -> None:
    client, _ = local
    response = client.open(path, method=method, data=body, headers={"Host": host})
    assert response.status_code == status and "token" not in (response.get_json() or {})


def test_demo_sign_in_is_local_only() -> None:
    assert all(not r.path.startswith("/local/") for r in ROUTES)  # never in the route table: never deployed


@pytest.mark.usefixtures("moto_table")
def test_demo_data_has_processmaker_assignees_and_a_task_from_an_activity() -> None:
    from baton.activities.service import AssigneeService
    from baton.domain import Caller
    from baton.storage.dynamo import get_dynamo

    store = get_dynamo()
    assert demo.load(store) and not demo.load(store)
    admin = Caller(user_id="admin", username="admin", tenant=demo.TENANT, roles=frozenset({"admin"}))
    review = AssigneeService(store, admin, demo.TENANT, "onboarding", "review").assigned()
    assert {(a.uid, a.kind) for a in review} == {("ops", "group"), ("carol", "user")}
    provision = AssigneeService(store, admin, demo.TENANT, "onboarding", "provision").assigned()
    assert {(a.uid, a.kind) for a in provision} == {("eng", "group")}
    from baton.tasks.service import TaskService

    task = TaskService(store, admin).get("task-6")
    assert task.candidateGroups == ["ops"] and task.candidateUsers == ["carol"]


def test_pages_name_their_sign_in_origin_and_send_no_referrer(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 23, item 7: `connect-src` allowed any `*.amazoncognito.com` (any pool's, an
    attacker's too), and pages sent no `Referrer-Policy`."""
    monkeypatch.delenv("BATON_SIGNIN_URL", raising=False)
    for path in ("/", "/swagger", "/inbox/inbox.js"):
        headers = get(path)["headers"]
        assert headers["Referrer-Policy"] == "no-referrer", path
        policy = headers["Content-Security-Policy"]
        assert "amazoncognito" not in policy and "*" not in policy and "connect-src 'self';" in policy
    monkeypatch.setenv("BATON_SIGNIN_URL", "https://baton-x.auth.eu-west-1.amazoncognito.com/")
    csp = get("/")["headers"]["Content-Security-Policy"]
    assert "connect-src 'self' https://baton-x.auth.eu-west-1.amazoncognito.com;" in csp and "*" not in csp
    monkeypatch.setenv("BATON_SIGNIN_URL", "https://x.example; script-src *")  # never into the policy
    assert "connect-src 'self';" in get("/")["headers"]["Content-Security-Policy"]
