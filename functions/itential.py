"""Itential dialect: claim, release and assign a task."""
# ruff: noqa: E402 (the cold-start measures start before the imports below)

from __future__ import annotations

# First, before Powertools is imported: the cold-start measures (baton/edge/coldstart.py).
from baton.storage.dynamo import get_dynamo

from baton.edge import coldstart  # isort: skip

coldstart.prepare()

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from pydantic import BaseModel, Field

from baton.edge.dialects import ITENTIAL
from baton.edge.entry import FamilyRouter, lambda_entry
from baton.edge.http import INPUT, JSON, current_caller, etag, if_match
from baton.settings import MAX_ID_LENGTH
from baton.tasks.domain import Task
from baton.tasks.service import TaskService

router = FamilyRouter("itential")
TaskId = Annotated[str, Path(min_length=1, max_length=MAX_ID_LENGTH, description="The id of the Task.")]


class EmptyBody(BaseModel):
    """The schema of claim and release: an object with no properties."""

    model_config = INPUT


class AssignBody(BaseModel):
    model_config = INPUT
    userId: str = Field(min_length=1, max_length=MAX_ID_LENGTH)


ITENTIAL_STATUS = {"open": "running", "completed": "complete", "abandoned": "canceled"}


def document(task: Task) -> dict[str, Any]:
    """The task as an Itential task document (the fields of the claim and release pages), with
    Baton's own fields alongside. Where both name a field, Itential's meaning wins: `status` is
    Itential's (`running` while open, `complete`, `canceled`); Baton's is on the native routes."""
    finished = task.status != "open"
    metrics: dict[str, Any] = {"start_time": task.createdAt, "server_id": "baton", "retrying": False,
                               "user": task.assignee or "", "owner": task.createdBy or ""}
    if finished:
        metrics.update(end_time=task.updatedAt, finish_state="success" if task.status == "completed" else "canceled")
    return {
        **task.model_dump(),
        "_id": task.id, "name": task.name, "location": "Application", "app": "Baton", "view": "",
        "status": ITENTIAL_STATUS[task.status], "type": task.type, "variables": {}, "last_updated": task.updatedAt,
        "encodingVersion": 1, "incomingRefs": [], "groups": list(task.candidateGroups),
        "job": {"_id": task.projectId or "", "task": task.activityId or "", "name": task.name,
                "description": task.description, "ancestors": []},
        "metrics": metrics,
    }


class ItentialResult(BaseModel):
    message: str
    data: dict[str, Any]


def result(message: str, task: Task) -> Response[ItentialResult]:
    return Response(200, JSON, ItentialResult(message=message, data=document(task)), headers=etag(task.version))


def _service() -> TaskService:
    return TaskService(get_dynamo(), current_caller(router.current_event))


@router.handles("claim", summary="Claim a task", tags=["Itential"])
def claim(taskId: TaskId, body: Annotated[EmptyBody | None, Body()] = None) -> Response[ItentialResult]:
    return result("Successfully claimed the task", _service().claim(taskId, if_match(router.current_event)))


@router.handles("release", summary="Release a currently assigned task",
             tags=["Itential"])
def release(taskId: TaskId, body: Annotated[EmptyBody | None, Body()] = None) -> Response[ItentialResult]:
    return result("Successfully released the task", _service().release(taskId, if_match(router.current_event)))


@router.handles("assign", summary="Assign a task to a user", tags=["Itential"])
def assign(taskId: TaskId, body: Annotated[AssignBody, Body()]) -> Response[ItentialResult]:
    task = _service().assign(taskId, body.userId, if_match(router.current_event))
    return result("Successfully assigned the task", task)


lambda_handler = lambda_entry(ITENTIAL, router)
