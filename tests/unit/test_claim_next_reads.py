"""claim-next's reads (tasks.claimnext): the caller's user and load items sit at the head of its own
queue partition (Keys.profile), so claim-next reads who the caller is with its own queue in one
Query, then one Query per group, then writes: no separate read of the caller. What it reads there
is the index's copy, which may be a moment old: a refusal or an empty answer decided on it is
confirmed by a consistent read, and the write asserts every rule whatever was read."""

from __future__ import annotations

from typing import Any

import pytest

from baton.storage.dynamo import get_dynamo, serialize
from baton.storage.keys import Keys
from baton.tasks.listings import TaskListings
from tests.support import ADMIN, TENANT, call, counted, create_task, seed

pytestmark = pytest.mark.usefixtures("backend")  # moto here, DynamoDB Local in `make integration`


def claim_next(user: str = "alice") -> Any:
    return call("POST", "/api/v1/tasks/claim-next", user=user)


def groups_of(user: str) -> list[str]:
    r = call("GET", "/api/v1/users", query={"filter": user})
    return list(next(u for u in r.body["items"] if u["id"] == user).get("groups") or [])


def stale(monkeypatch: pytest.MonkeyPatch, **profile: Any) -> None:
    """The index answers claim-next with an old copy of the caller's user item (`profile` over it)."""
    real = TaskListings.own_head

    def own_head(self: TaskListings, tenant: str, user: str, limit: int) -> Any:
        own, read = real(self, tenant, user, limit)
        if "user" in own:
            own["user"] = {**own["user"], **{k: v for k, v in profile.items() if k != "load"}}
        if "load" in own and "load" in profile:
            own["load"] = {**own["load"], "load": profile["load"]}
        return own, read

    monkeypatch.setattr(TaskListings, "own_head", own_head)


def test_claim_next_reads_the_caller_with_its_own_queue() -> None:
    seed()
    create_task("g", candidateGroups=["ops"], priority=90)
    groups = groups_of("alice")
    r, calls = counted(claim_next)
    assert r.status == 200 and r.body["id"] == "g", r
    assert calls == {"Query": 1 + len(groups), "TransactWriteItems": 1}, calls
    r, calls = counted(claim_next)  # t1, the seed's
    assert r.status == 200 and r.body["id"] == "t1", r
    r, calls = counted(claim_next)  # nothing left: the caller read once, consistently, to be sure
    assert r.status == 204, r
    assert calls == {"Query": 1 + len(groups), "BatchGetItem": 1}, calls
    # the caller's items are not tasks of its queue
    r = call("GET", "/api/v1/tasks", query={"candidate": "me", "status": "open"}, user="alice")
    assert r.status == 200 and r.body["items"] == [], r


def test_a_caller_written_before_its_items_were_in_its_queue_is_read_first() -> None:
    seed()
    db = get_dynamo()
    for key in (Keys.user(TENANT, "alice"), Keys.person(TENANT, "alice")):
        db.client.update_item(TableName=db.table, Key=serialize(key), UpdateExpression="REMOVE gsi3pk, gsi3sk")
    r, calls = counted(claim_next)
    assert r.status == 200 and r.body["id"] == "t1", r
    assert calls["BatchGetItem"] == 1 and calls["TransactWriteItems"] == 1, calls
    # a profile written again puts them back
    r = call("PUT", "/api/v1/users/alice", {"username": "alice", "firstname": "Alice"}, user="root", roles=ADMIN)
    assert r.status == 200, r
    create_task("g2", candidateGroups=["ops"])
    r, calls = counted(claim_next)
    assert r.status == 200 and r.body["id"] == "g2" and "BatchGetItem" not in calls, (r, calls)


def test_an_old_copy_saying_full_is_confirmed_before_it_refuses(monkeypatch: pytest.MonkeyPatch) -> None:
    seed()
    r = call("PUT", "/api/v1/users/alice", {"username": "alice", "firstname": "Alice", "capacity": 2}, user="root",
             roles=ADMIN)
    assert r.status == 200, r
    stale(monkeypatch, load=2)  # the index still shows a load she has put down since
    r = claim_next()
    assert r.status == 200 and r.body["id"] == "t1", r


