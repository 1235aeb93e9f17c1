"""A Baton task as an Itential task document (the fields of the claim and release pages)."""

from __future__ import annotations

from typing import Any

from baton.tasks.domain import Task

ITENTIAL_STATUS = {"open": "running", "completed": "complete", "abandoned": "canceled"}


def _metrics(task: Task) -> dict[str, Any]:
    """`user`: who holds it; `owner`: whose it is: a delegated task's owner (who delegated it,
    tasks.delegation), else its creator."""
    metrics: dict[str, Any] = {"start_time": task.createdAt, "server_id": "baton", "retrying": False,
                               "user": task.assignee or "", "owner": task.owner or task.createdBy or ""}
    if task.status != "open":
        metrics.update(end_time=task.updatedAt, finish_state="success" if task.status == "completed" else "canceled")
    return metrics


def document(task: Task) -> dict[str, Any]:
    """The task as an Itential task document, with Baton's own fields alongside. Where both name a
    field, Itential's meaning wins: `status` is Itential's (`running` while open, `complete`,
    `canceled`); Baton's is on the native routes."""
    return {
        **task.model_dump(),
        "_id": task.id, "name": task.name, "location": "Application", "app": "Baton", "view": "",
        "status": ITENTIAL_STATUS[task.status], "type": task.type, "variables": {}, "last_updated": task.updatedAt,
        "encodingVersion": 1, "incomingRefs": [], "groups": list(task.candidateGroups),
        "job": {"_id": task.caseId or task.projectId or "", "task": task.activityId or "", "name": task.name,
                "description": task.description, "ancestors": []},
        "metrics": _metrics(task),
    }
