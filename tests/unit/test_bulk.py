"""Bulk actions: `POST /api/v1/task-actions/{action}`: per-item results with the status each
single action would give, `atomic: true` all or none in one transaction, the limits (the cost at
100 tasks is measured on DynamoDB Local: tests/integration/test_bulk_cost.py)."""

from __future__ import annotations

from typing import Any

import pytest

from baton.tasks.bulk import MAX_ATOMIC_TASKS
from tests.support import ADMIN, bulk, call, claim, get_task, history, seed
from tests.support import create_task as create

pytestmark = pytest.mark.usefixtures("backend")
ROOT: dict[str, Any] = {"user": "root", "roles": ADMIN}


def scene(tenant: str) -> list[str]:
    """seed() plus a task held by bob and one nobody can claim: t1 group ops, t2 direct carol,
    t3 automatic, held (bob), free (alice direct), done (completed), and an unknown id."""
    seed(tenant)
    create("held", tenant, candidateGroups=["ops"])
    assert claim("held", "bob", tenant=tenant).status == 200
    create("free", tenant, candidateUsers=["alice"])
    create("done", tenant, candidateUsers=["alice"])
    assert call("POST", "/api/v1/tasks/done/action/complete", {}, tenant=tenant, **ROOT).status == 200
    return ["t1", "t2", "t3", "held", "free", "done", "nope"]


def test_each_item_gets_the_status_its_single_action_gives() -> None:
    tasks = scene("acme")
    scene("single")
    r = bulk("claim", {"taskIds": tasks})
    assert r.status == 200, r
    single = {t: claim(t, "alice", tenant="single") for t in tasks}
    got = {i["taskId"]: i for i in r.body["results"]}
    assert list(got) == tasks
    for task, one in single.items():
        assert got[task]["status"] == one.status, (task, got[task], one.body)
        if one.status == 200:
            assert got[task]["task"]["assignee"] == "alice" and "error" not in got[task]
        else:
            assert "task" not in got[task] and got[task]["error"]["message"] == one.body["message"]
    assert [got[t]["status"] for t in tasks] == [200, 403, 400, 409, 200, 400, 404]
    assert got["held"]["error"]["holder"] == "bob"
    for task in ("t1", "free"):
        assert get_task(task).body["assignee"] == "alice"
        assert [e["action"] for e in history(task)] == ["create", "claim"]
    assert [e["action"] for e in history("held")] == ["create", "claim"]  # untouched


def test_other_actions() -> None:
    scene("acme")
    assert bulk("claim", {"taskIds": ["t1", "free"]}).body["results"][0]["status"] == 200
    r = bulk("release", {"taskIds": ["t1", "free", "held"]})
    assert [i["status"] for i in r.body["results"]] == [200, 200, 403]
    r = bulk("assign", {"taskIds": ["t1", "t2", "free"], "userId": "bob"}, **ROOT)
    assert [i["status"] for i in r.body["results"]] == [200, 400, 400]  # bob: not a candidate of t2, free
    r = bulk("reassign", {"taskIds": ["t1", "held"], "userId": "alice", "comment": "back"}, **ROOT)
    assert [i["status"] for i in r.body["results"]] == [200, 200]
    assert history("held")[-1]["comment"] == "back" and history("held")[-1]["action"] == "reassign"
    r = bulk("complete", {"taskIds": ["t1", "held", "done"], "comment": "ok"}, user="alice")
    assert [i["status"] for i in r.body["results"]] == [200, 200, 400]
    r = bulk("abandon", {"taskIds": ["t2", "free"]}, **ROOT)
    assert [i["status"] for i in r.body["results"]] == [200, 200]
    assert get_task("t2").body["status"] == "abandoned" and get_task("t1").body["status"] == "completed"


def test_limits_and_bad_requests_are_400_and_change_nothing() -> None:
    seed()
    too_many = bulk("claim", {"taskIds": [f"t{i}" for i in range(101)]})
    assert too_many.status == 400 and "100" in too_many.body["message"]
    for action, body in (("claim", {"taskIds": []}), ("claim", {"taskIds": ["t1", "t1"]}),
                         ("fly", {"taskIds": ["t1"]}), ("assign", {"taskIds": ["t1"]}),
                         ("claim", {"taskIds": ["t1"], "userId": "bob"}),
                         ("claim", {"taskIds": ["t1"], "comment": "x"}),
                         ("claim", {"taskIds": ["t1"], "extra": 1}), ("claim", {"taskIds": "t1"}),
                         ("claim", {"taskIds": ["t1"], "atomic": "yes"})):
        r = bulk(action, body)
        assert r.status == 400, (action, body, r)
    atomic = bulk("claim", {"taskIds": [f"t{i}" for i in range(MAX_ATOMIC_TASKS + 1)], "atomic": True})
    assert atomic.status == 400 and str(MAX_ATOMIC_TASKS) in atomic.body["message"]
    assert bulk("claim", {"taskIds": ["t1"]}, roles=()).status == 403
    assert get_task("t1").body["assignee"] is None and len(history("t1")) == 1


def test_atomic_applies_all_in_one_transaction() -> None:
    seed()
    for n in range(5):
        create(f"g{n}", candidateGroups=["ops"])  # each asserts alice's membership: one merged check
    create("d", candidateUsers=["alice"])
    tasks = [f"g{n}" for n in range(5)] + ["d"]
    r = bulk("claim", {"taskIds": tasks, "atomic": True})
    assert r.status == 200, r
    assert [i["status"] for i in r.body["results"]] == [200] * 6
    for task in tasks:
        assert get_task(task).body["assignee"] == "alice"
        assert [e["action"] for e in history(task)] == ["create", "claim"]


def test_atomic_refusal_is_409_naming_the_first_refusing_task_and_changes_nothing() -> None:
    scene("acme")
    create("g", candidateGroups=["ops"])
    r = bulk("claim", {"taskIds": ["free", "g", "held", "t2"], "atomic": True})
    assert r.status == 409, r
    assert "held" in r.body["message"] and r.body["code"] == "atomicRefused" and r.body["holder"] == "bob"
    for task in ("free", "g"):
        assert get_task(task).body["assignee"] is None and len(history(task)) == 1


def test_atomic_writes_out_a_pending_direct_claim_event() -> None:
    seed()
    assert claim("t2", "carol").status == 200  # one-write claim: its event is kept in the task item
    r = bulk("release", {"taskIds": ["t2"], "atomic": True}, user="carol")
    assert r.status == 200 and r.body["results"][0]["task"]["assignee"] is None
    assert [(e["action"], e["version"]) for e in history("t2")] == [("create", 1), ("claim", 2), ("release", 3)]
