"""`overdue=true` with every other parameter of `GET /api/v1/tasks` (API.md "Time: escalation
ladders"): a queue, one group's queue, a priority range, an inbox, a user's tasks of any status,
the tenant's tasks, a search by id (`q`) and a case's tasks (`caseId`, with its paging). Overdue
means open and past the `dueDate` or with a fired escalation step; a finished task never is.
Time moves through baton.clock. Tests taking `backend` run again on DynamoDB Local."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from baton import clock
from baton.storage.dynamo import get_dynamo
from baton.tasks.sweeper import Sweeper
from tests.support import ADMIN, call, claim, create_task, native, seed

pytestmark = pytest.mark.usefixtures("controlled_clock")
HOUR = 3600
OURS = {"past-a", "past-b", "future", "escal", "done-late", "held-past", "plain"}


@pytest.fixture(autouse=True)
def tasks(backend: str, controlled_clock: None) -> None:
    seed()
    soon = clock.stamp(clock.current() + timedelta(hours=1))
    later = clock.stamp(clock.current() + timedelta(days=10))
    create_task("past-a", candidateGroups=["ops"], dueDate=soon, caseId="c1", priority=80)
    create_task("past-b", candidateUsers=["alice"], dueDate=soon, caseId="c1", priority=20)
    create_task("future", candidateGroups=["ops"], dueDate=later, caseId="c1")
    create_task("escal", candidateGroups=["ops"], caseId="c2",
                escalations=[{"id": "ping", "after": "PT30M", "action": "notify"}])
    create_task("done-late", candidateGroups=["ops"], dueDate=soon, caseId="c1")
    create_task("held-past", candidateGroups=["ops"], dueDate=soon, caseId="c1")
    create_task("plain", candidateGroups=["ops"], caseId="c1")
    assert claim("done-late", "alice").status == 200 and claim("held-past", "alice").status == 200
    clock.advance(2 * HOUR)
    assert native("complete", "done-late", "alice").status == 200  # completed past its due date
    assert Sweeper(get_dynamo()).sweep().fired == 1  # escal's step fires: overdue without a dueDate


def listed(user: str = "alice", **query: str) -> list[str]:
    r = call("GET", "/api/v1/tasks", query={"overdue": "true", **query}, user=user,
             roles=ADMIN if user == "root" else ("operations",))
    assert r.status == 200, r
    return [t["id"] for t in r.body["items"] if t["id"] in OURS]


def test_overdue_with_a_queue_a_group_and_a_priority_range() -> None:
    assert listed(candidate="me") == ["past-a", "escal", "past-b"]  # queue order: priority first
    assert listed(candidate="me", status="open") == ["past-a", "escal", "past-b"]
    assert listed(group="ops") == ["past-a", "escal"]  # past-b is offered to alice only
    assert listed(candidate="me", group="ops") == ["past-a", "escal"]
    assert listed(candidate="me", priorityMin="60") == ["past-a"]
    assert listed(candidate="me", priorityMax="40") == ["past-b"]
    assert listed(candidate="me", limit="1") == ["past-a"]  # a filtered page still holds `limit` items


def test_overdue_with_an_inbox_a_user_s_tasks_and_the_tenant_s() -> None:
    assert listed(assignee="me", status="open") == ["held-past"]
    assert listed(assignee="alice") == ["held-past"]  # every status: done-late is finished, not overdue
    assert listed(assignee="alice", status="completed") == []
    assert sorted(listed("root")) == ["escal", "held-past", "past-a", "past-b"]
    assert listed("root", status="completed") == []


def test_overdue_with_a_search_by_id() -> None:
    assert listed(candidate="me", q="past-a") == ["past-a"]
    assert listed(candidate="me", q="future") == []  # in the queue, not overdue
    assert listed(candidate="me", q="plain") == []
    assert listed(assignee="alice", q="held-past") == ["held-past"]
    assert listed(assignee="alice", q="done-late") == []  # finished: never overdue
    assert listed("root", q="escal") == ["escal"]


def test_overdue_with_a_case_and_its_paging() -> None:
    assert listed(caseId="c1") == ["held-past", "past-a", "past-b"]  # creation order (at one time: by id)
    assert listed(caseId="c2") == ["escal"]
    seen: list[str] = []
    cursor: str | None = None
    for _ in range(10):
        query: dict[str, Any] = {"overdue": "true", "caseId": "c1", "limit": "1", **({"cursor": cursor} if cursor
                                                                                   else {})}
        r = call("GET", "/api/v1/tasks", query=query, user="alice")
        assert r.status == 200 and len(r.body["items"]) <= 1, r
        seen += [t["id"] for t in r.body["items"]]
        cursor = r.body["cursor"]
        if cursor is None:
            break
    assert seen == ["held-past", "past-a", "past-b"]
    every = call("GET", "/api/v1/tasks", query={"caseId": "c1"}, user="alice").body["items"]
    assert {t["id"] for t in every} == {"past-a", "past-b", "future", "done-late", "held-past", "plain"}
    r = call("GET", "/api/v1/tasks", query={"caseId": "c1", "overdue": "true", "status": "open"}, user="alice")
    assert r.status == 400 and "caseId" in r.body["message"], r
