"""Demo data for tenant `workflow`, loaded once through the domain services.

Two kinds of group: the directory's groups (`ops`, `eng`: who a task is offered to) and the
roles (`cognito:groups` in a token: what a caller may do). README.md spells both out. Round 3's
people and time show in the service desk: a group that routes its tasks round-robin (`desk`), a
member away for two weeks whose work goes to the other (frank, erin stands in), and a task whose
escalation ladder raises its priority two minutes after the demo is loaded."""

from __future__ import annotations

from typing import Any

from baton import clock
from baton.activities.domain import Activity
from baton.activities.service import ActivityService, AssigneeService
from baton.directory.absence import Absence
from baton.directory.domain import Group, Routing, User
from baton.directory.repository import DirectoryRepository
from baton.directory.service import DirectoryService
from baton.domain import Caller, utc_timestamp
from baton.storage.dynamo import Dynamo
from baton.tasks.service import TaskService

TENANT = "workflow"
USERS = [
    User(id="alice", username="alice", firstname="Alice", lastname="Archer", email="alice@example.com"),
    User(id="bob", username="bob", firstname="Bob", lastname="Baker", email="bob@example.com"),
    User(id="carol", username="carol", firstname="Carol", lastname="Cruz", email="carol@example.com"),
    User(id="dave", username="dave", firstname="Dave", lastname="Díaz", email="dave@example.com"),
    User(id="admin", username="admin", firstname="Ada", lastname="Admin", email="admin@example.com"),
    User(id="erin", username="erin", firstname="Erin", lastname="Ekberg", email="erin@example.com"),
    User(id="frank", username="frank", firstname="Frank", lastname="Fox", email="frank@example.com"),
]
GROUPS = [Group(id="ops", name="Operations", members=["alice", "bob"]),
          Group(id="eng", name="Engineering", members=["carol", "dave"]),
          Group(id="desk", name="Service desk", members=["erin", "frank"], routing=Routing(strategy="round-robin"))]
AWAY = "frank"  # away from the demo's loading for two weeks; erin stands in (redirect)
AWAY_DAYS = 14
ACTIVITIES = [Activity(projectId="onboarding", id="review", name="Review request", type="task"),
              Activity(projectId="onboarding", id="provision", name="Provision account", type="task"),
              Activity(projectId="onboarding", id="notify", name="Notify requester", type="subprocess")]
# The roles each demo user signs in with (the inbox's demo sign-in; `baton token --roles` for curl).
ROLES: dict[str, list[str]] = {
    "alice": ["operations"], "bob": ["operations"], "carol": ["engineering"],
    "dave": ["engineering", "PM_FACTORY"], "admin": ["admin"], "erin": ["operations"], "frank": ["operations"],
}
# Who may work on each ProcessMaker activity: copied into the candidates of tasks created for it.
ASSIGNEES: dict[tuple[str, str], list[tuple[str, str]]] = {
    ("onboarding", "review"): [("ops", "group"), ("carol", "user")],
    ("onboarding", "provision"): [("eng", "group")],
}
TASKS: list[dict[str, Any]] = [
    {"id": "task-1", "name": "Review access request #1", "candidateGroups": ["ops"]},
    {"id": "task-2", "name": "Review access request #2", "candidateGroups": ["ops"], "priority": 80,
     "dueDate": utc_timestamp("2026-12-01T17:00:00Z")},
    {"id": "task-3", "name": "Provision laptop", "candidateUsers": ["carol"], "candidateGroups": ["eng"]},
    {"id": "task-4", "name": "Rotate credentials", "candidateUsers": ["alice", "bob", "carol"], "priority": 90,
     "dueDate": utc_timestamp("2026-11-30T12:00:00Z"),
     "policy": {"allowedReassignees": ["alice", "bob", "carol"], "requireReassignmentReason": True}},
    {"id": "task-5", "name": "Nightly sync", "type": "automatic"},
    {"id": "task-6", "name": "Review contractor access", "projectId": "onboarding", "activityId": "review"},
    # routed to a member of `desk` by the router (round-robin); frank is away: erin
    {"id": "task-7", "name": "Reset a password", "candidateGroups": ["desk"]},
    # frank's, shown to erin who stands in; unclaimed two minutes after loading, its priority goes up
    {"id": "task-8", "name": "Approve refund #7", "candidateUsers": ["frank"], "priority": 40,
     "escalations": [{"id": "nudge", "after": "PT2M", "unless": "claimed", "action": "raise-priority",
                      "priority": 95}]},
]


def load(store: Dynamo) -> bool:
    """Load the demo data unless it is there already; True when loaded now."""
    if DirectoryRepository(store).users(TENANT, ["admin"]):
        return False
    admin = Caller(user_id="admin", username="admin", tenant=TENANT, roles=frozenset({"admin"}))
    directory = DirectoryService(store, admin)
    for user in USERS:
        directory.put_user(user)
    for group in GROUPS:
        directory.put_group(group)
    away = Absence.model_validate({"from": clock.stamp(), "until": clock.after(AWAY_DAYS * 86_400),
                                   "delegateTo": "erin", "mode": "redirect"})
    directory.set_absence(AWAY, away)
    for activity in ACTIVITIES:
        ActivityService(store, admin).put_activity(activity)
    for (project, activity_id), assignees in ASSIGNEES.items():
        activity_assignees = AssigneeService(store, admin, TENANT, project, activity_id)
        for uid, kind in assignees:
            activity_assignees.add(uid, kind)
    tasks = TaskService(store, admin)
    for body in TASKS:
        tasks.create(body)
    return True
