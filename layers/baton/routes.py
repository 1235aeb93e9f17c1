"""The route table: the single source for the CDK stack, the local server and the OpenAPI
document. Each entry names the function (API family) that serves it; `auth=False` routes
are the public ones (no JWT authorizer); `page=True` routes serve the browser pages (the inbox
and Swagger UI) and their assets, and are left out of the OpenAPI document."""

from __future__ import annotations

import re
from dataclasses import dataclass

from baton.domain import PM_ROLES, WORK_ROLES, WRITE_ROLES

PM = "/api/1.0/{workspace}/project/{prj_uid}/activity/{act_uid}"


def _actions(*names: str) -> frozenset[str]:
    return frozenset(names)


# A task action: read the task and users (BatchGetItem), one transaction (Put task + history,
# ConditionCheck a membership, Put/Delete its queue entries), or the direct claim's single UpdateItem.
TASK_ACTION = _actions("BatchGetItem", "PutItem", "ConditionCheckItem", "UpdateItem", "DeleteItem")
# (GetItem: whether an unknown activity's project exists, and the activity of a users-only page)
ASSIGNEE_READ = _actions("Query", "BatchGetItem", "GetItem")


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    family: str
    auth: bool = True
    # The roles of API.md that may call it (None: any authenticated caller of the tenant).
    # The services enforce them; the authorization-matrix test checks both agree.
    roles: frozenset[str] | None = None
    # The success statuses it answers with (the OpenAPI document declares exactly these).
    ok: tuple[int, ...] = (200,)
    # A page or asset for browsers (public, not an API operation: not in the OpenAPI document).
    page: bool = False
    # The DynamoDB actions (IAM names) its function performs for it: the CDK stack grants each
    # function exactly the union over its routes (a transaction needs the actions of its parts:
    # PutItem, UpdateItem, DeleteItem, ConditionCheckItem). tests/infra/test_least_privilege.py checks
    # that the sample request of each route stays within it.
    dynamodb: frozenset[str] = frozenset()

    @property
    def powertools_path(self) -> str:
        return re.sub(r"\{(\w+)\}", r"<\1>", self.path)

    @property
    def pattern(self) -> re.Pattern[str]:
        return re.compile("^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(self.path)) + "$")


ROUTES: tuple[Route, ...] = (
    # Itential: claim, release, assign
    Route("POST", "/operations-manager/tasks/{taskId}/claim", "itential", roles=WORK_ROLES,
          dynamodb=TASK_ACTION),
    Route("POST", "/operations-manager/tasks/{taskId}/release", "itential", roles=WORK_ROLES,
          dynamodb=TASK_ACTION),
    Route("POST", "/operations-manager/tasks/{taskId}/assign", "itential", roles=WORK_ROLES,
          dynamodb=TASK_ACTION),
    # Native tasks
    Route("POST", "/api/v1/tasks", "tasks", roles=WRITE_ROLES, ok=(201, 200), dynamodb=_actions("Query", "PutItem")),
    Route("GET", "/api/v1/tasks", "tasks", dynamodb=_actions("Query", "BatchGetItem")),
    Route("POST", "/api/v1/tasks/claim-next", "tasks", roles=WORK_ROLES, ok=(200, 204),
          dynamodb=TASK_ACTION | _actions("Query")),
    Route("GET", "/api/v1/tasks/{taskId}", "tasks", dynamodb=_actions("GetItem")),
    Route("GET", "/api/v1/tasks/{taskId}/history", "tasks", dynamodb=_actions("GetItem", "Query")),
    Route("POST", "/api/v1/tasks/{taskId}/action/claim", "tasks", roles=WORK_ROLES, dynamodb=TASK_ACTION),
    Route("POST", "/api/v1/tasks/{taskId}/action/release", "tasks", roles=WORK_ROLES, dynamodb=TASK_ACTION),
    Route("POST", "/api/v1/tasks/{taskId}/action/heartbeat", "tasks", roles=WORK_ROLES, dynamodb=TASK_ACTION),
    Route("POST", "/api/v1/tasks/{taskId}/action/complete", "tasks", roles=WORK_ROLES, dynamodb=TASK_ACTION),
    Route("POST", "/api/v1/tasks/{taskId}/action/abandon", "tasks", roles=WORK_ROLES, dynamodb=TASK_ACTION),
    Route("POST", "/api/v1/task-actions/{action}", "tasks", roles=WORK_ROLES,  # bulk (baton.bulk)
          dynamodb=TASK_ACTION),
    # Native directory
    Route("PUT", "/api/v1/users/{userId}", "directory", roles=WRITE_ROLES, ok=(201, 200),
          dynamodb=_actions("UpdateItem", "PutItem", "DeleteItem")),  # a rename moves assignment rows
    Route("GET", "/api/v1/users", "directory", dynamodb=_actions("Query")),
    Route("PUT", "/api/v1/groups/{groupId}", "directory", roles=WRITE_ROLES, ok=(201, 200),
          dynamodb=_actions("GetItem", "PutItem", "UpdateItem", "DeleteItem")),
    Route("PUT", "/api/v1/projects/{prjUid}/activities/{actUid}", "directory", roles=WRITE_ROLES, ok=(201, 200),
          dynamodb=_actions("UpdateItem")),
    # ProcessMaker: activity assignees (static paths before the {aas_uid} one)
    Route("GET", PM + "/assignee", "processmaker", dynamodb=ASSIGNEE_READ),
    Route("GET", PM + "/assignee/paged", "processmaker", dynamodb=ASSIGNEE_READ),
    Route("GET", PM + "/assignee/all", "processmaker", dynamodb=ASSIGNEE_READ),
    Route("GET", PM + "/assignee/{aas_uid}", "processmaker", dynamodb=ASSIGNEE_READ),
    Route("GET", PM + "/available-assignee", "processmaker", dynamodb=ASSIGNEE_READ),
    Route("GET", PM + "/available-assignee/paged", "processmaker", dynamodb=ASSIGNEE_READ),
    Route("POST", PM + "/assignee", "processmaker", roles=PM_ROLES, ok=(201,),
          dynamodb=_actions("BatchGetItem", "UpdateItem", "ConditionCheckItem", "PutItem")),
    Route("DELETE", PM + "/assignee/{aas_uid}", "processmaker", roles=PM_ROLES,
          dynamodb=_actions("BatchGetItem", "UpdateItem", "ConditionCheckItem", "DeleteItem")),
    # Journey Manager: transactions
    Route("POST", "/workspaces/secure/api/v1/txn/unassign", "journey", roles=WORK_ROLES, dynamodb=TASK_ACTION),
    Route("POST", "/workspaces/secure/api/v1/txn/assign", "journey", roles=WORK_ROLES, dynamodb=TASK_ACTION),
    # ConductorOne: reassign
    Route("POST", "/api/v1/tasks/{taskId}/action/reassign", "conductorone", roles=WORK_ROLES,
          dynamodb=TASK_ACTION),
    # Vendor sign-in: public, they hand out the tokens the authorizer accepts (no table access)
    Route("POST", "/oauth/token", "signin", auth=False),
    Route("POST", "/login", "signin", auth=False),
    Route("POST", "/{workspace}/oauth2/token", "signin", auth=False),
    # Documentation, health and the browser pages: no authorizer
    Route("GET", "/openapi.json", "docs", auth=False),
    Route("GET", "/health", "docs", auth=False),
    Route("GET", "/swagger", "docs", auth=False, page=True),
    Route("GET", "/swagger/{asset}", "docs", auth=False, page=True),
    Route("GET", "/", "docs", auth=False, page=True),
    Route("GET", "/inbox/{asset}", "docs", auth=False, page=True),
)

FAMILIES: tuple[str, ...] = tuple(dict.fromkeys(r.family for r in ROUTES))


def match(method: str, path: str) -> tuple[Route | None, bool]:
    """The route for a request, and whether the path exists under another method."""
    path_known = False
    for route in ROUTES:
        if route.pattern.match(path):
            if route.method == method:
                return route, True
            path_known = True
    return None, path_known
