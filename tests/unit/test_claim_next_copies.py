"""claim-next's copies of group queues (tasks.queuecopy): a process reads a group queue's head page
at most once per COPY_SECONDS (or when its copy is used up) for all the requests it serves. Nothing
is trusted from a copy: the claim's write decides, so a task taken meanwhile is refused and the next
one taken, and a copy never lets the caller hold a task it may not. The clock is moved, never slept."""

from __future__ import annotations

from typing import Any

import pytest

from baton import clock
from baton.tasks import queuecopy
from baton.tasks.listings import TaskListings
from tests.support import ADMIN, call, counted, create_task, seed

pytestmark = pytest.mark.usefixtures("backend", "controlled_clock")  # moto here, DynamoDB Local in integration


def claim_next(user: str = "alice") -> Any:
    return call("POST", "/api/v1/tasks/claim-next", user=user)


def later() -> None:
    clock.advance(queuecopy.COPY_SECONDS + 0.001)


def elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    """The writes that follow are another process's: they do not touch this process's copies."""
    from baton.tasks import repository, service

    for module in (repository, service):
        monkeypatch.setattr(module, "left_free", lambda *_: None)


def ops_tasks(n: int) -> list[str]:
    ids = [f"q{i}" for i in range(n)]
    for i, task_id in enumerate(ids):
        create_task(task_id, candidateGroups=["ops"], priority=90 - i)
    return ids


def test_a_second_claim_next_within_the_copy_reads_no_group_queue() -> None:
    seed()  # alice in ops
    ids = ops_tasks(3)
    r, calls = counted(claim_next)
    assert r.status == 200 and r.body["id"] == ids[0], r
    assert calls == {"Query": 2, "TransactWriteItems": 1}, calls  # her own partition, ops
    r, calls = counted(claim_next)
    assert r.status == 200 and r.body["id"] == ids[1], r
    assert calls == {"Query": 1, "TransactWriteItems": 1}, calls  # ops from the copy
    r, calls = counted(lambda: claim_next("bob"))  # another caller served by the same process
    assert r.status == 200 and r.body["id"] == ids[2], r
    assert calls == {"Query": 1, "TransactWriteItems": 1}, calls
    later()
    r, calls = counted(claim_next)
    assert r.status == 200 and r.body["id"] == "t1", r  # the seed's
    assert calls == {"Query": 2, "TransactWriteItems": 1}, calls  # the copy is old: ops read again


def test_a_task_taken_meanwhile_is_refused_by_the_write_and_the_next_taken(monkeypatch: pytest.MonkeyPatch) -> None:
    from baton.tasks import claimnext

    monkeypatch.setattr(claimnext, "_pick", lambda n: 0)  # the first of those it may pick from
    seed()
    ids = ops_tasks(4)
    assert claim_next().body["id"] == ids[0]
    elsewhere(monkeypatch)  # bob, served by another process, takes the head alice's copy still shows
    assert call("POST", f"/api/v1/tasks/{ids[1]}/action/claim", user="bob").status == 200
    r, calls = counted(claim_next)
    assert r.status == 200 and r.body["id"] == ids[2], r
    assert calls["TransactWriteItems"] == 2, calls  # one refused (its image: bob holds it), one claim
    assert call("GET", f"/api/v1/tasks/{ids[1]}").body["assignee"] == "bob"
    # never given twice: each claimed once, by one holder
    held = {i: call("GET", f"/api/v1/tasks/{i}").body["assignee"] for i in ids}
    assert held == {ids[0]: "alice", ids[1]: "bob", ids[2]: "alice", ids[3]: None}, held
    r = claim_next("bob")
    assert r.status == 200 and r.body["id"] == ids[3], r


def test_a_task_created_after_the_copy_is_seen_after_it(monkeypatch: pytest.MonkeyPatch) -> None:
    seed()
    ids = ops_tasks(2)
    assert claim_next().body["id"] == ids[0]
    elsewhere(monkeypatch)
    create_task("urgent", candidateGroups=["ops"], priority=100)  # by another process
    assert claim_next().body["id"] == ids[1]  # this process's copy does not hold it yet
    later()
    assert claim_next().body["id"] == "urgent"


