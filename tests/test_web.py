"""The pages and assets the docs function serves, the local demo sign-in, and the demo data
they rely on (the browser itself is in tests/test_pages.py)."""

from __future__ import annotations

import base64
import gzip
import json
from typing import Any

import pytest

from baton import web
from baton.local import demo, demo_signin, tokens
from baton.local.events import LambdaContext, http_event
from baton.routes import ROUTES, match
from tests.support import handlers

KEY = b"k" * 32


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


def test_demo_sign_in_lists_the_demo_users_with_roles_and_groups() -> None:
    status, headers, body = demo_signin.answer("GET", "/local/demo-users", "127.0.0.1:3000", b"", KEY)  # type: ignore[misc]
    listed = json.loads(body)
    assert status == 200 and listed["tenant"] == demo.TENANT
    by_id = {u["id"]: u for u in listed["users"]}
    assert by_id["alice"] == {"id": "alice", "name": "Alice Archer", "roles": ["operations"], "groups": ["ops"]}
    assert by_id["dave"]["roles"] == ["engineering", "PM_FACTORY"] and by_id["admin"]["roles"] == ["admin"]


@pytest.mark.parametrize("host", ["127.0.0.1:3000", "localhost:3100", "[::1]:3000", "localhost"])
def test_demo_sign_in_mints_a_token_the_server_accepts(host: str) -> None:
    status, _, body = demo_signin.answer("POST", "/local/demo-token", host, b'{"user": "carol"}', KEY)  # type: ignore[misc]
    assert status == 200
    claims = tokens.verify(KEY, json.loads(body)["token"])
    assert (claims["sub"], claims["custom:tenant"], claims["cognito:groups"]) == ("carol", "workflow", ["engineering"])


@pytest.mark.parametrize(("method", "path", "host", "body", "status"), [
    ("POST", "/local/demo-token", "127.0.0.1:3000", b'{"user": "mallory"}', 400),
    ("POST", "/local/demo-token", "127.0.0.1:3000", b'["alice"]', 400),
    ("POST", "/local/demo-token", "127.0.0.1:3000", b"{", 400),
    ("GET", "/local/demo-token", "127.0.0.1:3000", b"", 405),
    ("POST", "/local/demo-users", "127.0.0.1:3000", b"", 405),
    ("POST", "/local/demo-token", "evil.example:3000", b'{"user": "admin"}', 403),
    ("GET", "/local/demo-users", "127.0.0.1.evil.example", b"", 403),
    ("GET", "/local/demo-users", None, b"", 403),
])
def test_demo_sign_in_refusals(method: str, path: str, host: str | None, body: bytes, status: int) -> None:
    answer = demo_signin.answer(method, path, host, body, KEY)
    assert answer is not None and answer[0] == status and "token" not in json.loads(answer[2])


def test_demo_sign_in_leaves_every_other_path_to_the_api() -> None:
    for path in ("/", "/local", "/local/demo-users/x", "/api/v1/tasks", "/local/events"):
        assert demo_signin.answer("GET", path, "127.0.0.1", b"", KEY) is None
    assert all(not r.path.startswith("/local/") for r in ROUTES)  # local only: never deployed


@pytest.mark.usefixtures("moto_table")
def test_demo_data_has_processmaker_assignees_and_a_task_from_an_activity() -> None:
    from baton.assignees import AssigneeService
    from baton.domain import Caller
    from baton.store import get_store

    store = get_store()
    assert demo.load(store) and not demo.load(store)
    admin = Caller(user_id="admin", username="admin", tenant=demo.TENANT, roles=frozenset({"admin"}))
    review = AssigneeService(store, admin, demo.TENANT, "onboarding", "review").assigned()
    assert {(a.uid, a.kind) for a in review} == {("ops", "group"), ("carol", "user")}
    provision = AssigneeService(store, admin, demo.TENANT, "onboarding", "provision").assigned()
    assert {(a.uid, a.kind) for a in provision} == {("eng", "group")}
    from baton.service import TaskService

    task = TaskService(store, admin).get("task-6")
    assert task.candidateGroups == ["ops"] and task.candidateUsers == ["carol"]
