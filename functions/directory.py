"""Native directory routes: users, groups, project activities."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from pydantic import AfterValidator, BaseModel, Field, model_validator

from baton.activities.domain import Activity
from baton.activities.service import ActivityService
from baton.directory.absence import Absence, AbsenceMode
from baton.directory.domain import Group, Presence, Routing, Skills, Strategy, User
from baton.directory.service import DirectoryService
from baton.domain import MAX_LEASE_SECONDS, WRITE_ROLES, require_role, utc_timestamp
from baton.edge.dialects import NATIVE
from baton.edge.entry import FamilyRouter, lambda_entry
from baton.edge.http import INPUT, JSON, current_caller, plain_id
from baton.edge.paths import SEGMENT
from baton.settings import MAX_ID_LENGTH
from baton.storage.dynamo import get_dynamo
from baton.tasks import escalations as ladder
from baton.tasks.separation import MAX_SEPARATED

router = FamilyRouter("directory", NATIVE)
PathId = Annotated[str, SEGMENT, Path(min_length=1, max_length=MAX_ID_LENGTH)]
Id = Annotated[str, Field(min_length=1, max_length=MAX_ID_LENGTH), AfterValidator(plain_id)]
Text = Annotated[str, Field(max_length=256)]
Timestamp = Annotated[str, Field(max_length=64, description="RFC 3339 date-time with an offset; stored in UTC"),
                      AfterValidator(utc_timestamp)]
MAX_CAPACITY = 10_000
MAX_OFFER_SECONDS = 24 * 3600


class UserIn(BaseModel):
    model_config = INPUT
    username: Annotated[str, Field(min_length=1, max_length=256)]
    firstname: Text = ""
    lastname: Text = ""
    email: Text = ""
    active: bool = True
    capacity: Annotated[int | None, Field(ge=0, le=MAX_CAPACITY,
                                          description="The most open tasks held at once; absent: no limit")] = None
    skills: Skills = Field(default_factory=list)


class PresenceIn(BaseModel):
    model_config = INPUT
    status: Presence


class AbsenceIn(BaseModel):
    model_config = INPUT
    from_: Timestamp = Field(alias="from")
    until: Timestamp
    delegateTo: Id | None = None
    mode: AbsenceMode = "redirect"


class OffboardIn(BaseModel):
    model_config = INPUT
    to: Id | None = Field(default=None, description="Who gets the open tasks the user holds, where eligible")
    dryRun: bool = Field(default=False, description="Answer what would happen; write nothing")


class RoutingIn(BaseModel):
    model_config = INPUT
    strategy: Strategy = "pull"
    offerSeconds: Annotated[int | None, Field(ge=1, le=MAX_OFFER_SECONDS,
                                              description="Offer instead of assigning, for this long")] = None

    @model_validator(mode="after")
    def _offers_need_a_router(self) -> RoutingIn:
        if self.offerSeconds is not None and self.strategy == "pull":
            raise ValueError("offerSeconds needs a routing strategy other than pull")
        return self


class GroupIn(BaseModel):
    model_config = INPUT
    name: Annotated[str, Field(min_length=1, max_length=256)]
    members: list[Id] = Field(default_factory=list, max_length=1000)
    leads: list[Id] = Field(default_factory=list, max_length=100, description=(
        "Users of the tenant, members or not, who may release, assign and reassign the group's tasks"))
    routing: RoutingIn = Field(default_factory=RoutingIn)


class ActivitySeparationIn(BaseModel):
    """As a task's `separation` (functions/tasks.py SeparationIn): who may not hold its tasks."""

    model_config = INPUT
    excludeCreator: bool = False
    tasks: list[Id] = Field(default_factory=list, max_length=MAX_SEPARATED)
    activities: list[Id] = Field(default_factory=list, max_length=MAX_SEPARATED)


class ActivityIn(BaseModel):
    model_config = INPUT
    name: Annotated[str, Field(min_length=1, max_length=256)]
    type: Literal["task", "subprocess"] = "task"
    leaseSeconds: Annotated[int | None, Field(ge=1, le=MAX_LEASE_SECONDS)] = None
    requiredSkills: Skills = Field(default_factory=list)
    escalations: list[dict[str, Any]] | None = Field(
        default=None, description="The escalation ladder of the activity's tasks (copied to each task made from it)")
    separation: ActivitySeparationIn | None = Field(
        default=None, description="Separation of duties of the activity's tasks (copied to each task made from it)")


def _service() -> DirectoryService:
    return DirectoryService(get_dynamo(), current_caller(router.current_event))


