"""ProcessMaker dialect: the assignees of a project activity."""

from __future__ import annotations

from typing import Annotated, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from pydantic import BaseModel, Field

from baton.activities.domain import Page
from baton.activities.service import AssigneeService, paging_value
from baton.activities.service import Query as AssigneeQuery
from baton.edge.entry import FamilyRouter, lambda_entry
from baton.edge.http import INPUT, current_caller
from baton.edge.paths import SEGMENT
from baton.settings import MAX_ID_LENGTH
from baton.storage.dynamo import get_dynamo
from baton.vendors.processmaker import views
from baton.vendors.processmaker.errors import PROCESSMAKER

router = FamilyRouter("processmaker", PROCESSMAKER)
Id = Annotated[str, SEGMENT, Path(min_length=1, max_length=MAX_ID_LENGTH)]
Text = Annotated[str | None, Query(max_length=256)]
Filter = Annotated[str | None, Query(max_length=256, description="Case-insensitive search in names")]
Paging = Annotated[str | None, Query(max_length=64, description="A non-negative integer")]
Kind = Annotated[str | None, Query(max_length=64, description="`user` or `group`: only that kind")]
TAGS = ["ProcessMaker"]


class AssigneeOut(BaseModel):
    aas_uid: str
    aas_name: str
    aas_lastname: str
    aas_username: str
    aas_type: Literal["user", "group"]


class AssigneePage(BaseModel):
    total: int
    start: int
    limit: int
    filter: str
    data: list[AssigneeOut]


class AssignBody(BaseModel):
    model_config = INPUT
    aas_uid: str | None = Field(default=None, max_length=MAX_ID_LENGTH)
    aas_type: str | None = Field(default=None, max_length=64)
    aas_name: str | None = Field(default=None, max_length=256, description="Ignored")
    aas_lastname: str | None = Field(default=None, max_length=256, description="Ignored")
    aas_username: str | None = Field(default=None, max_length=256, description="Ignored")


def _service(workspace: str, prj_uid: str, act_uid: str) -> AssigneeService:
    return AssigneeService(get_dynamo(), current_caller(router.current_event), workspace, prj_uid, act_uid)


def _listing(source: str, workspace: str, prj_uid: str, act_uid: str, filter: str | None, start: str | None,
             limit: str | None, lfilter: str | None = None, rfilter: str | None = None,
             type: str | None = None) -> Page:
    # the server checks start before limit, and both before anything else
    q = AssigneeQuery(filter=filter, lfilter=lfilter, rfilter=rfilter, type=type,
                      start=paging_value("start", start) or 0, limit=paging_value("limit", limit))
    return _service(workspace, prj_uid, act_uid).listing(source, q)


@router.handles("assignees", summary="Get assignees of task", tags=TAGS)
def assignees(workspace: Id, prj_uid: Id, act_uid: Id, filter: Filter = None, start: Paging = None,
              limit: Paging = None, lfilter: Text = None, rfilter: Text = None, type: Kind = None
              ) -> list[AssigneeOut]:
    page = _listing("assigned", workspace, prj_uid, act_uid, filter, start, limit, lfilter, rfilter, type)
    return views.assignees(page)  # type: ignore[return-value]


@router.handles("assignees_paged", summary="Get page of assignees to task", tags=TAGS)
def assignees_paged(workspace: Id, prj_uid: Id, act_uid: Id, filter: Filter = None, start: Paging = None,
                    limit: Paging = None, lfilter: Text = None, rfilter: Text = None, type: Kind = None
                    ) -> AssigneePage:
    page = _listing("assigned", workspace, prj_uid, act_uid, filter, start, limit, lfilter, rfilter, type)
    return AssigneePage.model_validate(views.paged(page))


@router.handles("all_users", summary="Get all users assigned to task", tags=TAGS)
def all_users(workspace: Id, prj_uid: Id, act_uid: Id, filter: Filter = None, start: Paging = None,
              limit: Paging = None) -> list[AssigneeOut]:
    page = _listing("all", workspace, prj_uid, act_uid, filter, start, limit)
    return views.assignees(page)  # type: ignore[return-value]


@router.handles("one", summary="Get assignee to task", tags=TAGS)
def one(workspace: Id, prj_uid: Id, act_uid: Id, aas_uid: Id) -> AssigneeOut:
    return AssigneeOut.model_validate(views.assignee(_service(workspace, prj_uid, act_uid).one(aas_uid)))


@router.handles("available", summary="Get available assignees for task", tags=TAGS)
def available(workspace: Id, prj_uid: Id, act_uid: Id, filter: Filter = None, start: Paging = None,
              limit: Paging = None, lfilter: Text = None, rfilter: Text = None, type: Kind = None
              ) -> list[AssigneeOut]:
    page = _listing("available", workspace, prj_uid, act_uid, filter, start, limit, lfilter, rfilter, type)
    return views.assignees(page)  # type: ignore[return-value]


@router.handles("available_paged", summary="Get page of available assignees for task", tags=TAGS)
def available_paged(workspace: Id, prj_uid: Id, act_uid: Id, filter: Filter = None, start: Paging = None,
                    limit: Paging = None, lfilter: Text = None, rfilter: Text = None, type: Kind = None
                    ) -> AssigneePage:
    page = _listing("available", workspace, prj_uid, act_uid, filter, start, limit, lfilter, rfilter, type)
    return AssigneePage.model_validate(views.paged(page))


@router.handles("assign", summary="Assign to task (PM_FACTORY)", tags=TAGS)
def assign(workspace: Id, prj_uid: Id, act_uid: Id, body: Annotated[AssignBody, Body()]) -> Response[None]:
    _service(workspace, prj_uid, act_uid).add(body.aas_uid, body.aas_type)
    return Response(201, None, None)


@router.handles("remove", summary="Remove assignee from task (PM_FACTORY)", tags=TAGS)
def remove(workspace: Id, prj_uid: Id, act_uid: Id, aas_uid: Id) -> Response[None]:
    _service(workspace, prj_uid, act_uid).remove(aas_uid)
    return Response(200, None, None)


lambda_handler = lambda_entry(router)
