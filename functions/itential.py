"""Itential dialect: claim, release and assign a task."""

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
from baton.tasks.domain import Task
from baton.tasks.service import TaskService
from baton.vendors.itential.errors import ITENTIAL
from baton.vendors.itential.views import document

router = FamilyRouter("itential", ITENTIAL)
TaskId = Annotated[str, SEGMENT, Path(min_length=1, max_length=MAX_ID_LENGTH, description="The id of the Task.")]


class EmptyBody(BaseModel):
    """The schema of claim and release: an object with no properties."""

    model_config = INPUT


class AssignBody(BaseModel):
    model_config = INPUT
    userId: str = Field(min_length=1, max_length=MAX_ID_LENGTH)


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


lambda_handler = lambda_entry(router)
