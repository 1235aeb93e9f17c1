"""`BatonClient`: Baton's native API over httpx, one method per operation.

Each method goes through `OPERATIONS` (its method and path template as the OpenAPI document names
them); a unit test records every request the methods send and checks it against `/openapi.json`
(tests/unit/test_python_client.py), so the two cannot drift apart unnoticed."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeVar
from urllib.parse import quote

import httpx

from baton_client.errors import BatonError, error_for
from baton_client.models import HistoryEvent, Page, Task, Token

T = TypeVar("T")
Version = int | str | Task  # what `if_match` takes: a version, an ETag, or the task as last read


@dataclass(frozen=True)
class Operation:
    method: str
    path: str  # the OpenAPI path template
    local_only: bool = False  # served by `baton serve` only (not in the route table, never deployed)


OPERATIONS: dict[str, Operation] = {
    "client_credentials": Operation("POST", "/oauth/token"),
    "login": Operation("POST", "/login"),
    "password": Operation("POST", "/{workspace}/oauth2/token"),
    "demo_token": Operation("POST", "/local/demo-token", local_only=True),
    "create_task": Operation("POST", "/api/v1/tasks"),
    "list_tasks": Operation("GET", "/api/v1/tasks"),
    "claim_next": Operation("POST", "/api/v1/tasks/claim-next"),
    "get_task": Operation("GET", "/api/v1/tasks/{taskId}"),
    "history": Operation("GET", "/api/v1/tasks/{taskId}/history"),
    "claim": Operation("POST", "/api/v1/tasks/{taskId}/action/claim"),
    "release": Operation("POST", "/api/v1/tasks/{taskId}/action/release"),
    "heartbeat": Operation("POST", "/api/v1/tasks/{taskId}/action/heartbeat"),
    "complete": Operation("POST", "/api/v1/tasks/{taskId}/action/complete"),
    "abandon": Operation("POST", "/api/v1/tasks/{taskId}/action/abandon"),
}


def _version(value: Version) -> str:
    if isinstance(value, Task):
        return value.etag
    if isinstance(value, int):
        return f'"{value}"'
    return value if value.startswith(('"', "W/")) else f'"{value}"'


def _fields(**values: Any) -> dict[str, Any]:
    """The JSON fields given (None: not sent, so Baton applies its default)."""
    return {name: value for name, value in values.items() if value is not None}


class BatonClient:
    """A client for one Baton deployment (`base_url`: the API's URL, or `baton serve`'s).

    Sign in with a bearer token (`token=`), or with one of the sign-in methods, which keep the token
    they get. Refusals raise the typed errors of `baton_client.errors` (412 is `PreconditionFailed`)."""

    def __init__(self, base_url: str, *, token: str | None = None, timeout: float = 30.0,
                 transport: httpx.BaseTransport | None = None, headers: Mapping[str, str] | None = None) -> None:
        self._http = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout, transport=transport,
                                  headers={"Accept": "application/json", **(headers or {})})
        self.token = token

    def __repr__(self) -> str:  # never the token
        return f"BatonClient({str(self._http.base_url)!r}, signed_in={self.token is not None})"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> BatonClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # ---- the one place a request is sent ------------------------------------------------------------
    def _send(self, operation: str, path_params: Mapping[str, str] | None = None, *, json_body: Any = None,
              form: Mapping[str, str] | None = None, params: Mapping[str, Any] | None = None,
              if_match: Version | None = None, auth: bool = True) -> httpx.Response:
        op = OPERATIONS[operation]
        path = op.path
        for name, value in (path_params or {}).items():
            path = path.replace("{" + name + "}", quote(value, safe=""))
        headers: dict[str, str] = {}
        if auth and self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if if_match is not None:
            headers["If-Match"] = _version(if_match)
        content: bytes | None = None
        if json_body is not None:
            content = json.dumps(json_body).encode()
            headers["Content-Type"] = "application/json"
        response = self._http.request(
            op.method, path, content=content, data=dict(form) if form is not None else None,
            params={k: v for k, v in (params or {}).items() if v is not None} or None, headers=headers,
            extensions={"baton_operation": operation})
        if response.status_code >= 400:
            raise error_for(response.status_code, _body(response), response.reason_phrase or "error")
        return response

    def _task(self, response: httpx.Response) -> Task:
        return Task.from_json(response.json())

    # ---- sign-in ------------------------------------------------------------------------------------
    def _keep(self, token: Token) -> Token:
        self.token = token.access_token
        return token

    def sign_in_client_credentials(self, client_id: str, client_secret: str) -> Token:
        """OAuth client credentials (`POST /oauth/token`, as Itential's clients sign in)."""
        response = self._send("client_credentials", form={"grant_type": "client_credentials", "client_id": client_id,
                                                          "client_secret": client_secret}, auth=False)
        return self._keep(_oauth_token(response))

    def sign_in_password(self, workspace: str, username: str, password: str, *, client_id: str,
                         client_secret: str) -> Token:
        """OAuth password grant for a user of the tenant `workspace` (`POST /{workspace}/oauth2/token`)."""
        response = self._send("password", {"workspace": workspace}, auth=False, form={
            "grant_type": "password", "client_id": client_id, "client_secret": client_secret,
            "username": username, "password": password})
        return self._keep(_oauth_token(response))

    def sign_in_login(self, username: str, password: str) -> Token:
        """Username and password (`POST /login`, Itential's), which answers the token as text."""
        response = self._send("login", json_body={"user": {"username": username, "password": password}}, auth=False)
        return self._keep(Token(access_token=response.text.strip()))

    def sign_in_demo(self, user: str) -> Token:
        """`baton serve` only: a demo user's token (`POST /local/demo-token`, loopback only)."""
        body = self._send("demo_token", json_body={"user": user}, auth=False).json()
        return self._keep(Token(access_token=body["token"], token_type=body.get("tokenType", "Bearer"),
                                expires_in=body.get("expiresIn")))

    # ---- tasks --------------------------------------------------------------------------------------
    def create_task(self, name: str, *, id: str | None = None, description: str | None = None,  # noqa: A002
                    type: Literal["manual", "automatic"] | None = None,  # noqa: A002
                    candidate_users: list[str] | None = None, candidate_groups: list[str] | None = None,
                    policy: Mapping[str, Any] | None = None, project_id: str | None = None,
                    activity_id: str | None = None, priority: int | None = None, due_date: str | None = None,
                    follow_up_date: str | None = None, lease_seconds: int | None = None,
                    callback: Mapping[str, Any] | None = None) -> Task:
        """Create a task (201), or get the one an identical earlier request with the same `id` made
        (200). `callback` (`{"stepFunctionsTaskToken": ...}`) asks Baton to end a waiting Step
        Functions execution when the task ends (docs/workflows.md); sent only when given."""
        body = _fields(id=id, name=name, description=description, type=type, candidateUsers=candidate_users,
                       candidateGroups=candidate_groups, policy=dict(policy) if policy is not None else None,
                       projectId=project_id, activityId=activity_id, priority=priority, dueDate=due_date,
                       followUpDate=follow_up_date, leaseSeconds=lease_seconds,
                       callback=dict(callback) if callback is not None else None)
        return self._task(self._send("create_task", json_body=body))

    def get_task(self, task_id: str) -> Task:
        return self._task(self._send("get_task", {"taskId": task_id}))

    def list_tasks(self, *, assignee: str | None = None, candidate: Literal["me"] | None = None,
                   status: Literal["open", "completed", "abandoned"] | None = None, limit: int | None = None,
                   cursor: str | None = None) -> Page[Task]:
        """One page: `assignee="me"` is my inbox, `candidate="me"` my queue (both in queue order)."""
        body = self._send("list_tasks", params={"assignee": assignee, "candidate": candidate, "status": status,
                                                "limit": limit, "cursor": cursor}).json()
        return Page([Task.from_json(t) for t in body.get("items", [])], body.get("cursor"))

    def iter_tasks(self, *, assignee: str | None = None, candidate: Literal["me"] | None = None,
                   status: Literal["open", "completed", "abandoned"] | None = None,
                   page_size: int | None = None) -> Iterator[Task]:
        """Every task of the listing, page after page (one request per page, as they are consumed)."""
        return _pages(lambda cursor: self.list_tasks(assignee=assignee, candidate=candidate, status=status,
                                                     limit=page_size, cursor=cursor))

    def history(self, task_id: str, *, limit: int | None = None, cursor: str | None = None) -> Page[HistoryEvent]:
        """One page of a task's history, oldest first."""
        body = self._send("history", {"taskId": task_id}, params={"limit": limit, "cursor": cursor}).json()
        return Page([HistoryEvent.from_json(e) for e in body.get("items", [])], body.get("cursor"))

    def iter_history(self, task_id: str, *, page_size: int | None = None) -> Iterator[HistoryEvent]:
        return _pages(lambda cursor: self.history(task_id, limit=page_size, cursor=cursor))

    def claim(self, task_id: str, *, lease_seconds: int | None = None, if_match: Version | None = None) -> Task:
        return self._task(self._send("claim", {"taskId": task_id}, json_body=_fields(leaseSeconds=lease_seconds),
                                     if_match=if_match))

    def claim_next(self, *, group_id: str | None = None, lease_seconds: int | None = None) -> Task | None:
        """The first task of my queue (or of group `group_id`'s), claimed; None when it is empty (204)."""
        response = self._send("claim_next", json_body=_fields(groupId=group_id, leaseSeconds=lease_seconds))
        return None if response.status_code == 204 else self._task(response)

    def release(self, task_id: str, *, if_match: Version | None = None) -> Task:
        return self._task(self._send("release", {"taskId": task_id}, json_body={}, if_match=if_match))

    def heartbeat(self, task_id: str, *, lease_seconds: int | None = None, if_match: Version | None = None) -> Task:
        """Extend my lease on a task I hold."""
        return self._task(self._send("heartbeat", {"taskId": task_id}, json_body=_fields(leaseSeconds=lease_seconds),
                                     if_match=if_match))

    def complete(self, task_id: str, *, outcome: str | None = None, variables: Mapping[str, Any] | None = None,
                 comment: str | None = None, if_match: Version | None = None) -> Task:
        """Complete a task I hold; `outcome` (1-64 characters, e.g. "approved") and `variables` (a JSON
        object) say how it ended and are sent only when given."""
        body = _fields(outcome=outcome, variables=dict(variables) if variables is not None else None, comment=comment)
        return self._task(self._send("complete", {"taskId": task_id}, json_body=body, if_match=if_match))

    def abandon(self, task_id: str, *, comment: str | None = None, if_match: Version | None = None) -> Task:
        return self._task(self._send("abandon", {"taskId": task_id}, json_body=_fields(comment=comment),
                                     if_match=if_match))


def _pages(fetch: Callable[[str | None], Page[T]]) -> Iterator[T]:
    cursor: str | None = None
    while True:
        page = fetch(cursor)
        yield from page.items
        if not page.cursor:
            return
        cursor = page.cursor


def _body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text


def _oauth_token(response: httpx.Response) -> Token:
    body = response.json()
    if not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
        raise BatonError(response.status_code, "the sign-in answer holds no access_token", body=body)
    return Token(access_token=body["access_token"], token_type=str(body.get("token_type", "Bearer")),
                 expires_in=body.get("expires_in"))
