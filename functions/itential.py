"""Itential dialect: claim, release and assign a task."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from pydantic import BaseModel, Field

from baton.api import INPUT, ITENTIAL, current_caller, if_match, lambda_entry, store
from baton.domain import Task
from baton.service import TaskService
from baton.settings import MAX_ID_LENGTH

router = APIGatewayHttpRouter()
TaskId = Annotated[str, Path(min_length=1, max_length=MAX_ID_LENGTH, description="The id of the Task.")]


class EmptyBody(BaseModel):
    """The schema of claim and release: an object with no properties."""

    model_config = INPUT


class AssignBody(BaseModel):
    model_config = INPUT
    userId: str = Field(min_length=1, max_length=MAX_ID_LENGTH)


def result(message: str, task: Task) -> dict[str, Any]:
    data = task.model_dump()
    return {"message": message, "data": {"_id": task.id, **data}}


def _service() -> TaskService:
    return TaskService(store(), current_caller())


@router.post("/operations-manager/tasks/<taskId>/claim", summary="Claim a task", tags=["Itential"])
def claim(taskId: TaskId, body: Annotated[EmptyBody | None, Body()] = None) -> dict[str, Any]:
    return result("Successfully claimed the task", _service().claim(taskId, if_match()))


@router.post("/operations-manager/tasks/<taskId>/release", summary="Release a currently assigned task",
             tags=["Itential"])
def release(taskId: TaskId, body: Annotated[EmptyBody | None, Body()] = None) -> dict[str, Any]:
    return result("Successfully released the task", _service().release(taskId, if_match()))


@router.post("/operations-manager/tasks/<taskId>/assign", summary="Assign a task to a user", tags=["Itential"])
def assign(taskId: TaskId, body: Annotated[AssignBody, Body()]) -> dict[str, Any]:
    task = _service().assign(taskId, body.userId, if_match())
    return result("Successfully assigned the task", task)


lambda_handler = lambda_entry(ITENTIAL, router)
