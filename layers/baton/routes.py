"""The route table: the single source for the CDK stack, the local server and the OpenAPI
document. Each entry names the function (API family) that serves it; `auth=False` routes
are the public ones (no JWT authorizer); `page=True` routes serve the browser pages (the inbox
and Swagger UI) and their assets, and are left out of the OpenAPI document."""

from __future__ import annotations

import re
from dataclasses import dataclass

from baton.domain import PM_ROLES, ROLE_ADMIN, WORK_ROLES, WRITE_ROLES

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
    name: str  # the handler's name in its family's module (`FamilyRouter.handles`)
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
    def pattern(self) -> re.Pattern[str]:
        return re.compile("^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(self.path)) + "$")


ROUTES: tuple[Route, ...] = (
    # Itential: claim, release, assign
    Route("POST", "/operations-manager/tasks/{taskId}/claim", "itential", name="claim", roles=WORK_ROLES,
          dynamodb=TASK_ACTION),
    Route("POST", "/operations-manager/tasks/{taskId}/release", "itential", name="release", roles=WORK_ROLES,
          dynamodb=TASK_ACTION),
    Route("POST", "/operations-manager/tasks/{taskId}/assign", "itential", name="assign", roles=WORK_ROLES,
          dynamodb=TASK_ACTION),
    # Native tasks
    Route("POST", "/api/v1/tasks", "tasks", name="create_task",
          roles=WRITE_ROLES, ok=(201, 200), dynamodb=_actions("Query", "PutItem")),
    Route("GET", "/api/v1/tasks", "tasks", name="list_tasks", dynamodb=_actions("Query", "BatchGetItem")),
    Route("POST", "/api/v1/tasks/claim-next", "tasks", name="claim_next", roles=WORK_ROLES, ok=(200, 204),
          dynamodb=TASK_ACTION | _actions("Query")),
    Route("GET", "/api/v1/tasks/{taskId}", "tasks", name="get_task", dynamodb=_actions("GetItem")),
    Route("PATCH", "/api/v1/tasks/{taskId}", "tasks", name="update_task", roles=WRITE_ROLES, dynamodb=TASK_ACTION),
    Route("GET", "/api/v1/tasks/{taskId}/history", "tasks", name="task_history", dynamodb=_actions("GetItem", "Query")),
    Route("POST", "/api/v1/tasks/{taskId}/action/claim", "tasks", name="claim", roles=WORK_ROLES, dynamodb=TASK_ACTION),
    Route("POST", "/api/v1/tasks/{taskId}/action/accept", "tasks", name="accept", roles=WORK_ROLES,
          dynamodb=TASK_ACTION | _actions("GetItem")),  # an offer, as a claim
    Route("POST", "/api/v1/tasks/{taskId}/action/reject", "tasks", name="reject", roles=WORK_ROLES,
          dynamodb=TASK_ACTION),
    Route("POST", "/api/v1/tasks/{taskId}/action/release", "tasks", name="release",
          roles=WORK_ROLES, dynamodb=TASK_ACTION),
    Route("POST", "/api/v1/tasks/{taskId}/action/heartbeat", "tasks", name="heartbeat",
          roles=WORK_ROLES, dynamodb=TASK_ACTION),
    Route("POST", "/api/v1/tasks/{taskId}/action/delegate", "tasks", name="delegate",
          roles=WORK_ROLES, dynamodb=TASK_ACTION),
    Route("POST", "/api/v1/tasks/{taskId}/action/resolve", "tasks", name="resolve",
          roles=WORK_ROLES, dynamodb=TASK_ACTION),
    Route("POST", "/api/v1/tasks/{taskId}/action/complete", "tasks", name="complete",
          roles=WORK_ROLES, dynamodb=TASK_ACTION),
    Route("POST", "/api/v1/tasks/{taskId}/action/abandon", "tasks", name="abandon",
          roles=WORK_ROLES, dynamodb=TASK_ACTION),
    Route("POST", "/api/v1/task-actions/{action}", "tasks", name="bulk_action", roles=WORK_ROLES,  # bulk
          dynamodb=TASK_ACTION),
    # The tenant audit: every ledger event in a time window (the audit index, month by month)
    Route("GET", "/api/v1/audit", "tasks", name="audit", roles=frozenset({ROLE_ADMIN}), dynamodb=_actions("Query")),
    # Native directory
    Route("PUT", "/api/v1/users/{userId}", "directory", name="put_user", roles=WRITE_ROLES, ok=(201, 200),
          dynamodb=_actions("BatchGetItem", "UpdateItem", "PutItem", "DeleteItem")),  # a rename moves rows
    Route("PUT", "/api/v1/users/{userId}/presence", "directory", name="put_presence", roles=WORK_ROLES,
          dynamodb=_actions("UpdateItem", "BatchGetItem")),  # the user itself, or admin/apiwrite
    Route("PUT", "/api/v1/users/{userId}/absence", "directory", name="put_absence", roles=WORK_ROLES,
          dynamodb=_actions("BatchGetItem", "GetItem", "UpdateItem", "PutItem", "ConditionCheckItem")),  # self or admin
    Route("DELETE", "/api/v1/users/{userId}/absence", "directory", name="end_absence", roles=WORK_ROLES,
          dynamodb=_actions("BatchGetItem", "GetItem", "UpdateItem", "PutItem", "ConditionCheckItem")),
    # Offboarding: the user inactive, out of its groups, its tasks moved (tasks.offboarding)
    Route("POST", "/api/v1/users/{userId}/offboard", "directory", name="offboard", roles=frozenset({ROLE_ADMIN}),
          dynamodb=TASK_ACTION | _actions("Query", "GetItem")),
    Route("GET", "/api/v1/users", "directory", name="list_users", dynamodb=_actions("Query", "BatchGetItem")),
    Route("GET", "/api/v1/groups/{groupId}/stats", "directory", name="group_stats",
          dynamodb=_actions("GetItem", "BatchGetItem", "Query")),
    Route("GET", "/api/v1/groups/{groupId}/tasks", "directory", name="group_tasks",  # admin or a lead of it
          dynamodb=_actions("GetItem", "BatchGetItem", "Query")),
    Route("PUT", "/api/v1/groups/{groupId}", "directory", name="put_group", roles=WRITE_ROLES, ok=(201, 200),
          dynamodb=_actions("GetItem", "PutItem", "UpdateItem", "DeleteItem")),
    Route("PUT", "/api/v1/projects/{prjUid}/activities/{actUid}", "directory", name="put_activity",
          roles=WRITE_ROLES, ok=(201, 200),
          dynamodb=_actions("UpdateItem")),
    # ProcessMaker: activity assignees (static paths before the {aas_uid} one)
    Route("GET", PM + "/assignee", "processmaker", name="assignees", dynamodb=ASSIGNEE_READ),
    Route("GET", PM + "/assignee/paged", "processmaker", name="assignees_paged", dynamodb=ASSIGNEE_READ),
    Route("GET", PM + "/assignee/all", "processmaker", name="all_users", dynamodb=ASSIGNEE_READ),
    Route("GET", PM + "/assignee/{aas_uid}", "processmaker", name="one", dynamodb=ASSIGNEE_READ),
    Route("GET", PM + "/available-assignee", "processmaker", name="available", dynamodb=ASSIGNEE_READ),
    Route("GET", PM + "/available-assignee/paged", "processmaker", name="available_paged", dynamodb=ASSIGNEE_READ),
    Route("POST", PM + "/assignee", "processmaker", name="assign", roles=PM_ROLES, ok=(201,),
          dynamodb=_actions("BatchGetItem", "UpdateItem", "ConditionCheckItem", "PutItem")),
    Route("DELETE", PM + "/assignee/{aas_uid}", "processmaker", name="remove", roles=PM_ROLES,
          dynamodb=_actions("BatchGetItem", "UpdateItem", "ConditionCheckItem", "DeleteItem", "PutItem")),
    # Journey Manager: transactions
    Route("POST", "/workspaces/secure/api/v1/txn/unassign", "journey", name="unassign",
          roles=WORK_ROLES, dynamodb=TASK_ACTION),
    Route("POST", "/workspaces/secure/api/v1/txn/assign", "journey", name="assign",
          roles=WORK_ROLES, dynamodb=TASK_ACTION),
    # ConductorOne: reassign, approve and deny (a completion with outcome `approved` / `denied`)
    Route("POST", "/api/v1/tasks/{taskId}/action/reassign", "conductorone", name="reassign", roles=WORK_ROLES,
          dynamodb=TASK_ACTION),
    Route("POST", "/api/v1/tasks/{taskId}/action/approve", "conductorone", name="approve", roles=WORK_ROLES,
          dynamodb=TASK_ACTION),
    Route("POST", "/api/v1/tasks/{taskId}/action/deny", "conductorone", name="deny", roles=WORK_ROLES,
          dynamodb=TASK_ACTION),
    # Vendor sign-in: public, they hand out the tokens the authorizer accepts (no table access)
    Route("POST", "/oauth/token", "signin", name="oauth_token", auth=False),
    Route("POST", "/login", "signin", name="login", auth=False),
    Route("POST", "/{workspace}/oauth2/token", "signin", name="processmaker_token", auth=False),
    # Documentation, health and the browser pages: no authorizer
    Route("GET", "/openapi.json", "docs", name="openapi", auth=False),
    Route("GET", "/health", "docs", name="health", auth=False),
    Route("GET", "/swagger", "docs", name="swagger", auth=False, page=True),
    Route("GET", "/swagger/{asset}", "docs", name="swagger_asset", auth=False, page=True),
    Route("GET", "/", "docs", name="inbox", auth=False, page=True),
    Route("GET", "/inbox/{asset}", "docs", name="inbox_asset", auth=False, page=True),
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
