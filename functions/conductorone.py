"""ConductorOne dialect: reassign, approve and deny a task (`GET /api/v1/tasks/{id}`, the task get, is served by the
native tasks function, which composes the same `taskView`)."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from pydantic import BaseModel, Field

from baton.edge.entry import FamilyRouter, lambda_entry
from baton.edge.http import INPUT, JSON, current_caller, etag, if_match
from baton.edge.paths import SEGMENT
from baton.settings import MAX_ID_LENGTH
from baton.storage.dynamo import get_dynamo
from baton.tasks.service import TaskService
from baton.vendors.conductorone import views
from baton.vendors.conductorone.errors import CONDUCTORONE

router = FamilyRouter("conductorone", CONDUCTORONE)
Id = Annotated[str, Field(min_length=1, max_length=MAX_ID_LENGTH)]


class TaskExpandMask(BaseModel):
    model_config = INPUT
    paths: list[Annotated[str, Field(max_length=64)]] | None = Field(default=None, max_length=20)


class ReassignRequest(BaseModel):
    model_config = INPUT
    comment: str | None = Field(default=None, max_length=4096)
    newStepUserIds: list[Id] | None = Field(default=None, max_length=100)
    policyStepId: str | None = Field(default=None, max_length=MAX_ID_LENGTH)
    expandMask: TaskExpandMask | list[Annotated[str, Field(max_length=64)]] | None = None

    def expand_paths(self) -> set[str]:
        mask = self.expandMask
        if mask is None:
            return set()
        return set((mask.paths or []) if isinstance(mask, TaskExpandMask) else mask)


class ReassignResponse(BaseModel):
    taskView: dict[str, Any]
    expanded: list[dict[str, Any]]
    ticketActionId: str


@router.handles("reassign", summary="Reassign a task", tags=["ConductorOne"])
def reassign(taskId: Annotated[str, SEGMENT, Path(min_length=1, max_length=MAX_ID_LENGTH, description="The task_id.")],
             body: Annotated[ReassignRequest | None, Body()] = None) -> Response[ReassignResponse]:
    body = body or ReassignRequest()
    caller = current_caller(router.current_event)
    service = TaskService(get_dynamo(), caller)
    targets = body.newStepUserIds or []
    task, event = service.reassign(taskId, targets, body.comment, if_match(router.current_event))
    expanded = views.expanded_users(targets, service.users(targets)) if views.wants_users(body.expand_paths()) else []
    answer = ReassignResponse(**views.task_view(task, expanded), ticketActionId=event.id)
    return Response(200, JSON, answer, headers=etag(task.version))


class DecisionRequest(BaseModel):
    """TaskActionsServiceApproveRequest / TaskActionsServiceDenyRequest (conductorone-sdk)."""

    model_config = INPUT
    policyStepId: str | None = Field(default=None, max_length=MAX_ID_LENGTH)
    comment: str | None = Field(default=None, max_length=4096)
    expandMask: TaskExpandMask | list[Annotated[str, Field(max_length=64)]] | None = None


TaskIdPath = Annotated[str, SEGMENT, Path(min_length=1, max_length=MAX_ID_LENGTH, description="The task_id.")]


def _decide(task_id: str, body: DecisionRequest | None, outcome: str) -> Response[ReassignResponse]:
    """Approve or deny: the holder (or admin) completes the task with that outcome."""
    body = body or DecisionRequest()
    service = TaskService(get_dynamo(), current_caller(router.current_event))
    task, change = service.finish(task_id, "completed", body.comment, if_match(router.current_event), outcome)
    action_id = change.event.id if change is not None else ""
    answer = ReassignResponse(**views.task_view(task, []), ticketActionId=action_id)
    return Response(200, JSON, answer, headers=etag(task.version))


@router.handles("approve", summary="Approve a task (completes it with outcome `approved`)", tags=["ConductorOne"])
def approve(taskId: TaskIdPath, body: Annotated[DecisionRequest | None, Body()] = None
            ) -> Response[ReassignResponse]:
    return _decide(taskId, body, "approved")


@router.handles("deny", summary="Deny a task (completes it with outcome `denied`)", tags=["ConductorOne"])
def deny(taskId: TaskIdPath, body: Annotated[DecisionRequest | None, Body()] = None) -> Response[ReassignResponse]:
    return _decide(taskId, body, "denied")


lambda_handler = lambda_entry(router)
