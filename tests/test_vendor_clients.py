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

from tests.localserver import Server, request, token


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = Server(tmp_path_factory.mktemp("baton-state")).start()
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
    assert approval is not None and approval.approval is not None
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
        c1_client(server, "alice").task_actions.reassign(request={
            "task_id": "nope" if case == "unknown task" else task_id,
            "task_actions_service_reassign_request": body})
    assert raised.value.status_code == status
    answer = json.loads(raised.value.body)
    assert answer["code"] == code and answer["message"] and answer["details"] == []
