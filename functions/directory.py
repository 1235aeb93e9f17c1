"""Native directory routes: users, groups, project activities."""
# ruff: noqa: E402 (the cold-start measures start before the imports below)

from __future__ import annotations

# First, before Powertools is imported: the cold-start measures (baton/platform/coldstart.py).
from baton.platform.dynamo import get_dynamo

from baton.platform import coldstart  # isort: skip

coldstart.prepare()

from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from pydantic import BaseModel, Field

from baton.activities.domain import Activity
from baton.activities.service import ActivityService
from baton.directory.domain import Group, User
from baton.directory.service import DirectoryService
from baton.domain import MAX_LEASE_SECONDS, WRITE_ROLES, require_role
from baton.errors import BadRequest
from baton.platform.dialects import NATIVE
from baton.platform.entry import FamilyRouter, lambda_entry
from baton.platform.http import INPUT, JSON, current_caller
from baton.platform.settings import MAX_ID_LENGTH
from baton.tasks import escalations as ladder

router = FamilyRouter("directory")
PathId = Annotated[str, Path(min_length=1, max_length=MAX_ID_LENGTH)]
Id = Annotated[str, Field(min_length=1, max_length=MAX_ID_LENGTH)]
Text = Annotated[str, Field(max_length=256)]


class UserIn(BaseModel):
    model_config = INPUT
    username: Annotated[str, Field(min_length=1, max_length=256)]
    firstname: Text = ""
    lastname: Text = ""
    email: Text = ""
    active: bool = True


class GroupIn(BaseModel):
    model_config = INPUT
    name: Annotated[str, Field(min_length=1, max_length=256)]
    members: list[Id] = Field(default_factory=list, max_length=1000)


class ActivityIn(BaseModel):
    model_config = INPUT
    name: Annotated[str, Field(min_length=1, max_length=256)]
    type: Literal["task", "subprocess"] = "task"
    leaseSeconds: Annotated[int | None, Field(ge=1, le=MAX_LEASE_SECONDS)] = None
    escalations: list[dict[str, Any]] | None = Field(
        default=None, description="The escalation ladder of the activity's tasks (copied to each task made from it)")


def _service() -> DirectoryService:
    return DirectoryService(get_dynamo(), current_caller(router.current_event))


def saved(created: bool, body: BaseModel) -> Response[Any]:
    return Response(201 if created else 200, JSON, body.model_dump(by_alias=True))


@router.handles("put_user", summary="Create or replace a user", tags=["Directory"])
def put_user(userId: PathId, body: Annotated[UserIn, Body()]) -> Response[User]:
    user = User(id=userId, **body.model_dump())
    return saved(_service().put_user(user), user)


@router.handles("list_users", summary="List users", tags=["Directory"])
def list_users(
    filter: Annotated[str | None, Query(max_length=256)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 100,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
) -> dict[str, Any]:
    users, next_cursor = _service().users(filter, limit, cursor)
    return {"items": [u.model_dump() for u in users], "cursor": next_cursor}


@router.handles("put_group", summary="Create or replace a group and its members", tags=["Directory"])
def put_group(groupId: PathId, body: Annotated[GroupIn, Body()]) -> Response[Group]:
    stored, created = _service().put_group(Group(id=groupId, **body.model_dump()))
    return saved(created, stored)


@router.handles("put_activity", summary="Create or replace an activity",
            tags=["Directory"])
def put_activity(prjUid: PathId, actUid: PathId, body: Annotated[ActivityIn, Body()]) -> Response[Activity]:
    activity = Activity(projectId=prjUid, id=actUid, **body.model_dump())
    if body.escalations:
        require_role(current_caller(router.current_event), WRITE_ROLES)
        steps = ladder.parse_ladder(body.escalations)
        users, groups = _service().unknown(*ladder.referenced(steps))
        if users or groups:
            raise BadRequest("escalations: unknown " + "; ".join(
                f"{kind}: {', '.join(ids)}" for kind, ids in (("users", users), ("groups", groups)) if ids))
    return saved(ActivityService(get_dynamo(), current_caller(router.current_event)).put_activity(activity), activity)


lambda_handler = lambda_entry(NATIVE, router)
