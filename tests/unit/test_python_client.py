"""The Python client (clients/python) against the OpenAPI document, without a server: every
request each client method sends (recorded by httpx's MockTransport, every optional argument
given) is an operation of `/openapi.json` (generated from the route table), its path parameters,
query parameters and JSON body valid against that operation's schema; the fields the client
reads from a task and a history event exist in the document. Plus errors, paging and If-Match.
tests/integration/test_python_client.py runs it against `baton serve`."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, unquote

import httpx
import jsonschema
import pytest

from baton_client import (
    OPERATIONS,
    BadRequest,
    BatonClient,
    ClientError,
    Conflict,
    Forbidden,
    HistoryEvent,
    NotFound,
    PreconditionFailed,
    ServerError,
    Task,
    Unauthorized,
)
from baton_functions.docs import openapi_document
from baton_local.demo_signin import TOKEN_PATH

TASK = {"id": "t-1", "name": "Review", "status": "open", "version": 3, "createdAt": "2026-01-01T00:00:00Z",
        "updatedAt": "2026-01-01T00:00:00Z"}
EVENT = {"id": "e-1", "taskId": "t-1", "version": 1, "at": "2026-01-01T00:00:00Z", "actor": "admin",
         "action": "create"}

# Every public method of the client, called with every optional argument it takes.
CALLS: dict[str, Callable[[BatonClient], Any]] = {
    "sign_in_client_credentials": lambda c: c.sign_in_client_credentials("itential-demo", "secret"),
    "sign_in_password": lambda c: c.sign_in_password("workflow", "alice", "pw", client_id="pm", client_secret="s"),
    "sign_in_login": lambda c: c.sign_in_login("alice", "pw"),
    "sign_in_demo": lambda c: c.sign_in_demo("alice"),
    "create_task": lambda c: c.create_task(
        "Review", id="t-1", description="d", type="manual", candidate_users=["alice"], candidate_groups=["ops"],
        policy={"allowReassignment": True, "allowedReassignees": ["bob"], "requireReassignmentReason": False},
        project_id="onboarding", activity_id="review", priority=70, due_date="2026-12-01T00:00:00Z",
        follow_up_date="2026-11-30T00:00:00Z", lease_seconds=300, callback={"stepFunctionsTaskToken": "tok"}),
    "get_task": lambda c: c.get_task("a/b ü"),
    "list_tasks": lambda c: c.list_tasks(assignee="me", candidate="me", status="open", limit=10, cursor="abc"),
    "iter_tasks": lambda c: list(c.iter_tasks(assignee="me", candidate="me", status="open", page_size=10)),
    "history": lambda c: c.history("t-1", limit=10, cursor="abc"),
    "iter_history": lambda c: list(c.iter_history("t-1", page_size=10)),
    "claim": lambda c: c.claim("t-1", lease_seconds=60, if_match=3),
    "claim_next": lambda c: c.claim_next(group_id="ops", lease_seconds=60),
    "release": lambda c: c.release("t-1", if_match='"3"'),
    "heartbeat": lambda c: c.heartbeat("t-1", lease_seconds=60, if_match=Task.from_json(TASK)),
    "complete": lambda c: c.complete("t-1", outcome="approved", variables={"amount": 3}, comment="ok", if_match=3),
    "abandon": lambda c: c.abandon("t-1", comment="no", if_match=3),
}


def answer(request: httpx.Request) -> httpx.Response:
    """What Baton would answer, enough for the client to parse."""
    path = request.url.path
    if path in ("/oauth/token", "/workflow/oauth2/token"):
        return httpx.Response(200, json={"access_token": "tok", "token_type": "Bearer", "expires_in": 3600})
    if path == "/login":
        return httpx.Response(200, text="tok")
    if path == TOKEN_PATH:
        return httpx.Response(200, json={"token": "tok", "tokenType": "Bearer", "expiresIn": 3600})
    if request.method == "GET" and path in ("/api/v1/tasks", "/api/v1/tasks/t-1/history"):
        return httpx.Response(200, json={"items": [TASK if path == "/api/v1/tasks" else EVENT], "cursor": None})
    return httpx.Response(200, json=TASK, headers={"ETag": '"3"'})


def recording() -> tuple[BatonClient, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answer(request)

    return BatonClient("http://baton.test", token="tok", transport=httpx.MockTransport(handler)), seen


def resolve(schema: dict[str, Any], document: dict[str, Any]) -> dict[str, Any]:
    """A schema with its `$ref`s inlined (the document's are local: #/components/schemas/X)."""
    text = json.dumps(schema)
    for _ in range(10):
        refs = set(re.findall(r'\{"\$ref": "#/components/schemas/([^"]+)"\}', text))
        if not refs:
            break
        for name in refs:
            text = text.replace('{"$ref": "#/components/schemas/' + name + '"}',
                                json.dumps(document["components"]["schemas"][name]))
    resolved: dict[str, Any] = json.loads(text)
    return resolved


def object_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """The object branch of a body schema (Powertools writes an optional body as anyOf [X, null])."""
    for branch in schema.get("anyOf", [schema]):
        if branch.get("type") == "object" or "properties" in branch:
            return branch
    return schema


def test_every_public_method_is_checked() -> None:
    public = {name for name in dir(BatonClient) if not name.startswith("_") and callable(getattr(BatonClient, name))}
    assert public - {"close"} == set(CALLS), "add the new method to CALLS, so that its requests are checked"


@pytest.mark.parametrize("method", sorted(CALLS))
def test_each_request_is_an_operation_of_the_openapi_document(method: str) -> None:
    document = openapi_document()
    client, seen = recording()
    CALLS[method](client)
    assert seen, method
    for request in seen:
        name = request.extensions["baton_operation"]
        op = OPERATIONS[name]
        assert request.method == op.method
        pattern = "^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(op.path)) + "$"
        found = re.match(pattern, request.url.raw_path.decode().split("?")[0])
        assert found, (request.url, op.path)
        if op.local_only:  # `baton serve`'s own sign-in, outside the route table and the document
            assert op.path == TOKEN_PATH
            continue
        operation = document["paths"].get(op.path, {}).get(op.method.lower())
        assert operation is not None, f"{op.method} {op.path} is not in /openapi.json"
        parameters = {(p["in"], p["name"]): p for p in operation.get("parameters", [])}
        for param, value in found.groupdict().items():
            assert ("path", param) in parameters, (op.path, param)
            jsonschema.validate(unquote(value), parameters[("path", param)]["schema"])
        for key, value in parse_qsl(request.url.query.decode()):
            assert ("query", key) in parameters, f"{op.path} has no query parameter {key}"
            schema = parameters[("query", key)]["schema"]
            jsonschema.validate(int(value) if "integer" in json.dumps(schema) else value, schema)
        if request.headers.get("Content-Type") == "application/json":
            body = json.loads(request.content)
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" not in content:
                assert op.path in ("/login",), f"{op.path} takes no JSON body in the document"
                continue  # the sign-in routes read their body themselves (form or JSON)
            schema = object_schema(resolve(content["application/json"]["schema"], document))
            assert set(body) <= set(schema.get("properties", {})), f"{op.path}: {set(body)} not all in the schema"
            jsonschema.validate(body, schema)


def test_every_operation_is_used_and_in_the_document() -> None:
    document = openapi_document()
    for name, op in OPERATIONS.items():
        assert op.local_only or op.method.lower() in document["paths"].get(op.path, {}), name
    used = set()
    for call in CALLS.values():
        client, seen = recording()
        call(client)
        used |= {r.extensions["baton_operation"] for r in seen}
    assert used == set(OPERATIONS)


def test_the_fields_the_client_reads_are_in_the_document() -> None:
    document = openapi_document()
    task = document["components"]["schemas"]["TaskOut"]["properties"]
    assert set(Task.WIRE.values()) <= set(task)
    # History items are free-form in the document; they are what baton.tasks.domain.HistoryEvent writes.
    from baton.tasks.domain import HistoryEvent as ServerEvent

    assert set(HistoryEvent.WIRE.values()) == {f.alias or name for name, f in ServerEvent.model_fields.items()}


def test_refusals_are_typed_errors() -> None:
    cases = [(400, BadRequest), (401, Unauthorized), (403, Forbidden), (404, NotFound), (409, Conflict),
             (412, PreconditionFailed), (418, ClientError), (503, ServerError)]
    for status, kind in cases:
        body = {"message": "Task t-1 is held", "code": "alreadyClaimed", "holder": "bob"}
        client = BatonClient("http://baton.test", transport=httpx.MockTransport(
            lambda _, s=status, b=body: httpx.Response(s, json=b)))
        with pytest.raises(kind) as raised:
            client.claim("t-1")
        assert raised.value.status == status and raised.value.code == "alreadyClaimed"
        assert raised.value.holder == "bob" and raised.value.message == "Task t-1 is held"
    oauth = BatonClient("http://baton.test", transport=httpx.MockTransport(
        lambda _: httpx.Response(401, json={"error": "invalid_client", "error_description": "Invalid client"})))
    with pytest.raises(Unauthorized) as refused:
        oauth.sign_in_client_credentials("x", "y")
    assert refused.value.code == "invalid_client" and oauth.token is None


def test_if_match_and_paging() -> None:
    client, seen = recording()
    client.claim("t-1", if_match=7)
    client.release("t-1", if_match=Task.from_json(TASK))
    client.complete("t-1", if_match='W/"2"')
    client.abandon("t-1")
    assert [r.headers.get("If-Match") for r in seen] == ['"7"', '"3"', 'W/"2"', None]
    assert all(r.headers["Authorization"] == "Bearer tok" for r in seen)
    pages = {None: (["a", "b"], "c1"), "c1": (["c"], "c2"), "c2": ([], None)}
    asked: list[str | None] = []

    def lister(request: httpx.Request) -> httpx.Response:
        cursor = request.url.params.get("cursor")
        asked.append(cursor)
        ids, nxt = pages[cursor]
        return httpx.Response(200, json={"items": [{**TASK, "id": i} for i in ids], "cursor": nxt})

    paged = BatonClient("http://baton.test", transport=httpx.MockTransport(lister))
    tasks = paged.iter_tasks(candidate="me", page_size=2)
    assert next(tasks).id == "a" and asked == [None]  # lazily, one page at a time
    assert [t.id for t in tasks] == ["b", "c"] and asked == [None, "c1", "c2"]
    client.token = "s3cret-value"
    assert "s3cret" not in repr(client)
    assert "s3cret" not in repr(BatonClient("http://baton.test", transport=httpx.MockTransport(
        lambda _: httpx.Response(200, json={"token": "s3cret-value"}))).sign_in_demo("alice"))
