"""Bad input is a clear 4xx in the route's dialect, never a 5xx, never a partial write."""

from __future__ import annotations

import base64
import json

import pytest

from baton.routes import match
from baton_local.events import LambdaContext, claims_for, http_event
from tests.support import ADMIN, TENANT, call, get_task, handlers, history, seed

pytestmark = pytest.mark.usefixtures("moto_table")

BIG = "x" * (64 * 1024 + 1)
WRITES = [
    ("POST", "/operations-manager/tasks/t1/claim"),
    ("POST", "/operations-manager/tasks/t1/release"),
    ("POST", "/operations-manager/tasks/t1/assign"),
    ("POST", "/api/v1/tasks"),
    ("POST", "/api/v1/tasks/t1/action/complete"),
    ("POST", "/api/v1/tasks/t1/action/abandon"),
    ("PUT", "/api/v1/users/u1"),
    ("PUT", "/api/v1/groups/g1"),
    ("PUT", "/api/v1/projects/p/activities/a"),
]


@pytest.fixture(autouse=True)
def _seeded(moto_table: str) -> None:
    seed()


def _unchanged() -> None:
    task = get_task("t1").body
    assert task["version"] == 1 and task["assignee"] is None
    assert len(history("t1")) == 1
    assert call("GET", "/api/v1/users", query={"filter": "u1"}).body["items"] == []


@pytest.mark.parametrize(("method", "path"), WRITES)
@pytest.mark.parametrize("body", ["{bad json", '{"unexpected": 1}', "[1, 2]", '"text"', "null", "[{}]",
                                  ' [{"userId": "bob"}]'])
def test_bad_bodies_are_400(method: str, path: str, body: str) -> None:
    r = call(method, path, body, user="root", roles=ADMIN)
    assert r.status == 400, r  # `null` too: a body is an object or nothing (issue 12)
    assert r.body["message"]
    if path.startswith("/operations-manager") or path.startswith("/api/v1/tasks/t1"):
        _unchanged()


@pytest.mark.parametrize(("method", "path"), WRITES)
def test_oversized_bodies_are_413(method: str, path: str) -> None:
    r = call(method, path, {"name": BIG}, user="root", roles=ADMIN)
    assert r.status == 413, r
    _unchanged()


@pytest.mark.parametrize(("path", "body"), [
    ("/api/v1/tasks", {"name": 5}),
    ("/api/v1/tasks", {"name": "x", "type": "robotic"}),
    ("/api/v1/tasks", {"name": "x", "candidateUsers": "alice"}),
    ("/api/v1/tasks", {"name": "x", "policy": {"allowReassignment": "maybe"}}),
    ("/api/v1/tasks", {"name": "x", "policy": {"requireReassignmentReason": 0}}),  # no coercion to bool
    ("/api/v1/tasks", {"name": "x", "policy": {"allowReassignment": "true"}}),
    ("/api/v1/tasks", {"name": "x", "id": ""}),
    ("/api/v1/tasks", {"name": "x", "id": "i" * 129}),
    ("/api/v1/tasks", {"name": ""}),
    ("/operations-manager/tasks/t1/assign", {"userId": ["bob"]}),
    ("/operations-manager/tasks/t1/assign", {"userId": ""}),
])
def test_wrong_types_are_400(path: str, body: dict[str, object]) -> None:
    r = call("POST", path, body, user="root", roles=ADMIN)
    assert r.status == 400, r
    assert "i" * 129 not in r.body["message"]  # errors never echo the input
    _unchanged()


def test_numbers_are_not_booleans_in_the_directory() -> None:
    r = call("PUT", "/api/v1/users/u1", {"username": "u1", "active": 0}, user="root", roles=ADMIN)
    assert r.status == 400, r
    _unchanged()


@pytest.mark.parametrize(("method", "path"), WRITES)
@pytest.mark.parametrize("raw", [b"\x04\xe9\\ec\xff", b"{\"name\": \"\xdc\"}", b"not base64 at all!"])
def test_bodies_that_are_not_utf8_are_400(method: str, path: str, raw: bytes) -> None:
    """The local server and API Gateway hand a binary body on base64-encoded."""
    route, _ = match(method, path)
    assert route is not None
    body = raw.decode() if raw.startswith(b"not") else base64.b64encode(raw).decode()
    event = http_event(method, path, route=route, body=body, claims=claims_for("root", TENANT, ADMIN))
    event["isBase64Encoded"] = True
    result = handlers()[route.family](event, LambdaContext())
    assert result["statusCode"] == 400, result
    assert "Invalid request" in json.loads(result["body"])["message"]
    _unchanged()


def test_base64_utf8_json_is_accepted() -> None:
    route, _ = match("POST", "/api/v1/tasks")
    body = base64.b64encode(json.dumps({"id": "b64", "name": "é"}).encode()).decode()
    event = http_event("POST", "/api/v1/tasks", route=route, body=body, claims=claims_for("root", TENANT, ADMIN))
    event["isBase64Encoded"] = True
    assert handlers()["tasks"](event, LambdaContext())["statusCode"] == 201
    assert get_task("b64").body["name"] == "é"


def test_long_ids_in_the_path_are_400() -> None:
    long_id = "t" * 129
    assert call("POST", f"/operations-manager/tasks/{long_id}/claim").status == 400
    assert call("GET", f"/api/v1/tasks/{long_id}").status == 400
    r = call("PUT", f"/api/v1/users/{long_id}", {"username": "x"}, user="root", roles=ADMIN)
    assert r.status == 400


def test_ids_with_key_separators_stay_apart() -> None:
    for tid in ("a#b", "a%23b", "a"):
        r = call("POST", "/api/v1/tasks", {"id": tid, "name": tid}, user="root", roles=ADMIN)
        assert r.status == 201, (tid, r)
    assert get_task("a%23b").body["name"] == "a%23b"


def test_unknown_group_member_is_400_and_writes_nothing() -> None:
    r = call("PUT", "/api/v1/groups/g1", {"name": "G", "members": ["alice", "ghost"]}, user="root", roles=ADMIN)
    assert r.status == 400 and "ghost" in r.body["message"]
    r = call("PUT", "/api/v1/groups/g1", {"name": "G", "members": ["alice"]}, user="root", roles=ADMIN)
    assert r.status == 201


def test_missing_claims_are_401() -> None:
    route, _ = match("GET", "/api/v1/tasks/t1")
    for claims in (None, {"sub": "alice"}, {"custom:tenant": TENANT}, {"sub": "", "custom:tenant": TENANT}):
        event = http_event("GET", "/api/v1/tasks/t1", route=route, claims=claims)
        result = handlers()["tasks"](event, LambdaContext())
        assert result["statusCode"] == 401
        assert result["body"] == '{"message": "Unauthorized"}'
    event = http_event("GET", "/api/v1/tasks/t1", route=route, claims=claims_for("alice", TENANT, []))
    assert handlers()["tasks"](event, LambdaContext())["statusCode"] == 200
