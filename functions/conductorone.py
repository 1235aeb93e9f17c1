"""ConductorOne dialect: reassign a task."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from pydantic import BaseModel, Field

from baton.api import CONDUCTORONE, INPUT, current_caller, if_match, lambda_entry, store
from baton.service import TaskService
from baton.settings import MAX_ID_LENGTH

router = APIGatewayHttpRouter()
USER_TYPE = "type.googleapis.com/c1.api.user.v1.User"
EXPAND_USERS = frozenset({"*", "stepApprovers", "users", "newStepUsers"})
Id = Annotated[str, Field(min_length=1, max_length=MAX_ID_LENGTH)]


class TaskExpandMask(BaseModel):
    model_config = INPUT
    paths: list[Annotated[str, Field(max_length=64)]] = Field(default_factory=list, max_length=20)


class ReassignRequest(BaseModel):
    model_config = INPUT
    comment: str | None = Field(default=None, max_length=4096)
    newStepUserIds: list[Id] = Field(default_factory=list, max_length=100)
    policyStepId: str | None = Field(default=None, max_length=MAX_ID_LENGTH)
    expandMask: TaskExpandMask | list[Annotated[str, Field(max_length=64)]] | None = None

    def expand_paths(self) -> set[str]:
        mask = self.expandMask
        if mask is None:
            return set()
        return set(mask.paths if isinstance(mask, TaskExpandMask) else mask)


def user_object(user: dict[str, Any]) -> dict[str, Any]:
    name = " ".join(p for p in (user.get("firstname"), user.get("lastname")) if p) or user.get("username", "")
    return {"@type": USER_TYPE, "id": user["userId"], "displayName": name, "username": user.get("username", ""),
            "email": user.get("email", ""), "status": "ENABLED" if user.get("active", True) else "DISABLED"}


@router.post("/api/v1/tasks/<taskId>/action/reassign", summary="Reassign a task", tags=["ConductorOne"])
def reassign(taskId: Annotated[str, Path(min_length=1, max_length=MAX_ID_LENGTH, description="The task_id.")],
             body: Annotated[ReassignRequest, Body()]) -> dict[str, Any]:
    caller = current_caller()
    service = TaskService(store(), caller)
    task, event = service.reassign(taskId, body.newStepUserIds, body.comment, if_match())
    expanded: list[dict[str, Any]] = []
    if body.expand_paths() & EXPAND_USERS:
        users = service.store.get_users(caller.tenant, body.newStepUserIds)
        expanded = [user_object(users[u]) for u in dict.fromkeys(body.newStepUserIds) if u in users]
    view: dict[str, Any] = {"task": task.model_dump()}
    if expanded:
        view["stepApproversPath"] = "$.expanded[*]"
    return {"taskView": view, "expanded": expanded, "ticketActionId": event.id}


lambda_handler = lambda_entry(CONDUCTORONE, router)
