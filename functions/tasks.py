"""Native task routes: create, read, update, list (a case's too), history (verified), claim, release,
heartbeat, complete, abandon, bulk actions, and the tenant audit."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal
from urllib.parse import quote

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from pydantic import AfterValidator, BaseModel, Field

from baton.directory.domain import Skills
from baton.domain import MAX_LEASE_SECONDS, utc_timestamp
from baton.edge.dialects import NATIVE
from baton.edge.entry import FamilyRouter, lambda_entry
from baton.edge.http import INPUT, JSON, current_caller, etag, if_match, plain_id
from baton.edge.paths import SEGMENT
from baton.errors import BadRequest
from baton.settings import MAX_ID_LENGTH
from baton.storage.dynamo import get_dynamo
from baton.tasks import bulk, edits
from baton.tasks.audit import AuditService
from baton.tasks.domain import DEFAULT_PRIORITY, MAX_PRIORITY, Task, TaskType
from baton.tasks.separation import MAX_SEPARATED
from baton.tasks.service import TaskService
from baton.vendors.conductorone.views import task_view

router = FamilyRouter("tasks", NATIVE)
TaskId = Annotated[str, SEGMENT, Path(min_length=1, max_length=MAX_ID_LENGTH)]
Id = Annotated[str, Field(min_length=1, max_length=MAX_ID_LENGTH), AfterValidator(plain_id)]
Limit = Annotated[int, Query(ge=1, le=100)]
Cursor = Annotated[str | None, Query(max_length=2048)]
LeaseSeconds = Annotated[int, Field(ge=1, le=MAX_LEASE_SECONDS, description="A claim's lease, in seconds")]
Timestamp = Annotated[str, Field(max_length=64, description="RFC 3339 date-time with an offset; stored in UTC"),
                      AfterValidator(utc_timestamp)]
MAX_VARIABLES_BYTES = 32 * 1024


def json_variables(value: dict[str, Any]) -> dict[str, Any]:
    """A completion's variables: a JSON object of at most MAX_VARIABLES_BYTES (as compact UTF-8
    JSON), finite numbers only (a Step Functions execution parses it)."""
    try:
        text = json.dumps(value, separators=(",", ":"), allow_nan=False, ensure_ascii=False)
        size = len(text.encode("utf-8"))
    except (ValueError, UnicodeEncodeError):
        raise ValueError("variables must be JSON: finite numbers and valid text only") from None
    if size > MAX_VARIABLES_BYTES:
        raise ValueError(f"variables take {size} bytes as JSON; at most {MAX_VARIABLES_BYTES}")
    return value


Variables = Annotated[dict[str, Any], AfterValidator(json_variables),
                      Field(description=f"Any JSON object, at most {MAX_VARIABLES_BYTES} bytes as JSON")]


class PolicyIn(BaseModel):
    model_config = INPUT
    allowReassignment: bool = True
    allowedReassignees: list[Id] = Field(default_factory=list, max_length=100)
    requireReassignmentReason: bool = False


class CreateTask(BaseModel):
    model_config = INPUT
    id: Id | None = None
    name: str = Field(min_length=1, max_length=256)
    description: str = Field(default="", max_length=4096)
    type: TaskType = "manual"
    candidateUsers: list[Id] = Field(default_factory=list, max_length=100)
    candidateGroups: list[Id] = Field(default_factory=list, max_length=100)
    policy: PolicyIn = Field(default_factory=PolicyIn)
    projectId: Id | None = None
    activityId: Id | None = None
    priority: int = Field(default=DEFAULT_PRIORITY, ge=0, le=MAX_PRIORITY)
    dueDate: Timestamp | None = None
    followUpDate: Timestamp | None = None
    leaseSeconds: LeaseSeconds | None = None
    requiredSkills: Skills | None = Field(default=None, description="Skills a holder needs (default: the activity's)")
    callback: CallbackIn | None = Field(default=None, description="End a waiting Step Functions execution when "
                                                                  "the task is completed or abandoned")
    caseId: Id | None = None
    separation: SeparationIn | None = Field(default=None, description="Who may not hold it (separation of duties)")
    escalations: list[dict[str, Any]] | None = Field(
        default=None, description="The escalation ladder: at most 5 steps {id, after, from, unless, action, to, "
                                  "priority} (docs/api.md); copied from the activity when not given")


class UpdateTask(BaseModel):
    """What `PATCH /api/v1/tasks/{taskId}` may change; a field left out stays, `dueDate: null` clears it."""

    model_config = INPUT
    priority: int | None = Field(default=None, ge=0, le=MAX_PRIORITY)
    dueDate: Timestamp | None = None
    candidateUsers: list[Id] | None = Field(default=None, max_length=100)
    candidateGroups: list[Id] | None = Field(default=None, max_length=100)
    policy: PolicyIn | None = None
    escalations: list[dict[str, Any]] | None = Field(
        default=None, description="The escalation ladder, replaced whole: unchanged steps keep their state, new "
                                  "or changed ones are armed afresh ([] removes it)")


class ClaimNextBody(BaseModel):
    model_config = INPUT
    groupId: Id | None = None
    leaseSeconds: LeaseSeconds | None = None


class LeaseBody(BaseModel):
    """The native claim's and heartbeat's body: the lease, else the task's default."""

    model_config = INPUT
    leaseSeconds: LeaseSeconds | None = None