def test_an_old_copy_of_the_groups_is_confirmed(monkeypatch: pytest.MonkeyPatch) -> None:
    seed()
    stale(monkeypatch, groups=[])  # she joined ops a moment ago: the index does not show it yet
    r = claim_next()
    assert r.status == 200 and r.body["id"] == "t1", r


def test_a_group_the_caller_has_left_is_refused_by_the_write(monkeypatch: pytest.MonkeyPatch) -> None:
    seed()
    create_task("eng1", candidateGroups=["eng"], priority=99)
    stale(monkeypatch, groups=["ops", "eng"])  # the index's copy: still a member of eng (she never was)
    r = claim_next()
    # the write asserts the membership it relies on: eng1 is refused, the confirmed read finds t1
    assert r.status == 200 and r.body["id"] == "t1", r
    assert call("GET", "/api/v1/tasks/eng1").body["assignee"] is None


def test_an_old_copy_never_lets_a_full_caller_claim(monkeypatch: pytest.MonkeyPatch) -> None:
    seed()
    r = call("PUT", "/api/v1/users/alice", {"username": "alice", "firstname": "Alice", "capacity": 1}, user="root",
             roles=ADMIN)
    assert r.status == 200, r
    create_task("mine", candidateUsers=["alice"])
    assert call("POST", "/api/v1/tasks/mine/action/claim", user="alice").status == 200
    stale(monkeypatch, load=0)  # the index's copy: not full yet
    r = claim_next()
    assert r.status == 409 and r.body["code"] == "capacity", r  # the write's condition holds the capacity
    assert call("GET", "/api/v1/tasks/t1").body["assignee"] is None


def test_an_old_copy_without_whom_a_delegate_stands_in_for_is_confirmed(monkeypatch: pytest.MonkeyPatch) -> None:
    seed()  # carol: in no group, her own queue holds t2
    create_task("mine", candidateUsers=["alice"])
    assert call("POST", "/api/v1/tasks/t2/action/claim", user="carol").status == 200  # her own queue empty
    r = call("PUT", "/api/v1/users/alice/absence", {"from": "2026-01-01T00:00:00Z", "until": "2099-12-31T00:00:00Z",
                                                     "mode": "redirect", "delegateTo": "carol"}, user="alice")
    assert r.status == 200, r
    stale(monkeypatch, standsInFor=[])  # the index does not show yet that carol stands in for alice
    r = claim_next("carol")
    assert r.status == 200 and r.body["id"] in ("mine", "t1"), r  # alice's work, found by the confirmed read


@pytest.mark.usefixtures("controlled_clock")
def test_after_a_lost_race_on_a_queue_the_next_claim_next_there_starts_spread_out(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from baton import clock
    from baton.tasks import claimnext
    from baton.tasks.repository import TaskRepository

    seed()  # alice and bob in ops
    for n in range(6):
        create_task(f"q{n}", candidateGroups=["ops"], priority=90 - n)
    picks: list[int] = []
    def pick(n: int) -> int:  # the first among the n it may pick from, remembering n
        picks.append(n)
        return 0

    monkeypatch.setattr(claimnext, "_pick", pick)
    assert claim_next().body["id"] == "q0" and picks == [1]  # alone: the head
    # a colleague takes the head between alice's queue read and her write: she loses the race
    gone = TaskRepository(get_dynamo()).get_task(TENANT, "q1")
    assert call("POST", "/api/v1/tasks/q1/action/claim", user="bob").status == 200
    real = TaskListings.queue_head

    def stale_head(self: TaskListings, *args: Any, **kwargs: Any) -> Any:
        tasks, cursor = real(self, *args, **kwargs)
        return [gone, *tasks], cursor

    monkeypatch.setattr(TaskListings, "queue_head", stale_head)
    picks.clear()
    r = claim_next()
    assert r.status == 200 and r.body["id"] == "q2" and picks == [1, 4], (r, picks)  # lost, then spread out
    monkeypatch.setattr(TaskListings, "queue_head", real)
    picks.clear()
    assert claim_next().body["id"] == "q3" and picks == [4]  # ops is crowded: among the whole page (the 4 left)
    clock.advance(claimnext.CROWD_SECONDS + 1)
    picks.clear()
    assert claim_next().body["id"] == "q4" and picks == [1]  # quiet again: the head
