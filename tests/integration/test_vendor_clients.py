"""The vendors' own client libraries, unmodified, against `baton serve` over real HTTP on
DynamoDB Local: ConductorOne's SDK (`conductorone-sdk`) and Itential's (`ipsdk`), plus the
ProcessMaker and Itential sign-in flows as their clients send them."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from conductorone_sdk import SDK
from conductorone_sdk.models import errors, shared

from baton_local.ddblocal import DynamoDBLocal
from tests.support.localserver import Server, on_engine, request, token

# one worker runs the module, so its `baton serve` starts once
pytestmark = pytest.mark.xdist_group("vendor_clients")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, ddb_local: DynamoDBLocal) -> Iterator[Server]:
    srv = Server(tmp_path_factory.mktemp("baton-state"), *on_engine(ddb_local)).start()
    yield srv
    srv.stop()


def admin(server: Server) -> str:
    return token(server.state, "admin", "admin")


def new_task(server: Server, **fields: Any) -> str:
    task_id = f"c-{uuid.uuid4().hex[:8]}"
    status, body = request(server.base, "POST", "/api/v1/tasks", admin(server),
                           {"id": task_id, "name": f"Task {task_id}", **fields})
    assert status == 201, body
    return task_id


# ---- ConductorOne ----------------------------------------------------------------------------

def c1_client(server: Server, user: str, roles: str = "operations") -> SDK:
    tok = token(server.state, user, roles)
    return SDK(security=shared.Security(bearer_auth=tok, oauth=tok), server_url=server.base)


def test_conductorone_sdk_reassign_parses_into_its_models(server: Server) -> None:
    task_id = new_task(server, candidateUsers=["alice", "bob"],
                       policy={"allowedReassignees": ["bob", "carol"], "requireReassignmentReason": True})
    alice = c1_client(server, "alice")
    request(server.base, "POST", f"/operations-manager/tasks/{task_id}/claim", token(server.state, "alice",
                                                                                      "operations"))
    res = alice.task_actions.reassign(request={
        "task_id": task_id,
        "task_actions_service_reassign_request": {"comment": "over to you", "new_step_user_ids": ["bob"],
                                                  "task_expand_mask": {"paths": ["*"]}}})
    assert res.status_code == 200 and res.raw_response.headers["ETag"] == '"3"'
    out = res.task_actions_service_reassign_response
    assert out is not None and out.task_view is not None and out.task_view.task is not None
    task = out.task_view.task
    assert task.id == task_id and task.display_name == f"Task {task_id}"
    assert task.state == shared.TaskState.TASK_STATE_OPEN
    assert isinstance(task.task_type, shared.TaskType)
    assert task.step_approver_ids == ["bob"]
    assert task.created_by_user_id == "admin"
    assert task.created_at is not None and task.updated_at is not None
    policy = task.policy_instance
    assert policy is not None and policy.policy_step_instance is not None
    approval = policy.policy_step_instance.approval_instance
    assert isinstance(approval, shared.ApprovalInstance) and isinstance(approval.approval, shared.Approval)
    assert approval.approval.allow_reassignment is True
    assert approval.approval.allowed_reassignees == ["bob", "carol"]
    assert approval.approval.require_reassignment_reason is True
    assert out.ticket_action_id
    assert out.expanded and out.expanded[0].at_type == "type.googleapis.com/c1.api.user.v1.User"
    assert out.expanded[0].additional_properties["id"] == "bob"
    assert out.task_view.step_approvers_path == "$.expanded[*]"

    # several users: offered to them, nobody holds it
    bob = c1_client(server, "bob")
    res = bob.task_actions.reassign(request={
        "task_id": task_id, "task_actions_service_reassign_request": {
            "comment": "either of you", "new_step_user_ids": ["bob", "carol"]}})
    out = res.task_actions_service_reassign_response
    assert out is not None and out.task_view is not None and out.task_view.task is not None
    assert out.task_view.task.step_approver_ids == ["bob", "carol"]
    assert res.raw_response.json()["taskView"]["task"]["assignee"] is None


@pytest.mark.parametrize(("verb", "outcome"), [("approve", "approved"), ("deny", "denied")])
def test_conductorone_sdk_approve_and_deny_complete_with_an_outcome(server: Server, verb: str, outcome: str) -> None:
    task_id = new_task(server, candidateUsers=["alice"])
    request(server.base, "POST", f"/operations-manager/tasks/{task_id}/claim", token(server.state, "alice",
                                                                                      "operations"))
    alice = c1_client(server, "alice")
    if verb == "approve":
        res: Any = alice.task_actions.approve(request={
            "task_id": task_id, "task_actions_service_approve_request": {"policy_step_id": "step", "comment": "ok"}})
        out: Any = res.task_actions_service_approve_response
    else:
        res = alice.task_actions.deny(request={
            "task_id": task_id, "task_actions_service_deny_request": {"policy_step_id": "step", "comment": "no"}})
        out = res.task_actions_service_deny_response
    assert res.status_code == 200 and out is not None and out.ticket_action_id
    assert out.task_view is not None and out.task_view.task is not None
    assert out.task_view.task.state == shared.TaskState.TASK_STATE_CLOSED
    status, task = request(server.base, "GET", f"/api/v1/tasks/{task_id}", admin(server))
    assert status == 200 and task["outcome"] == outcome and task["completedBy"] == "alice"
    with pytest.raises(errors.SDKError) as refused:  # finished: the SDK's error, in the gRPC-gateway shape
        alice.task_actions.approve(request={"task_id": task_id,
                                            "task_actions_service_approve_request": {"policy_step_id": "step"}})
    assert refused.value.status_code == 400 and json.loads(refused.value.body)["code"] == 9


def test_conductorone_sdk_task_get_gives_a_task_view(server: Server) -> None:
    task_id = new_task(server, candidateUsers=["alice"])
    res = c1_client(server, "alice").task.get(request={"id": task_id})
    assert res.status_code == 200 and res.raw_response.headers["ETag"] == '"1"'
    out = res.task_service_get_response
    assert out is not None and out.task_view is not None and out.task_view.task is not None
    task = out.task_view.task
    assert (task.id, task.display_name, task.step_approver_ids) == (task_id, f"Task {task_id}", ["alice"])
    assert task.state == shared.TaskState.TASK_STATE_OPEN
    # and the native fields are still there for Baton's own clients
    native = res.raw_response.json()
    assert native["id"] == task_id and native["type"] == "manual" and native["version"] == 1


@pytest.mark.parametrize(("case", "status", "code"), [
    ("unknown task", 404, 5), ("no reason", 400, 3), ("not allowed", 403, 7), ("finished", 400, 9)])
def test_conductorone_sdk_errors_carry_the_grpc_code(server: Server, case: str, status: int, code: int) -> None:
    task_id = new_task(server, candidateUsers=["alice"],
                       policy={"requireReassignmentReason": True, "allowReassignment": case != "not allowed"})
    alice_token = token(server.state, "alice", "operations")
    request(server.base, "POST", f"/operations-manager/tasks/{task_id}/claim", alice_token)
    if case == "finished":
        request(server.base, "POST", f"/api/v1/tasks/{task_id}/action/complete", alice_token)
    body: dict[str, Any] = {"new_step_user_ids": ["bob"]}
    if case != "no reason":
        body["comment"] = "why not"
    with pytest.raises(errors.SDKError) as raised:
        c1_client(server, "alice").task_actions.reassign(request={  # type: ignore[arg-type]
            "task_id": "nope" if case == "unknown task" else task_id,
            "task_actions_service_reassign_request": body})
    assert raised.value.status_code == status
    answer = json.loads(raised.value.body)
    assert answer["code"] == code and answer["message"] and answer["details"] == []


# ---- Itential --------------------------------------------------------------------------------

def demo_secret(server: Server, name: str) -> str:
    from baton_local import credentials

    return credentials.demo_secret(credentials.seed(server.state), name)


def test_banner_prints_the_demo_sign_ins(server: Server) -> None:
    text = "".join(server.banner)
    assert f"alice/{demo_secret(server, 'alice')}" in text
    assert f"itential-demo:{demo_secret(server, 'itential-demo')}" in text
    stored = (server.state / "credentials.json").read_text()
    assert demo_secret(server, "alice") not in stored  # hashes only
    assert oct((server.state / "credentials.json").stat().st_mode & 0o777) == "0o600"


def itential(server: Server, client_id: str = "itential-demo", secret: str | None = None) -> Any:
    import ipsdk

    return ipsdk.platform_factory(host="127.0.0.1", port=server.port, use_tls=False, client_id=client_id,
                                  client_secret=secret if secret is not None else demo_secret(server, client_id))


def test_ipsdk_signs_in_with_client_credentials_then_claims_releases_and_assigns(server: Server) -> None:
    task_id = new_task(server, candidateUsers=["itential-demo", "bob"])
    platform = itential(server)
    res = platform.post(f"/operations-manager/tasks/{task_id}/claim")
    assert res.status_code == 200 and res.headers["ETag"] == '"2"'
    data = res.json()["data"]
    assert data["_id"] == task_id and data["metrics"]["user"] == "itential-demo" and data["status"] == "running"
    res = platform.post(f"/operations-manager/tasks/{task_id}/release", json={})
    assert res.status_code == 200 and res.json()["data"]["metrics"]["user"] == ""
    platform.post(f"/operations-manager/tasks/{task_id}/claim")
    res = platform.post(f"/operations-manager/tasks/{task_id}/assign", json={"userId": "bob"})  # passes it on
    assert res.status_code == 200 and res.json()["data"]["metrics"]["user"] == "bob"
    assert res.headers["ETag"] == '"5"'


def test_ipsdk_errors_and_wrong_client_credentials(server: Server) -> None:
    import ipsdk.exceptions

    with pytest.raises(ipsdk.exceptions.HTTPStatusError) as raised:
        itential(server, secret="wrong").post("/operations-manager/tasks/task-1/claim")
    assert raised.value.response.status_code == 401
    assert raised.value.response.json()["error"] == "invalid_client"
    with pytest.raises(ipsdk.exceptions.HTTPStatusError) as raised:
        itential(server).post("/operations-manager/tasks/no-such-task/claim")
    assert raised.value.response.status_code == 404 and raised.value.response.json()["message"]


def form_post(server: Server, path: str, fields: dict[str, str], headers: dict[str, str] | None = None
              ) -> tuple[int, Any, dict[str, str]]:
    import urllib.error
    import urllib.parse
    import urllib.request

    req = urllib.request.Request(server.base + path, data=urllib.parse.urlencode(fields).encode(), method="POST",
                                 headers={"Content-Type": "application/x-www-form-urlencoded", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read()), dict(resp.headers)
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read()), dict(err.headers)


def test_login_answers_a_token_as_text_for_username_and_password(server: Server) -> None:
    import urllib.request

    body = json.dumps({"user": {"username": "bob", "password": demo_secret(server, "bob")}}).encode()
    req = urllib.request.Request(server.base + "/login", data=body, method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/plain")
        tok = resp.read().decode()
    status, task = request(server.base, "GET", "/api/v1/tasks/task-1", tok)
    assert status == 200 and task["id"] == "task-1"
    status, answer = request(server.base, "POST", "/login", None,
                             {"user": {"username": "bob", "password": "nope"}})
    assert status == 401 and answer["message"]


# ---- ProcessMaker sign-in --------------------------------------------------------------------

def pm_fields(server: Server, user: str = "admin", password: str | None = None) -> dict[str, str]:
    return {"grant_type": "password", "client_id": "processmaker-demo",
            "client_secret": demo_secret(server, "processmaker-demo"), "username": user,
            "password": password if password is not None else demo_secret(server, user)}


def test_processmaker_password_grant_form_and_json(server: Server) -> None:
    status, body, headers = form_post(server, "/workflow/oauth2/token", pm_fields(server))
    assert status == 200 and body["token_type"] == "bearer" and body["expires_in"] > 0
    assert headers["Cache-Control"] == "no-store"
    status, page = request(server.base, "GET", "/api/1.0/workflow/project/onboarding/activity/review/assignee/paged",
                           body["access_token"])
    assert status == 200 and "data" in page
    status, body = request(server.base, "POST", "/workflow/oauth2/token", None, pm_fields(server, "carol"))
    assert status == 200 and body["access_token"]


@pytest.mark.parametrize("change", ["password", "client_secret", "client_id", "workspace", "username"])
def test_processmaker_wrong_credentials_are_401_and_no_token_for_another_tenant(server: Server, change: str) -> None:
    fields = pm_fields(server)
    path = "/workflow/oauth2/token"
    if change == "workspace":
        path = "/other/oauth2/token"  # right credentials, another tenant's workspace
    else:
        fields[change] = "wrong"
    status, body, _ = form_post(server, path, fields)
    assert status == 401 and body["error"] in ("invalid_grant", "invalid_client") and "access_token" not in body


def test_sign_in_requests_that_are_not_a_grant_are_400(server: Server) -> None:
    status, body, _ = form_post(server, "/workflow/oauth2/token", {**pm_fields(server), "grant_type": "implicit"})
    assert status == 400 and body["error"] == "unsupported_grant_type"
    status, body, _ = form_post(server, "/oauth/token", {"grant_type": "client_credentials"})
    assert status == 400 and body["error"] == "invalid_request"
    status, body = request(server.base, "POST", "/login", None, {"user": "bob"})
    assert status == 400


def test_credentials_added_with_the_cli_sign_in_to_their_own_tenant_only(server: Server) -> None:
    import subprocess

    from tests.support.localserver import BATON

    subprocess.run([BATON, "credentials", "user", "olga", "--secret", "pw-olga-1", "--tenant", "other",
                    "--roles", "PM_FACTORY", "--state-dir", str(server.state)], check=True, capture_output=True)
    fields = {**pm_fields(server), "username": "olga", "password": "pw-olga-1"}
    status, body, _ = form_post(server, "/workflow/oauth2/token", fields)
    assert status == 401 and "access_token" not in body  # right password, another tenant's workspace
    status, body, _ = form_post(server, "/other/oauth2/token", fields)
    assert status == 200
    status, answer = request(server.base, "GET", "/api/v1/tasks/task-1", body["access_token"])
    assert status == 404  # a token of tenant `other` sees nothing of `workflow`


def test_ipsdk_password_mode_signs_in_but_relies_on_a_session_cookie(server: Server) -> None:
    """ipsdk's username/password mode posts to /login and then expects Itential's session cookie;
    Baton's authorizer reads the Authorization header only (docs/clients.md)."""
    import ipsdk
    import ipsdk.exceptions

    platform = ipsdk.platform_factory(host="127.0.0.1", port=server.port, use_tls=False, user="bob",
                                      password=demo_secret(server, "bob"))
    with pytest.raises(ipsdk.exceptions.HTTPStatusError) as raised:
        platform.get("/api/v1/tasks/task-1")
    assert raised.value.response.status_code == 401  # /login itself answered 200 (no error raised there)


