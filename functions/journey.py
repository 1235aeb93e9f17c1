"""Journey Manager dialect: return a group task to its queue (unassign), or take it (assign)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from pydantic import BaseModel, Field

from baton.edge.entry import FamilyRouter, lambda_entry
from baton.edge.http import INPUT, current_caller, etag, if_match
from baton.settings import MAX_ID_LENGTH
from baton.storage.dynamo import get_dynamo
from baton.tasks.service import TaskService
from baton.vendors.journey import fields
from baton.vendors.journey.errors import JOURNEY

router = FamilyRouter("journey", JOURNEY)
TAGS = ["Journey Manager"]
Key = Annotated[str | None, Field(default=None, max_length=MAX_ID_LENGTH)]


class UnassignParams(BaseModel):
    model_config = INPUT
    submitKey: Key = None


class AssignParams(UnassignParams):
    userKey: Key = None


class UnassignRequest(BaseModel):
    model_config = INPUT
    params: UnassignParams | None = None


class AssignRequest(BaseModel):
    model_config = INPUT
    params: AssignParams | None = None


def submit_key(params: UnassignParams | None) -> str:
    return fields.task_id(params.submitKey if params else None)


def _service() -> TaskService:
    return TaskService(get_dynamo(), current_caller(router.current_event))


@router.handles("unassign", summary="Unassign txn: back to the group queue", tags=TAGS)
def unassign(body: Annotated[UnassignRequest | None, Body()] = None) -> Response[None]:
    task = _service().unassign(submit_key(body.params if body else None), if_match(router.current_event))
    return Response(200, None, None, headers=etag(task.version))


@router.handles("assign", summary="Assign txn: take a group task", tags=TAGS)
def assign(body: Annotated[AssignRequest | None, Body()] = None) -> Response[None]:
    params = body.params if body else None
    key = submit_key(params)
    # Journey Manager's assign: a group task to the caller or (admin) a member, never from a holder
    task = _service().assign(key, params.userKey if params else None, if_match(router.current_event),
                             within_groups=True)
    return Response(200, None, None, headers=etag(task.version))


lambda_handler = lambda_entry(router)