def saved(created: bool, body: BaseModel) -> Response[Any]:
    return Response(201 if created else 200, JSON, body.model_dump(by_alias=True))


@router.handles("put_user", summary="Create or replace a user", tags=["Directory"])
def put_user(userId: PathId, body: Annotated[UserIn, Body()]) -> Response[User]:
    created, stored = _service().put_user(User(id=userId, **body.model_dump()))
    return saved(created, stored)


@router.handles("put_presence", summary="Set a user's presence (the user itself, or admin/apiwrite)",
                tags=["Directory"])
def put_presence(userId: PathId, body: Annotated[PresenceIn, Body()]) -> User:
    return _service().set_presence(userId, body.status)


@router.handles("put_absence", summary="Set a user's absence and who stands in (the user itself, or admin)",
                tags=["Directory"])
def put_absence(userId: PathId, body: Annotated[AbsenceIn, Body()]) -> User:
    absence = Absence.model_validate({"from": body.from_, "until": body.until, "delegateTo": body.delegateTo,
                                      "mode": body.mode})
    return _service().set_absence(userId, absence)


@router.handles("end_absence", summary="End a user's absence now (the user itself, or admin)", tags=["Directory"])
def end_absence(userId: PathId) -> User:
    return _service().set_absence(userId, None)


@router.handles("offboard", summary="Offboard a user: inactive, out of every group and candidate list, "
                "its open tasks moved (admin)", tags=["Directory"])
def offboard(userId: PathId, body: Annotated[OffboardIn, Body()]) -> dict[str, Any]:
    """Each task moves by its own conditional write (reason `offboarding`); a second call finishes
    what a failed one left, and never moves a task twice; `dryRun` writes nothing."""
    from baton.tasks.offboarding import Offboarding

    report = Offboarding(get_dynamo(), current_caller(router.current_event)).run(userId, body.to, body.dryRun)
    results: list[dict[str, Any]] = []
    for r in report.results:
        item: dict[str, Any] = {"taskId": r.task_id, "status": r.status}
        if r.error is None:
            item.update(outcome=r.outcome, assignee=r.to)
        else:
            item["error"] = NATIVE.render(r.error)[1]
        if r.task is not None:
            item["task"] = r.task.model_dump()
        results.append(item)
    return {"user": report.user.model_dump(), "dryRun": report.dry_run, "groupsLeft": report.groups,
            "results": results}


@router.handles("list_users", summary="List users", tags=["Directory"])
def list_users(
    filter: Annotated[str | None, Query(max_length=256)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 100,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
) -> dict[str, Any]:
    users, next_cursor = _service().users(filter, limit, cursor)
    return {"items": [u.model_dump(by_alias=True) for u in users], "cursor": next_cursor}


@router.handles("group_stats", summary="A group's team view: its queue and its members' presence and load",
                tags=["Directory"])
def group_stats(groupId: PathId) -> dict[str, Any]:
    from baton.tasks.team import TeamView

    return TeamView(get_dynamo(), current_caller(router.current_event)).stats(groupId)


@router.handles("group_tasks", summary="A group's open tasks, free and held, in queue order (admin or its leads)",
                tags=["Directory"])
def group_tasks(groupId: PathId, limit: Annotated[int, Query(ge=1, le=100)] = 50,
                cursor: Annotated[str | None, Query(max_length=2048)] = None) -> dict[str, Any]:
    from baton.tasks.team import TeamView

    tasks, next_cursor = TeamView(get_dynamo(), current_caller(router.current_event)).open_tasks(groupId, limit, cursor)
    return {"items": [t.model_dump() for t in tasks], "cursor": next_cursor}


@router.handles("put_group", summary="Create or replace a group and its members", tags=["Directory"])
def put_group(groupId: PathId, body: Annotated[GroupIn, Body()]) -> Response[Group]:
    group = Group(id=groupId, name=body.name, members=body.members, leads=body.leads,
                  routing=Routing(**body.routing.model_dump()))
    stored, created = _service().put_group(group)
    return saved(created, stored)


@router.handles("put_activity", summary="Create or replace an activity",
            tags=["Directory"])
def put_activity(prjUid: PathId, actUid: PathId, body: Annotated[ActivityIn, Body()]) -> Response[Activity]:
    activity = Activity(projectId=prjUid, id=actUid, **body.model_dump())
    if body.escalations:
        require_role(current_caller(router.current_event), WRITE_ROLES)
        ladder.check_known(ladder.parse_ladder(body.escalations), _service().unknown)
    return saved(ActivityService(get_dynamo(), current_caller(router.current_event)).put_activity(activity), activity)


lambda_handler = lambda_entry(router)