class EmptyBody(BaseModel):
    model_config = INPUT


class FinishBody(BaseModel):
    model_config = INPUT
    comment: str | None = Field(default=None, max_length=2048)


class CompleteBody(FinishBody):
    """How the task ended: an outcome (`approved`, `rejected`, ...) and data for whoever waits on it."""

    outcome: str | None = Field(default=None, min_length=1, max_length=64)
    variables: Variables | None = None


class SeparationIn(BaseModel):
    model_config = INPUT
    excludeCreator: bool = False
    tasks: list[Id] = Field(default_factory=list, max_length=MAX_SEPARATED)
    activities: list[Id] = Field(default_factory=list, max_length=MAX_SEPARATED)


class CallbackIn(BaseModel):
    model_config = INPUT
    stepFunctionsTaskToken: str = Field(min_length=1, max_length=1024,
                                        description="The task token of a Step Functions `.waitForTaskToken` state")


class TaskOut(Task):
    """A task as the API shows it."""


class TaskWithView(TaskOut):
    """The native task plus ConductorOne's `taskView` and `expanded` (its task get, same path)."""

    taskView: dict[str, Any]
    expanded: list[dict[str, Any]]
    mayHold: dict[str, Any] | None = Field(default=None, description=(
        "Whether the caller may hold the task as far as separation of duties goes: {\"mayHold\": true}, or "
        "{\"mayHold\": false, \"reason\": \"separation\", \"message\": <the rule>} (listings carry it too)"))


class TaskPage(BaseModel):
    items: list[TaskOut]
    cursor: str | None = None


def task_response(task: Task, status: int = 200, headers: dict[str, str] | None = None) -> Response[TaskOut]:
    return Response(status, JSON, TaskOut.model_validate(task.model_dump()),
                    headers={**etag(task.version), **(headers or {})})


def _service() -> TaskService:
    return TaskService(get_dynamo(), current_caller(router.current_event))


@router.handles("create_task", summary="Create a task", tags=["Tasks"])
def create_task(body: Annotated[CreateTask, Body()]) -> Response[TaskOut]:
    task, created = _service().create(body.model_dump(exclude_none=True))
    if not created:
        return task_response(task)
    # Percent-encoded: an id may hold '/', '?', CR/LF or any Unicode, none of which may reach a header raw.
    return task_response(task, 201, {"Location": f"/api/v1/tasks/{quote(task.id, safe='')}"})


@router.handles("claim_next", summary="Claim the first task of my queue (or of one group's queue)",
             tags=["Tasks"])
def claim_next(body: Annotated[ClaimNextBody | None, Body()] = None) -> Response[TaskOut | None]:
    task = _service().claim_next(body.groupId if body else None, body.leaseSeconds if body else None)
    if task is None:
        return Response(204, None, None)
    return Response(200, JSON, TaskOut.model_validate(task.model_dump()), headers=etag(task.version))


@router.handles("list_tasks", summary="List tasks: my queue and inbox in queue order, other lists newest first",
            tags=["Tasks"])
