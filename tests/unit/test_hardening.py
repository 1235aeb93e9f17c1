"""No input yields a 5xx or a half-written change (issue 12, item 2), probed one case at a time
and then by hypothesis throwing arbitrary bytes at every route's path, query, headers and body
through the handlers, with events shaped as API Gateway delivers them (path decoded)."""

from __future__ import annotations

import base64
import itertools
import json
import re
from typing import Any
from urllib.parse import quote, unquote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from baton.routes import ROUTES, Route, match
from baton.storage.dynamo import get_dynamo
from baton_local.events import LambdaContext, claims_for, http_event
from tests.support import ADMIN, HOSTILE_IDS, TENANT, call, get_task, handlers, history, seed, table_items

pytestmark = pytest.mark.usefixtures("moto_table")


def send(route: Route, path: str, *, body: str | bytes | None = None, headers: dict[str, str] | None = None,
         query: dict[str, str] | None = None, claims: dict[str, Any] | None = None) -> tuple[int, str]:
    b64 = False
    if isinstance(body, bytes):
        raw = body
        try:
            body = raw.decode("utf-8")
        except UnicodeDecodeError:
            body, b64 = base64.b64encode(raw).decode(), True
    event = http_event(route.method, path, route=route, body=body, headers=headers, query=query,
                       claims=claims if claims is not None else (claims_for("root", TENANT, ADMIN)
                                                                  if route.auth else None))
    event["isBase64Encoded"] = b64
    result = handlers()[route.family](event, LambdaContext())
    return int(result["statusCode"]), result.get("body") or ""


def post(path: str, body: str | bytes | None = None, **kw: Any) -> tuple[int, str]:
    route, _ = match("POST", path)
    assert route is not None
    return send(route, path, body=body, **kw)


@pytest.fixture(autouse=True)
def _seeded(moto_table: str) -> None:
    seed()


BODY_ROUTES = ["/operations-manager/tasks/t1/claim", "/api/v1/tasks/t1/action/complete", "/api/v1/tasks",
               "/workspaces/secure/api/v1/txn/assign", "/api/v1/tasks/t1/action/reassign"]


BAD_BODIES = ["[" * 1500 + "]" * 1500, '{"name": ' + "[" * 1500 + "]" * 1500 + "}", '{"a":' * 1200 + "1" + "}" * 1200,
              '{"name": "x", "id": ' + "9" * 5000 + "}", "9" * 5000, "null", "true", "0", '"text"', "[]", "[{}]"]


def test_bodies_that_break_parsers_are_400_and_write_nothing() -> None:
    before = table_items()
    for path in BODY_ROUTES:
        for body in BAD_BODIES:
            status, text = post(path, body)
            assert 400 <= status < 500, (path, body[:20], status, text)
    assert table_items() == before


def test_if_match_takes_ascii_digits_only() -> None:
    for value in ["\xb2", "1\xb2", "\u0663", "\uff11", "1_0", "-1", "1" * 19, "1.0", "\x00"]:
        status, text = post("/api/v1/tasks/t1/action/complete", headers={"If-Match": value})
        assert (status, json.loads(text)["code"]) == (400, "invalidRequest"), text
    assert get_task("t1").body["status"] == "open"