def test_a_task_this_process_frees_drops_its_groups_copies() -> None:
    seed()
    ids = ops_tasks(2)
    assert claim_next().body["id"] == ids[0]
    create_task("urgent", candidateGroups=["ops"], priority=100)  # written here: ops's copy is dropped
    r, calls = counted(claim_next)
    assert r.status == 200 and r.body["id"] == "urgent" and calls["Query"] == 2, (r, calls)
    assert call("POST", "/api/v1/tasks/urgent/action/release", user="alice").status == 200
    assert claim_next("bob").body["id"] == "urgent"  # released here: seen at once, its mark gone


def test_the_end_of_a_copy_is_confirmed_by_the_queues_before_204(monkeypatch: pytest.MonkeyPatch) -> None:
    seed()
    assert claim_next().body["id"] == "t1"  # ops's copy: used up
    elsewhere(monkeypatch)
    create_task("late", candidateGroups=["ops"])
    r = claim_next()
    assert r.status == 200 and r.body["id"] == "late", r  # an empty copy is read again before answering none
    r, calls = counted(claim_next)
    assert r.status == 204 and calls == {"Query": 2, "BatchGetItem": 1}, (r, calls)


def test_a_copy_never_lets_the_caller_hold_what_it_may_not(monkeypatch: pytest.MonkeyPatch) -> None:
    seed()
    ids = ops_tasks(3)
    assert claim_next().body["id"] == ids[0]  # ops's copy read
    r = call("PUT", "/api/v1/groups/ops", {"name": "Operations", "members": ["bob"]}, user="root", roles=ADMIN)
    assert r.status == 200, r
    real = TaskListings.own_head

    def own_head(self: TaskListings, tenant: str, user: str, limit: int) -> Any:  # the index: still in ops
        own, read = real(self, tenant, user, limit)
        own["user"] = {**own["user"], "groups": {"ops"}}
        return own, read

    monkeypatch.setattr(TaskListings, "own_head", own_head)
    r = claim_next()
    assert r.status == 204, r  # the write held the membership; the confirmed read: no longer in ops
    assert [call("GET", f"/api/v1/tasks/{i}").body["assignee"] for i in ids[1:]] == [None, None]
    assert claim_next("bob").body["id"] == ids[1]  # refused for alice's own reasons: still there for bob


def test_a_task_refused_for_the_callers_own_reasons_stays_for_others() -> None:
    seed()
    create_task("skilled", candidateGroups=["ops"], priority=99, requiredSkills=["welding"])
    r = call("PUT", "/api/v1/users/bob", {"username": "bob", "firstname": "Bob", "skills": ["welding"]}, user="root",
             roles=ADMIN)
    assert r.status == 200, r
    assert claim_next().body["id"] == "t1"  # alice lacks the skill: passed over, not marked gone
    r, calls = counted(lambda: claim_next("bob"))
    assert r.status == 200 and r.body["id"] == "skilled", r
    assert calls == {"Query": 1, "TransactWriteItems": 1}, calls  # from the copy


def test_copies_and_marks_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(queuecopy, "MAX_COPIES", 3)
    monkeypatch.setattr(queuecopy, "MAX_MARKS", 4)
    copies = queuecopy.QueueCopies()
    for n in range(5):
        copies.keep("tb", "tn", f"g{n}", ([], None))
    assert set(copies.view("tb", "tn", [f"g{n}" for n in range(5)])) == {"g2", "g3", "g4"}
    assert all(copies.take("tb", "tn", f"x{n}") for n in range(10))
    assert len(copies._marks) <= 4
    assert not copies.take("tb", "tn", "x9")  # marked: taken here
    later()
    assert copies.view("tb", "tn", ["g4"]) == {}