def list_tasks(
    assignee: Annotated[str | None, Query(min_length=1, max_length=MAX_ID_LENGTH)] = None,
    candidate: Annotated[Literal["me"] | None, Query()] = None,
    status: Annotated[Literal["open", "completed", "abandoned"] | None, Query()] = None,
    caseId: Annotated[str | None, Query(min_length=1, max_length=MAX_ID_LENGTH)] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
    group: Annotated[str | None, Query(min_length=1, max_length=MAX_ID_LENGTH,
                                       description="Only this group's queue (queue order)")] = None,
    priorityMin: Annotated[int | None, Query(ge=0, le=MAX_PRIORITY,  # noqa: N803 - the API's name
                                             description="Lowest priority (lists in queue order)")] = None,
    priorityMax: Annotated[int | None, Query(ge=0, le=MAX_PRIORITY,  # noqa: N803 - the API's name
                                             description="Highest priority (lists in queue order)")] = None,
    q: Annotated[str | None, Query(min_length=1, max_length=MAX_ID_LENGTH,
                                   description="A task id: that task, when the list holds it")] = None,
    overdue: Annotated[bool, Query(description="only open tasks past their dueDate or with a fired escalation step")
                       ] = False,
    search: Annotated[str | None, Query(min_length=1, max_length=MAX_ID_LENGTH, description=(
        "Open tasks whose id, name or description (its first 400 characters) holds this text, any case"))] = None,
    dueBefore: Annotated[str | None, Query(max_length=64,  # noqa: N803 - the API's name
                                           description="Open tasks due by then (RFC 3339)")] = None,
    sort: Annotated[Literal["queue", "due", "age", "newest"], Query(description=(
        "The order of a queue or an inbox: queue order, due date first, oldest or newest first"))] = "queue",
) -> dict[str, Any]:
    unknown = sorted(set(router.current_event.query_string_parameters or {}) - LIST_PARAMETERS)
    if unknown:  # refused, not ignored: a filter this API does not serve must not look applied
        raise BadRequest(f"Unknown query parameter: {', '.join(unknown)} (known: {', '.join(sorted(LIST_PARAMETERS))})")
    if caseId is not None:  # the case's tasks in creation order (one Query per page), given alone
        given = (assignee, candidate, status, group, priorityMin, priorityMax, q, search, dueBefore)
        if sort != "queue" or any(v is not None for v in given):
            raise BadRequest("caseId lists a case's tasks: give it alone (with limit, cursor and overdue)")
        tasks, next_cursor = AuditService(get_dynamo(), current_caller(router.current_event)).case(
            caseId, limit, cursor, overdue)
        return {"items": _listed(tasks), "cursor": next_cursor}
    tasks, next_cursor = _service().list(assignee=assignee, candidate=candidate, status=status, limit=limit,
                                         cursor=cursor, group=group, priority_min=priorityMin,
                                         priority_max=priorityMax, q=q, overdue=overdue, search=search,
                                         due_before=_stamp("dueBefore", dueBefore), sort=sort)
    return {"items": _listed(tasks), "cursor": next_cursor}


def _listed(tasks: list[Task]) -> list[dict[str, Any]]:
    """A listing's tasks, each with `mayHold` for the caller (as the task get shows it)."""
    may = _service().may_hold(tasks)
    return [{**t.model_dump(), "mayHold": may[t.id]} for t in tasks]


LIST_PARAMETERS = frozenset({"assignee", "candidate", "status", "limit", "cursor", "group", "priorityMin",
                             "priorityMax", "q", "caseId", "overdue", "search", "dueBefore", "sort"})


def _stamp(name: str, text: str | None) -> str | None:
    """A query parameter's RFC 3339 date-time in Baton's stored form (so it compares as a string)."""
    if text is None:
        return None
    try:
        return utc_timestamp(text)
    except ValueError as err:
        raise BadRequest(f"{name}: {err}") from None


@router.handles("get_task", summary="Get a task", tags=["Tasks"])
def get_task(taskId: TaskId) -> Response[TaskWithView]:
    service = _service()
    task = service.get(taskId)
    body = TaskWithView.model_validate({**task.model_dump(), **task_view(task),
                                        "mayHold": service.may_hold([task])[task.id]})
    return Response(200, JSON, body, headers=etag(task.version))


@router.handles("update_task", summary="Change a task's priority, due date, candidates or policy", tags=["Tasks"])
def update_task(taskId: TaskId, body: Annotated[UpdateTask, Body()]) -> Response[TaskOut]:
    service = _service()  # the edit is an action of the task algorithm (tasks.edits)
    action = edits.update(service, body.model_dump(exclude_unset=True))
    return task_response(service.apply(taskId, action, if_match(router.current_event))[0])


@router.handles("task_history", summary="A task's history, oldest first (verify=true: check its hash chain)",
                tags=["Tasks"])
def task_history(taskId: TaskId, limit: Limit = 100, cursor: Cursor = None,
                 verify: Annotated[bool, Query()] = False) -> dict[str, Any]:
    """With `verify=true` the answer also says whether the whole history's hash chain holds
    (`verified`) and, when not, the version of the first event that breaks it (`brokenAt`)."""
    out: dict[str, Any] = {}
    if verify:
        out.update(AuditService(get_dynamo(), current_caller(router.current_event)).verify(taskId).public())
    events, next_cursor = _service().history(taskId, limit, cursor)
    return {"items": events, "cursor": next_cursor, **out}


@router.handles("audit", summary="The tenant's audit: every change in a time window, oldest first",
                tags=["Audit"])