def _cursor(key: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode()


CURSORS = [
    ("/api/v1/tasks/t1/history", {"pk": {"S": f"T#{TENANT}#TASK#t1"}}),  # no sort key
    ("/api/v1/tasks/t1/history", {"pk": {"S": f"T#{TENANT}#TASK#t1"}, "sk": {"S": "TASK"}}),  # outside H#
    ("/api/v1/tasks/t1/history", {"pk": {"S": f"T#{TENANT}#TASK#t1"}, "sk": {"S": ""}}),
    ("/api/v1/tasks/t1/history", {"pk": {"S": f"T#{TENANT}#TASK#t1"}, "sk": {"S": "H#1"}, "x": {"S": "1"}}),
    ("/api/v1/tasks", {"gsi1pk": {"S": f"T#{TENANT}#TASKS"}}),  # index key without the table's
    ("/api/v1/tasks", {"gsi1pk": {"S": f"T#{TENANT}#TASKS"}, "gsi1sk": {"S": "z"}, "pk": {"S": "x"}}),
    ("/api/v1/users", {"pk": {"S": f"T#{TENANT}#DIR"}, "sk": {"S": "GROUP#ops"}}),  # outside USER#
    ("/api/v1/users", {"pk": {"S": f"T#{TENANT}#DIR"}}),
]


def test_cursors_in_the_own_partition_with_missing_keys_or_out_of_range_are_400() -> None:
    for path, key in CURSORS:
        status, text = send(match("GET", path)[0], path, query={"cursor": _cursor(key)})  # type: ignore[arg-type]
        assert status == 400, (path, key, text)


def test_path_ids_with_odd_characters_are_4xx_in_the_dialect() -> None:
    for char, (method, template) in itertools.product(
            ['"', "\\", "`", "\x00", "\x01", "\n", "\r", "\x7f", "\u2028", "\ufffd"],
            (("GET", "/api/v1/tasks/a{c}b"), ("POST", "/operations-manager/tasks/a{c}b/claim"),
             ("GET", f"/api/1.0/{TENANT}/project/p{{c}}/activity/a/assignee"),
             ("PUT", "/api/v1/users/a{c}b"), ("POST", "/api/v1/tasks/a{c}/action/reassign"))):
        path = template.replace("{c}", char)
        route, _ = match(method, path)
        assert route is not None, path
        body = {"username": "x"} if method == "PUT" else ({"newStepUserIds": ["bob"]} if "reassign" in path
                                                          else None)
        status, text = send(route, path, body=json.dumps(body) if body else None)
        assert status < 500, (path, status, text)


def test_any_id_without_a_slash_is_reachable_by_its_path() -> None:
    """A path parameter reaches its route as API Gateway handed it over, whatever its characters."""
    for task_id in ['a"b', "a\\b", "a`b", "%41", "a%2Fb", "\x01\n", "\u2028★", "é" * 128, "HOST $ ' * (x)"]:
        assert call("POST", "/api/v1/tasks", {"id": task_id, "name": "Odd"}, user="root", roles=ADMIN).status == 201
        got = call("GET", "/api/v1/tasks/" + task_id, user="root", roles=ADMIN)
        assert (got.status, got.body["id"]) == (200, task_id), task_id
        claimed = call("POST", f"/operations-manager/tasks/{task_id}/claim", {}, user="root", roles=ADMIN)
        assert (claimed.status, claimed.body["data"]["_id"]) == (200, task_id), task_id


def test_a_tenant_or_user_over_the_key_size_is_refused() -> None:
    for claims in ({"sub": "root", "custom:tenant": "t" * 3000}, {"sub": "u" * 3000, "custom:tenant": TENANT}):
        status, _ = send(match("GET", "/api/v1/tasks")[0], "/api/v1/tasks",  # type: ignore[arg-type]
                         claims={**claims, "baton:roles": '["admin"]'})
        assert status == 401
    long_id = "é" * 129
    assert call("PUT", f"/api/v1/users/{long_id}", {"username": "x"}, user="root", roles=ADMIN).status == 400
    assert call("GET", f"/api/v1/tasks/{'x' * 3000}").status == 400


def test_null_body_no_longer_claims() -> None:
    assert post("/operations-manager/tasks/t1/claim", "null", claims=claims_for("alice", TENANT, ["operations"]))[0] \
        == 400
    assert get_task("t1").body["assignee"] is None and len(history("t1")) == 1


# ---- the property: arbitrary input anywhere, never a 5xx, nothing written when refused --------

ANY_TEXT = st.text(max_size=300)
SEGMENT = st.one_of(st.text(min_size=1, max_size=200).filter(lambda s: "/" not in s),
                    st.sampled_from(["t1", "t2", "alice", "ops", "prj", "act", TENANT, "x" * 129]))
QUERY_NAMES = st.sampled_from(["limit", "cursor", "filter", "start", "assignee", "candidate", "status", "x"])
BODY = st.one_of(st.none(), st.binary(max_size=300), ANY_TEXT,
                 st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | ANY_TEXT,
                              lambda inner: st.lists(inner, max_size=4) | st.dictionaries(ANY_TEXT, inner, max_size=4),
                              max_leaves=12).map(json.dumps),
                 st.integers(min_value=1, max_value=3000).map(lambda n: "[" * n + "]" * n))


def _fill(route: Route, values: list[str]) -> str:
    it = iter(values)
    return re.sub(r"\{\w+\}", lambda _: next(it), route.path)


WRITES = {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"}


class WriteRecorder:
    """Every write DynamoDB accepted (a refused conditional write changed nothing)."""

    def __init__(self) -> None:
        self.accepted: list[str] = []
        get_dynamo().client.meta.events.register("after-call.dynamodb", self.after)

    def after(self, http_response: Any, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        if model.name in WRITES and http_response.status_code == 200:
            self.accepted.append(model.name)


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(route=st.sampled_from(ROUTES), segments=st.lists(SEGMENT, min_size=5, max_size=5),
       query=st.dictionaries(st.one_of(QUERY_NAMES, ANY_TEXT), ANY_TEXT, max_size=4),
       headers=st.dictionaries(st.one_of(st.sampled_from(["if-match", "content-type"]), ANY_TEXT), ANY_TEXT,
                               max_size=4),
       body=BODY)
def test_arbitrary_input_is_never_a_5xx_and_a_refusal_writes_nothing(
        route: Route, segments: list[str], query: dict[str, str], headers: dict[str, str],
        body: str | bytes | None) -> None:
    path = _fill(route, segments)
    recorder = WriteRecorder()
    status, text = send(route, path, body=body, headers=headers, query=query or None)
    get_dynamo().client.meta.events.unregister("after-call.dynamodb", recorder.after)
    assert status < 500, (route.method, path, status, text)
    if status >= 400:
        assert recorder.accepted == [], (route.method, path, status)


# ---- headers built from ids (item 4) ----------------------------------------------------------

def test_location_is_percent_encoded() -> None:
    for task_id in [*HOSTILE_IDS, "a/b"]:
        r = call("POST", "/api/v1/tasks", {"id": task_id, "name": "Hostile"}, user="root", roles=ADMIN)
        assert r.status == 201, r
        location = r.headers["location"]
        assert location.isascii() and location.isprintable(), location
        assert location == "/api/v1/tasks/" + quote(task_id, safe="")
        assert unquote(location.removeprefix("/api/v1/tasks/")) == task_id
