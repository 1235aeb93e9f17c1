"""The example workflow's human step (infra/workflow.py, docs/workflows.md): a Step Functions task
state (`lambda:invoke.waitForTaskToken`) calls this function with its task token; it creates a
Baton task through Baton's API with `callback: {"stepFunctionsTaskToken": ...}` and returns. The
execution then waits until Baton ends it: SendTaskSuccess when the task is completed (`outcome`,
`variables`, `completedBy`, ...), SendTaskFailure `Baton.TaskAbandoned` when it is abandoned.

It signs in with client credentials at Baton's own `POST /oauth/token` (an app client of the
stack's user pool, registered in Baton's table with its tenant and roles; its secret is read with
DescribeUserPoolClient, or given as BATON_CLIENT_SECRET). The task's id comes from the execution
and the state, so a retried invocation finds the task it created (Baton answers 200). Standard
library only (and the runtime's boto3 for the secret); the token is never logged."""

from __future__ import annotations

import hashlib
import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

_cache: dict[str, Any] = {}


class BatonRefused(Exception):
    """Baton did not create the task (the execution's state fails with this error)."""


def _secret() -> str:
    given = os.environ.get("BATON_CLIENT_SECRET")
    if given:
        return given
    if "secret" not in _cache:
        import boto3

        described = boto3.client("cognito-idp").describe_user_pool_client(
            UserPoolId=os.environ["USER_POOL_ID"], ClientId=os.environ["BATON_CLIENT_ID"])
        _cache["secret"] = described["UserPoolClient"]["ClientSecret"]
    return str(_cache["secret"])


def _request(method: str, path: str, body: bytes | None, headers: dict[str, str]) -> tuple[int, Any]:
    url = os.environ["BATON_API_URL"].rstrip("/") + path
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - the API's https URL
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as err:
        status, raw = err.code, err.read()
    try:
        return status, json.loads(raw or b"null")
    except ValueError:
        return status, raw.decode(errors="replace")


def access_token(refresh: bool = False) -> str:
    cached = _cache.get("token")
    if cached and not refresh and cached[1] > time.time() + 60:
        return str(cached[0])
    form = {"grant_type": "client_credentials", "client_id": os.environ["BATON_CLIENT_ID"], "client_secret": _secret()}
    status, answer = _request("POST", "/oauth/token", urllib.parse.urlencode(form).encode(),
                              {"Content-Type": "application/x-www-form-urlencoded"})
    if status != 200 or not isinstance(answer, dict) or "access_token" not in answer:
        error = f"{answer.get('error')}: {answer.get('error_description')}" if isinstance(answer, dict) else ""
        raise BatonRefused(f"sign-in refused: {status} {error}".strip())
    _cache["token"] = (answer["access_token"], time.time() + int(answer.get("expires_in", 300)))
    return str(answer["access_token"])


def task_id(execution: str, state: str) -> str:
    return "wf-" + hashlib.sha256(f"{execution}/{state}".encode()).hexdigest()[:32]


def lambda_handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """`event`: {"taskToken", "execution", "state", "task": {Baton's create fields: name, candidateGroups, ...}}."""
    fields = dict(event.get("task") or {})
    body = {**fields, "id": fields.get("id") or task_id(str(event["execution"]), str(event.get("state", ""))),
            "callback": {"stepFunctionsTaskToken": event["taskToken"]}}
    data = json.dumps(body).encode()
    for attempt in range(2):
        headers = {"Authorization": f"Bearer {access_token(refresh=attempt > 0)}", "Content-Type": "application/json"}
        status, answer = _request("POST", "/api/v1/tasks", data, headers)
        if status != 401:
            break
    if status not in (200, 201) or not isinstance(answer, dict):
        message = answer.get("message") if isinstance(answer, dict) else None
        raise BatonRefused(f"Baton refused the task: {status} {message or ''}".strip())
    return {"taskId": answer["id"], "created": status == 201}