def audit(
    from_: Annotated[str | None, Query(alias="from", max_length=64)] = None,
    to: Annotated[str | None, Query(max_length=64)] = None,
    actor: Annotated[str | None, Query(min_length=1, max_length=MAX_ID_LENGTH)] = None,
    action: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """`from` and `to` (RFC 3339; default: the day up to now) at most 31 days apart; `actor`,
    `action` keep one actor's or one action's events (a filtered page may hold fewer than `limit`
    events and still have a cursor)."""
    page, start, end = AuditService(get_dynamo(), current_caller(router.current_event)).audit(
        start=from_, end=to, actor=actor, action=action, limit=limit, cursor=cursor)
    return {"items": page.events, "cursor": page.cursor, "from": start, "to": end}


@router.handles("claim", summary="Claim a task (optionally under a lease)",
             tags=["Tasks"])
def claim(taskId: TaskId, body: Annotated[LeaseBody | None, Body()] = None) -> Response[TaskOut]:
    return task_response(_service().claim(taskId, if_match(router.current_event), body.leaseSeconds if body else None))


@router.handles("accept", summary="Accept a task offered to me (a claim)", tags=["Tasks"])
def accept(taskId: TaskId, body: Annotated[EmptyBody | None, Body()] = None) -> Response[TaskOut]:
    from baton.tasks.offers import OfferService

    return task_response(OfferService(_service()).accept(taskId))


@router.handles("reject", summary="Reject a task offered to me (it is offered to the next member)", tags=["Tasks"])
def reject(taskId: TaskId, body: Annotated[EmptyBody | None, Body()] = None) -> Response[TaskOut]:
    from baton.tasks.offers import OfferService

    return task_response(OfferService(_service()).reject(taskId))


@router.handles("release", summary="Release a task I hold", tags=["Tasks"])
def release(taskId: TaskId, body: Annotated[EmptyBody | None, Body()] = None) -> Response[TaskOut]:
    return task_response(_service().release(taskId, if_match(router.current_event)))


@router.handles("heartbeat", summary="Extend my lease on a task", tags=["Tasks"])
def heartbeat(taskId: TaskId, body: Annotated[LeaseBody | None, Body()] = None) -> Response[TaskOut]:
    lease = body.leaseSeconds if body else None
    return task_response(_service().heartbeat(taskId, lease, if_match(router.current_event)))


class DelegateBody(BaseModel):
    model_config = INPUT
    userId: Id
    comment: str | None = Field(default=None, max_length=2048)


@router.handles("delegate", summary="Delegate a task I hold (I stay its owner)", tags=["Tasks"])
def delegate(taskId: TaskId, body: Annotated[DelegateBody, Body()]) -> Response[TaskOut]:
    return task_response(_service().delegate(taskId, body.userId, body.comment, if_match(router.current_event)))


@router.handles("resolve", summary="Give a delegated task back to its owner", tags=["Tasks"])
def resolve(taskId: TaskId, body: Annotated[FinishBody | None, Body()] = None) -> Response[TaskOut]:
    comment = body.comment if body else None
    return task_response(_service().resolve(taskId, comment, if_match(router.current_event)))


@router.handles("complete", summary="Complete a task, saying how it ended", tags=["Tasks"])
def complete(taskId: TaskId, body: Annotated[CompleteBody | None, Body()] = None) -> Response[TaskOut]:
    body = body or CompleteBody()
    return task_response(_service().finish(taskId, "completed", body.comment, if_match(router.current_event),
                                           body.outcome, body.variables)[0])


@router.handles("abandon", summary="Abandon a task", tags=["Tasks"])
def abandon(taskId: TaskId, body: Annotated[FinishBody | None, Body()] = None) -> Response[TaskOut]:
    comment = body.comment if body else None
    return task_response(_service().finish(taskId, "abandoned", comment, if_match(router.current_event))[0])


lambda_handler = lambda_entry(router)


class BulkBody(BaseModel):
    model_config = INPUT
    taskIds: list[Id] = Field(min_length=1, max_length=bulk.MAX_TASKS)
    userId: Id | None = None
    comment: str | None = Field(default=None, max_length=2048)
    atomic: bool = False


@router.handles("bulk_action", summary="One action on up to 100 tasks", tags=["Tasks"])
def bulk_action(action: Annotated[Literal[bulk.ACTIONS], SEGMENT, Path()],  # type: ignore[valid-type]
                body: Annotated[BulkBody, Body()]) -> dict[str, Any]:
    """Each task gets its own conditional write and the status its single action would answer;
    `atomic: true` applies all or none in one transaction (at most 32 tasks; 409 naming the
    first task that refused)."""
    caller = current_caller(router.current_event)
    results = bulk.run(get_dynamo(), caller, action, body.taskIds, body.userId, body.comment, body.atomic)
    items: list[dict[str, Any]] = []
    for r in results:
        item: dict[str, Any] = {"taskId": r.task_id, "status": r.status}
        if r.task is not None:  # TaskOut is the Task as it is (a Task's dump is a TaskOut's)
            item["task"] = r.task.model_dump()
        if r.error is not None:
            item["error"] = NATIVE.render(r.error)[1]
        items.append(item)
    return {"results": items}
