"""Writes `events/`: one sample API Gateway HTTP API v2 event per route of the route table,
against the data `tests.support.seed()` creates. Run: `.venv/bin/python -m tests.gen_events`."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from baton.routes import ROUTES, Route
from baton_local.events import claims_for, http_event
from tests.support import TENANT

EVENTS = Path(__file__).resolve().parents[1] / "events"
VALUES = {"taskId": "t1", "userId": "erin", "groupId": "crew", "prjUid": "p2", "actUid": "a2",
          "workspace": TENANT, "prj_uid": "prj", "act_uid": "act", "aas_uid": "alice",
          "asset": "inbox.js", "action": "claim"}
PM = "/api/1.0/{workspace}/project/{prj_uid}/activity/{act_uid}"
PM_WRITER = ["PM_FACTORY"]
SAMPLES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/operations-manager/tasks/{taskId}/claim"): {"user": "alice", "expect": 200},
    ("POST", "/operations-manager/tasks/{taskId}/release"): {"user": "alice", "expect": 409},
    ("POST", "/operations-manager/tasks/{taskId}/assign"): {"body": {"userId": "bob"}, "expect": 200},
    ("POST", "/api/v1/tasks"): {"body": {"id": "t9", "name": "Sample", "candidateGroups": ["ops"]},
                                "roles": ["apiwrite"], "expect": 201},
    ("GET", "/api/v1/tasks"): {"query": {"candidate": "me", "status": "open", "limit": "10"}, "expect": 200},
    ("POST", "/api/v1/tasks/claim-next"): {"body": {"groupId": "ops"}, "expect": 200},
    ("GET", "/api/v1/tasks/{taskId}"): {"expect": 200},
    ("GET", "/api/v1/tasks/{taskId}/history"): {"expect": 200},
    ("PATCH", "/api/v1/tasks/{taskId}"): {"body": {"priority": 80}, "roles": ["apiwrite"], "expect": 200},
    ("GET", "/api/v1/audit"): {"user": "root", "roles": ["admin"], "query": {"limit": "10"}, "expect": 200},
    ("POST", "/api/v1/tasks/{taskId}/action/claim"): {"user": "alice", "body": {"leaseSeconds": 300},
                                                      "expect": 200},
    ("POST", "/api/v1/tasks/{taskId}/action/release"): {"user": "alice", "expect": 409},
    ("POST", "/api/v1/tasks/{taskId}/action/accept"): {"user": "alice", "expect": 409},  # not offered to alice
    ("POST", "/api/v1/tasks/{taskId}/action/reject"): {"user": "alice", "expect": 409},
    ("POST", "/api/v1/tasks/{taskId}/action/heartbeat"): {"user": "alice", "body": {"leaseSeconds": 60},
                                                          "expect": 409},
    ("POST", "/api/v1/tasks/{taskId}/action/complete"): {"user": "root", "roles": ["admin"],
                                                         "body": {"comment": "done"}, "expect": 200},
    ("POST", "/api/v1/tasks/{taskId}/action/abandon"): {"user": "root", "roles": ["admin"], "expect": 200},
    ("POST", "/api/v1/task-actions/{action}"): {"user": "alice", "body": {"taskIds": ["t1", "t2"]}, "expect": 200},
    ("PUT", "/api/v1/users/{userId}"): {"body": {"username": "erin", "firstname": "Erin"},
                                        "roles": ["admin"], "expect": 201},
    ("PUT", "/api/v1/users/{userId}/presence"): {"user": "alice", "params": {"userId": "alice"},
                                                 "body": {"status": "away"}, "expect": 200},
    ("PUT", "/api/v1/users/{userId}/absence"): {
        "user": "alice", "params": {"userId": "alice"}, "expect": 200,
        "body": {"from": "2026-12-20T00:00:00Z", "until": "2027-01-05T00:00:00Z", "delegateTo": "bob",
                 "mode": "redirect"}},
    ("DELETE", "/api/v1/users/{userId}/absence"): {"user": "alice", "params": {"userId": "alice"}, "expect": 200},
    ("POST", "/api/v1/users/{userId}/offboard"): {
        "user": "root", "roles": ["admin"], "params": {"userId": "alice"}, "body": {"to": "bob"}, "expect": 200},
    ("GET", "/api/v1/users"): {"query": {"filter": "ali"}, "expect": 200},
    ("GET", "/api/v1/groups/{groupId}/stats"): {"params": {"groupId": "ops"}, "expect": 200},
    ("PUT", "/api/v1/groups/{groupId}"): {"body": {"name": "Crew", "members": ["alice"]}, "roles": ["admin"],
                                          "expect": 201},
    ("PUT", "/api/v1/projects/{prjUid}/activities/{actUid}"): {"body": {"name": "Review", "type": "task"},
                                                               "roles": ["admin"], "expect": 201},
    ("GET", PM + "/assignee"): {"expect": 200},
    ("GET", PM + "/assignee/paged"): {"query": {"filter": "ali", "start": "0", "limit": "10"}, "expect": 200},
    ("GET", PM + "/assignee/all"): {"expect": 200},
    ("GET", PM + "/assignee/{aas_uid}"): {"expect": 200},
    ("GET", PM + "/available-assignee"): {"expect": 200},
    ("GET", PM + "/available-assignee/paged"): {"query": {"start": "0", "limit": "2"}, "expect": 200},
    ("POST", PM + "/assignee"): {"body": {"aas_uid": "carol", "aas_type": "user"}, "roles": PM_WRITER,
                                 "expect": 201},
    ("DELETE", PM + "/assignee/{aas_uid}"): {"roles": PM_WRITER, "expect": 200},
    ("POST", "/workspaces/secure/api/v1/txn/unassign"): {"body": {"params": {"submitKey": "t1"}}, "expect": 200},
    ("POST", "/workspaces/secure/api/v1/txn/assign"): {"body": {"params": {"submitKey": "t1"}}, "expect": 200},
    ("POST", "/api/v1/tasks/{taskId}/action/reassign"): {
        "user": "root", "roles": ["admin"], "expect": 200,
        "body": {"comment": "over to bob", "newStepUserIds": ["bob"], "expandMask": {"paths": ["*"]}}},
    ("POST", "/api/v1/tasks/{taskId}/action/delegate"): {
        "user": "root", "roles": ["admin"], "params": {"taskId": "t2"}, "expect": 409,
        "body": {"userId": "bob", "comment": "please check the figures"}},
    ("POST", "/api/v1/tasks/{taskId}/action/resolve"): {
        "user": "root", "roles": ["admin"], "params": {"taskId": "t2"}, "expect": 409, "body": {"comment": "done"}},
    ("POST", "/api/v1/tasks/{taskId}/action/approve"): {
        "user": "root", "roles": ["admin"], "expect": 200, "body": {"policyStepId": "step", "comment": "looks good"}},
    ("POST", "/api/v1/tasks/{taskId}/action/deny"): {
        "user": "root", "roles": ["admin"], "expect": 200, "body": {"policyStepId": "step", "comment": "not now"}},
    # sign-in samples stop at validation (the real flows are tested over HTTP: test_vendor_clients)
    ("POST", "/oauth/token"): {"body": {"grant_type": "client_credentials", "client_id": "itential"}, "expect": 400},
    ("POST", "/login"): {"body": {"user": {"username": "alice"}}, "expect": 400},
    ("POST", "/{workspace}/oauth2/token"): {"body": {"grant_type": "authorization_code"}, "expect": 400},
    ("GET", "/openapi.json"): {"expect": 200},
    ("GET", "/swagger"): {"expect": 200},
    ("GET", "/swagger/{asset}"): {"params": {"asset": "swagger-init.js"}, "expect": 200},
    ("GET", "/"): {"expect": 200},
    ("GET", "/inbox/{asset}"): {"expect": 200},
    ("GET", "/health"): {"expect": 200},
}


def file_name(route: Route) -> Path:
    slug = re.sub(r"[^a-z0-9]+", "-", route.path.lower()).strip("-") or "root"
    return EVENTS / route.family / f"{route.method.lower()}-{slug}.json"


def sample(route: Route) -> dict[str, Any]:
    spec = SAMPLES[(route.method, route.path)]
    values: dict[str, str] = {**VALUES, **spec.get("params", {})}
    path = re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), m.group(1)), route.path)
    claims = claims_for(spec.get("user", "alice"), TENANT, spec.get("roles", ["operations"])) if route.auth else None
    event = http_event(route.method, path, route=route, body=spec.get("body"), query=spec.get("query"),
                       claims=claims)
    event["requestContext"]["requestId"] = "sample"
    event["requestContext"]["timeEpoch"] = 0
    event["requestContext"]["time"] = "01/Jan/2026:00:00:00 +0000"
    return event


def main() -> None:
    for route in ROUTES:
        target = file_name(route)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(sample(route), indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
