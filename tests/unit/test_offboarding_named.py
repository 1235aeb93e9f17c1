"""Offboarding finds every open task naming the user, not only those it holds or has in its queue
(issue 27 item 3): tasks it delegated (it is their owner), tasks held by (or offered to) someone
else that list it as a candidate user, and automatic tasks naming it. They are found through the
user's `Keys.named` partition (tasks.layout `named_users`), never a Scan; a dry run lists them too;
a second call moves none of them again. And offboarding to an absent `to` follows the absence
like every other giving path: redirected or shared with who stands in, `onBehalfOf` and reason
`absence:<mode>`, chains followed. On moto and (integration tier) DynamoDB Local."""

from __future__ import annotations

from typing import Any

import pytest

from baton.directory.repository import DirectoryRepository
from baton.domain import Caller
from baton.storage.dynamo import get_dynamo, serialize
from baton.storage.keys import SCHEMA_MARKER, Keys
from baton.tasks.listings import TaskListings
from baton.tasks.migration import migrate
from baton.tasks.offers import OfferService
from baton.tasks.repository import TaskRepository
from baton.tasks.service import TaskService
from tests.support import ADMIN, TENANT, call, create_task, get_task, history, native, seed

pytestmark = pytest.mark.usefixtures("backend")
FROM, UNTIL = "2026-01-01T00:00:00Z", "2099-12-31T00:00:00Z"


def offboard(user: str, body: dict[str, Any] | None = None) -> Any:
    r = call("POST", f"/api/v1/users/{user}/offboard", body or {}, user="root", roles=ADMIN)
    assert r.status == 200, r
    return r


def outcomes(r: Any) -> dict[str, tuple[int, str | None, str | None]]:
    return {i["taskId"]: (i["status"], i.get("outcome"), i.get("assignee")) for i in r.body["results"]}


def away(uid: str, delegate: str | None, mode: str = "redirect") -> None:
    body = {"from": FROM, "until": UNTIL, "mode": mode, **({"delegateTo": delegate} if delegate else {})}
    r = call("PUT", f"/api/v1/users/{uid}/absence", body, user=uid)
    assert r.status == 200, r


def last(task: str) -> dict[str, Any]:
    return history(task)[-1]


def scene() -> None:
    """alice delegated d1 to carol; h1 (alice and bob its candidates) is held by bob; o1 (alice and
    bob) is offered to bob; the seed's automatic t3 names alice. None is in alice's queue or inbox."""
    seed()
    create_task("d1", candidateUsers=["alice"])
    assert native("claim", "d1", "alice").status == 200
    assert native("delegate", "d1", "alice", {"userId": "carol"}).status == 200
    create_task("h1", candidateUsers=["alice", "bob"])
    assert native("claim", "h1", "bob").status == 200
    create_task("o1", candidateUsers=["alice", "bob"])
    service = TaskService(get_dynamo(), Caller("root", "root", TENANT, frozenset({"admin"})))
    OfferService(service).offer("o1", "bob", 600, "routing:round-robin")


WITH_TO = {"d1": (200, "ownerChanged", "carol"), "h1": (200, "candidateRemoved", "bob"),
           "o1": (200, "candidateRemoved", None), "t3": (200, "candidateRemoved", None)}


def test_tasks_it_delegated_or_is_a_candidate_of_while_others_hold_them_are_found_and_moved() -> None:
    scene()
    assert sorted(TaskListings(get_dynamo()).involving(TENANT, "alice")) == ["d1", "h1", "o1", "t3"]
    dry = offboard("alice", {"to": "dave", "dryRun": True})
    assert outcomes(dry) == WITH_TO and get_task("d1").body["owner"] == "alice"  # listed, nothing written
    r = offboard("alice", {"to": "dave"})
    assert outcomes(r) == WITH_TO
    d1, h1, o1, t3 = (get_task(t).body for t in ("d1", "h1", "o1", "t3"))
    # d1: dave owns it now (carol still works on it; her resolve gives it to dave)
    assert (d1["owner"], d1["assignee"], d1["delegationState"]) == ("dave", "carol", "pending")
    assert last("d1")["reason"] == "offboarding" and last("d1")["changes"]["owner"] == {"from": "alice", "to": "dave"}
    assert (h1["assignee"], h1["candidateUsers"]) == ("bob", ["bob"])
    assert (o1["offeredTo"], o1["candidateUsers"]) == ("bob", ["bob"])
    assert t3["candidateUsers"] == []  # automatic: `to` is not made its candidate (no queue to keep it in)
    assert native("resolve", "d1", "carol").status == 200 and get_task("d1").body["assignee"] == "dave"
    # nothing names alice any more: the index is empty, a second call moves nothing
    assert TaskListings(get_dynamo()).involving(TENANT, "alice") == []
    assert offboard("alice", {"to": "dave"}).body["results"] == []
    for t in ("d1", "h1", "o1", "t3"):
        assert len([e for e in history(t) if e["reason"] == "offboarding"]) == 1, t


def test_without_to_the_delegation_ends_and_the_delegate_holds_it() -> None:
    scene()
    r = offboard("alice")
    assert outcomes(r)["d1"] == (200, "delegationEnded", "carol")
    d1 = get_task("d1").body
    assert (d1["owner"], d1["assignee"], d1["delegationState"]) == (None, "carol", None)
    assert native("complete", "d1", "carol").status == 200  # hers now: she completes it


