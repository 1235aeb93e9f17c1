"""The route table: the single source for the CDK stack, the local server and the OpenAPI
document. Each entry names the function (API family) that serves it; `auth=False` routes
are the public ones (no JWT authorizer)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from baton.domain import PM_ROLES, WORK_ROLES, WRITE_ROLES

PM = "/api/1.0/{workspace}/project/{prj_uid}/activity/{act_uid}"


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

    @property
    def powertools_path(self) -> str:
        return re.sub(r"\{(\w+)\}", r"<\1>", self.path)

    @property
    def pattern(self) -> re.Pattern[str]:
        return re.compile("^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(self.path)) + "$")


ROUTES: tuple[Route, ...] = (
    # Itential: claim, release, assign
    Route("POST", "/operations-manager/tasks/{taskId}/claim", "itential", roles=WORK_ROLES),
    Route("POST", "/operations-manager/tasks/{taskId}/release", "itential", roles=WORK_ROLES),
    Route("POST", "/operations-manager/tasks/{taskId}/assign", "itential", roles=WORK_ROLES),
    # Native tasks
    Route("POST", "/api/v1/tasks", "tasks", roles=WRITE_ROLES, ok=(201, 200)),
    Route("GET", "/api/v1/tasks", "tasks"),
    Route("POST", "/api/v1/tasks/claim-next", "tasks", roles=WORK_ROLES, ok=(200, 204)),
    Route("GET", "/api/v1/tasks/{taskId}", "tasks"),
    Route("GET", "/api/v1/tasks/{taskId}/history", "tasks"),
    Route("POST", "/api/v1/tasks/{taskId}/action/complete", "tasks", roles=WORK_ROLES),
    Route("POST", "/api/v1/tasks/{taskId}/action/abandon", "tasks", roles=WORK_ROLES),
    Route("POST", "/api/v1/task-actions/{action}", "tasks", roles=WORK_ROLES),  # bulk (baton.bulk)
    # Native directory
    Route("PUT", "/api/v1/users/{userId}", "directory", roles=WRITE_ROLES, ok=(201, 200)),
    Route("GET", "/api/v1/users", "directory"),
    Route("PUT", "/api/v1/groups/{groupId}", "directory", roles=WRITE_ROLES, ok=(201, 200)),
    Route("PUT", "/api/v1/projects/{prjUid}/activities/{actUid}", "directory", roles=WRITE_ROLES, ok=(201, 200)),
    # ProcessMaker: activity assignees (static paths before the {aas_uid} one)
    Route("GET", PM + "/assignee", "processmaker"),
    Route("GET", PM + "/assignee/paged", "processmaker"),
    Route("GET", PM + "/assignee/all", "processmaker"),
    Route("GET", PM + "/assignee/{aas_uid}", "processmaker"),
    Route("GET", PM + "/available-assignee", "processmaker"),
    Route("GET", PM + "/available-assignee/paged", "processmaker"),
    Route("POST", PM + "/assignee", "processmaker", roles=PM_ROLES, ok=(201,)),
    Route("DELETE", PM + "/assignee/{aas_uid}", "processmaker", roles=PM_ROLES),
    # Journey Manager: transactions
    Route("POST", "/workspaces/secure/api/v1/txn/unassign", "journey", roles=WORK_ROLES),
    Route("POST", "/workspaces/secure/api/v1/txn/assign", "journey", roles=WORK_ROLES),
    # ConductorOne: reassign
    Route("POST", "/api/v1/tasks/{taskId}/action/reassign", "conductorone", roles=WORK_ROLES),
    # Documentation and health: no authorizer
    Route("GET", "/openapi.json", "docs", auth=False),
    Route("GET", "/swagger", "docs", auth=False),
    Route("GET", "/health", "docs", auth=False),
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