# ---- absence (issue 27): work given to an absent user reaches who stands in, through each SDK ----

def test_the_vendor_sdks_give_an_absent_users_work_to_who_stands_in(server: Server) -> None:
    from datetime import UTC, datetime, timedelta

    now = datetime.now(UTC)
    bob_token = token(server.state, "bob", "operations")
    status, body = request(server.base, "PUT", "/api/v1/users/bob/absence", bob_token, {
        "from": (now - timedelta(hours=1)).isoformat(), "until": (now + timedelta(hours=1)).isoformat(),
        "delegateTo": "dave"})
    assert status == 200, body
    try:
        task_id = new_task(server, candidateUsers=["alice", "bob"])
        request(server.base, "POST", f"/operations-manager/tasks/{task_id}/claim", token(server.state, "alice",
                                                                                          "operations"))
        res = c1_client(server, "alice").task_actions.reassign(request={
            "task_id": task_id, "task_actions_service_reassign_request": {"new_step_user_ids": ["bob"]}})
        out = res.task_actions_service_reassign_response
        assert res.status_code == 200 and out is not None and out.task_view is not None
        assert out.task_view.task is not None and out.task_view.task.step_approver_ids == ["dave"]
        status, history = request(server.base, "GET", f"/api/v1/tasks/{task_id}/history", admin(server))
        last = history["items"][-1]
        assert (last["to"], last["onBehalfOf"], last["reason"]) == ("dave", "bob", "absence:redirect"), last

        other = new_task(server, candidateUsers=["itential-demo", "bob"])
        platform = itential(server)
        platform.post(f"/operations-manager/tasks/{other}/claim")
        res = platform.post(f"/operations-manager/tasks/{other}/assign", json={"userId": "bob"})
        assert res.status_code == 200 and res.json()["data"]["metrics"]["user"] == "dave"
    finally:
        status, body = request(server.base, "DELETE", "/api/v1/users/bob/absence", bob_token)
        assert status == 200, body