def test_an_owner_who_may_not_have_the_task_back_ends_the_delegation() -> None:
    scene()
    assert call("PUT", "/api/v1/users/dave", {"username": "dave", "skills": []}, user="root", roles=ADMIN).status == 200
    create_task("s1", candidateUsers=["alice"], requiredSkills=["sql"])
    assert call("PUT", "/api/v1/users/alice", {"username": "alice", "skills": ["sql"]}, user="root",
                roles=ADMIN).status == 200
    assert call("PUT", "/api/v1/users/carol", {"username": "carol", "skills": ["sql"]}, user="root",
                roles=ADMIN).status == 200
    assert native("claim", "s1", "alice").status == 200
    assert native("delegate", "s1", "alice", {"userId": "carol"}).status == 200
    assert outcomes(offboard("alice", {"to": "dave"}))["s1"] == (200, "delegationEnded", "carol")


def test_the_named_entries_are_written_by_the_migration_for_tasks_from_before_them() -> None:
    """Schema 5: tasks written before the named entries existed get them from `baton migrate`."""
    scene()
    db = get_dynamo()
    named = [i for i in db.query_all(IndexName="gsi2", KeyConditionExpression="gsi2pk = :p",
                                     ExpressionAttributeValues=serialize({":p": Keys.named(TENANT, "alice")}))]
    assert len(named) == 4
    for item in named:  # as an older Baton left them: no such entries
        db.call("delete_item", TableName=db.table, Key={"pk": item["pk"], "sk": item["sk"]})
    db.call("put_item", TableName=db.table, Item=serialize({**SCHEMA_MARKER, "schema": 4, "shards": 32}))
    assert TaskListings(db).involving(TENANT, "alice") == []
    assert migrate(db) >= 4
    assert sorted(TaskListings(db).involving(TENANT, "alice")) == ["d1", "h1", "o1", "t3"]


# ---- `to` is absent: its work goes to who stands in --------------------------------------------

def held_scene() -> None:
    seed()
    for t in ("a1", "a2"):
        create_task(t, candidateUsers=["alice"])
        assert native("claim", t, "alice").status == 200


def test_to_absent_redirects_to_who_stands_in_with_on_behalf_of_and_the_absence_reason() -> None:
    held_scene()
    away("dave", "bob")
    want = {"a1": (200, "reassigned", "bob"), "a2": (200, "reassigned", "bob"),
            "t3": (200, "candidateRemoved", None)}
    assert outcomes(offboard("alice", {"to": "dave", "dryRun": True})) == want
    assert outcomes(offboard("alice", {"to": "dave"})) == want
    for t in ("a1", "a2"):
        event = last(t)
        assert (event["reason"], event["onBehalfOf"], event["to"], event["comment"]) == (
            "absence:redirect", "dave", "bob", "offboarding"), event
    assert get_task("a1").body["assignee"] == "bob"


def test_to_absent_follows_the_chain_and_a_share_offers_the_task_to_both() -> None:
    held_scene()
    away("dave", "carol")
    away("carol", "bob")  # dave -> carol -> bob
    assert outcomes(offboard("alice", {"to": "dave", "dryRun": True}))["a1"] == (200, "reassigned", "bob")
    away("dave", "bob", "share")
    r = offboard("alice", {"to": "dave"})
    assert {outcomes(r)[t] for t in ("a1", "a2")} == {(200, "offered", None)}, r
    a1 = get_task("a1").body
    assert a1["assignee"] is None and set(a1["candidateUsers"]) >= {"bob"}, a1
    assert last("a1")["reason"] == "absence:share" and last("a1")["onBehalfOf"] == "dave"


def test_to_absent_without_anyone_to_stand_in_leaves_the_work_in_the_queue() -> None:
    held_scene()
    away("dave", None)
    assert outcomes(offboard("alice", {"to": "dave"}))["a1"] == (200, "queued", None)
    assert get_task("a1").body["candidateUsers"] == []  # dead end: nobody stands in for dave either


def test_a_delegates_task_returns_to_who_stands_in_for_its_absent_owner() -> None:
    seed()
    create_task("d2", candidateUsers=["bob"])
    assert native("claim", "d2", "bob").status == 200
    assert native("delegate", "d2", "bob", {"userId": "alice"}).status == 200
    away("bob", "dave")
    r = offboard("alice")
    assert outcomes(r)["d2"] == (200, "returnedToOwner", "dave")
    assert (last("d2")["reason"], last("d2")["onBehalfOf"]) == ("absence:redirect", "bob")


def test_to_made_inactive_between_the_read_and_the_write_does_not_get_the_ownership(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The ownership going to `to` pins `to` active in the write itself (its user item, with its
    absence: tasks.standins): `to` offboarded between the read and the write refuses the write,
    and the task is decided again on what `to` now is (the delegation ends)."""
    scene()
    write = TaskRepository.write
    writes: list[str] = []

    def racing(self: TaskRepository, tenant: str, change: Any) -> None:
        if change.after.id == "d1" and "d1" not in writes:
            assert change.after.owner == "dave"  # decided on dave active
            users = DirectoryRepository(self.db)
            users.put_user(TENANT, users.users(TENANT, ["dave"])["dave"].model_copy(update={"active": False}))
        writes.append(change.after.id)
        write(self, tenant, change)

    monkeypatch.setattr(TaskRepository, "write", racing)
    r = offboard("alice", {"to": "dave"})
    assert outcomes(r)["d1"] == (200, "delegationEnded", "carol"), r
    assert writes.count("d1") == 2  # the first write was refused on dave's `active`
    d1 = get_task("d1").body
    assert (d1["owner"], d1["assignee"], d1["delegationState"]) == (None, "carol", None)
    assert len([e for e in history("d1") if e["reason"] == "offboarding"]) == 1
