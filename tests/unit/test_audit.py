"""The audit ledger and cases (issue 24): every event's changes, reason, onBehalfOf and hash; the
verified history; PATCH; caseId and the case listing; the tenant audit and its bad input."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from baton import clock
from baton.storage.dynamo import get_dynamo
from tests.support import ADMIN, OPS, TENANT, WRITER, call, claim, create_task, history, native, release, seed

pytestmark = pytest.mark.usefixtures("backend", "controlled_clock")


@pytest.fixture(autouse=True)
def _seeded(backend: str) -> None:
    seed()


def verified(task: str, tenant: str = TENANT) -> dict[str, Any]:
    r = call("GET", f"/api/v1/tasks/{task}/history", tenant=tenant, query={"verify": "true"})
    assert r.status == 200, r
    return r.body


def client_verifies(events: list[dict[str, Any]]) -> bool:
    """A client's own ten lines, from the contract's words alone."""
    prev = ""
    for e in events:
        if not e.get("hash"):
            continue
        body = {k: v for k, v in e.items() if k != "hash"}
        text = json.dumps(body, sort_keys=True, separators=(",", ":"))
        if hashlib.sha256((prev + text).encode("utf-8")).hexdigest() != e["hash"]:
            return False
        prev = e["hash"]
    return True


@contextmanager
def counted() -> Iterator[dict[str, int]]:
    client = get_dynamo().client
    seen = {"calls": 0}

    def after(**_: Any) -> None:
        seen["calls"] += 1

    client.meta.events.register("after-call.dynamodb", after)
    try:
        yield seen
    finally:
        client.meta.events.unregister("after-call.dynamodb", after)


def test_every_action_leaves_changes_reason_and_a_hash_chain() -> None:
    create_task("L1", candidateUsers=["alice", "bob"], leaseSeconds=60, priority=10)
    create_task("L2", candidateUsers=["carol"])
    assert native("claim", "L1", "alice").status == 200  # under the task's 60 s lease
    assert native("heartbeat", "L1", "alice", {"leaseSeconds": 120}).status == 200
    clock.advance(121)
    assert native("claim", "L1", "bob").status == 200  # takes over the passed lease
    assert release("L1", "bob").status == 200
    assert call("POST", "/operations-manager/tasks/L1/assign", {"userId": "alice"}, user="root",
                roles=ADMIN).status == 200
    r = call("POST", "/api/v1/tasks/L1/action/reassign", {"newStepUserIds": ["bob"], "comment": "rebalance"},
             user="root", roles=ADMIN)
    assert r.status == 200, r
    assert native("complete", "L1", "bob", {"comment": "done"}).status == 200
    assert claim("L2", "carol").status == 200  # the one-write claim: its event pending in the task item
    events = history("L1")
    assert [e["action"] for e in events] == ["create", "claim", "heartbeat", "lease-expired", "claim", "release",
                                             "assign", "reassign", "complete"]
    for e in events:
        assert {"changes", "reason", "onBehalfOf", "hash", "from", "to"} <= set(e), e
        assert e["onBehalfOf"] is None and len(e["hash"]) == 64
    create, claimed, beat, expired, taken, released, assigned, reassigned, done = events
    assert create["changes"]["status"] == {"from": None, "to": "open"}
    assert create["changes"]["candidateUsers"] == {"from": None, "to": ["alice", "bob"]}
    assert create["changes"]["priority"] == {"from": None, "to": 10}
    assert claimed["changes"]["assignee"] == {"from": None, "to": "alice"}
    assert claimed["changes"]["lease"]["from"] is None and claimed["changes"]["lease"]["to"]
    assert set(beat["changes"]) == {"lease"}
    assert expired["reason"] == "lease-expired" and expired["actor"] == "system"
    assert expired["changes"]["assignee"] == {"from": "alice", "to": None} and expired["changes"]["lease"]["to"] is None
    assert taken["reason"] == "request" and taken["changes"]["assignee"] == {"from": None, "to": "bob"}
    assert released["changes"]["assignee"] == {"from": "bob", "to": None}
    assert assigned["changes"] == {"assignee": {"from": None, "to": "alice"}}
    assert reassigned["changes"] == {"assignee": {"from": "alice", "to": "bob"}}
    assert reassigned["comment"] == "rebalance" and reassigned["actor"] == "root"
    assert done["changes"] == {"status": {"from": "open", "to": "completed"}}
    assert all(e["reason"] == "request" for e in events if e["action"] != "lease-expired")
    assert client_verifies(events)
    body = verified("L1")
    assert body["verified"] is True and body["brokenAt"] is None and body["checked"] == 9
    pending = history("L2")
    assert pending[-1]["action"] == "claim" and pending[-1]["changes"] == {"assignee": {"from": None, "to": "carol"}}
    assert client_verifies(pending) and verified("L2")["verified"] is True
    hashes = [e["hash"] for e in pending]
    assert release("L2", "carol").status == 200  # writes the pending event out: the same event, the same hash
    after = history("L2")
    assert [e["hash"] for e in after[:2]] == hashes and client_verifies(after) and verified("L2")["verified"]


def test_a_stored_event_edited_in_the_table_breaks_the_chain_there() -> None:
    create_task("E1", candidateGroups=["ops"])
    for _ in range(2):
        assert claim("E1", "alice").status == 200
        assert release("E1", "alice").status == 200
    assert verified("E1")["verified"] is True
    db = get_dynamo()
    pk = f"T#{TENANT}#TASK#E1"
    db.client.update_item(TableName=db.table, Key={"pk": {"S": pk}, "sk": {"S": "H#000000000003"}},
                          UpdateExpression="SET actor = :m", ExpressionAttributeValues={":m": {"S": "mallory"}})
    body = verified("E1")
    assert body["verified"] is False and body["brokenAt"] == 3
    assert [e["version"] for e in body["items"]] == [1, 2, 3, 4, 5]  # the page is served as ever
    # the last event deleted: the task item's hash no longer has its event
    db.client.delete_item(TableName=db.table, Key={"pk": {"S": pk}, "sk": {"S": "H#000000000005"}})
    db.client.update_item(TableName=db.table, Key={"pk": {"S": pk}, "sk": {"S": "H#000000000003"}},
                          UpdateExpression="SET actor = :a", ExpressionAttributeValues={":a": {"S": "alice"}})
    body = verified("E1")
    assert body["verified"] is False and body["brokenAt"] == 5


def test_verify_of_another_tenants_task_is_404() -> None:
    seed("other")
    create_task("X1", tenant="other")
    r = call("GET", "/api/v1/tasks/X1/history", query={"verify": "true"})
    assert r.status == 404
    assert verified("X1", tenant="other")["verified"] is True


def test_tasks_written_before_the_ledger_start_their_chain_at_the_first_hashed_event() -> None:
    create_task("O1", candidateGroups=["ops"])
    db = get_dynamo()
    pk = {"S": f"T#{TENANT}#TASK#O1"}
    # as an older Baton wrote it: no hash, changes or reason on the event, no lastHash on the task
    db.client.update_item(TableName=db.table, Key={"pk": pk, "sk": {"S": "H#000000000001"}},
                          UpdateExpression="REMOVE #h, changes, reason", ExpressionAttributeNames={"#h": "hash"})
    db.client.update_item(TableName=db.table, Key={"pk": pk, "sk": {"S": "TASK"}}, UpdateExpression="REMOVE lastHash")
    assert claim("O1", "alice").status == 200
    events = history("O1")
    assert events[0]["hash"] is None and events[1]["hash"]
    assert events[1]["hash"] == hashlib.sha256(
        json.dumps({k: v for k, v in events[1].items() if k != "hash"}, sort_keys=True,
                   separators=(",", ":")).encode()).hexdigest()  # previous hash "": the chain's first
    body = verified("O1")
    assert body["verified"] is True and body["chainStartsAt"] == 2 and body["checked"] == 1


# ---- PATCH ---------------------------------------------------------------------------------------

def test_patch_changes_fields_with_one_event_and_honours_if_match() -> None:
    create_task("P1", candidateGroups=["ops"])
    assert claim("P1", "alice").status == 200
    body = {"priority": 90, "dueDate": "2026-12-31T12:00:00+01:00", "candidateUsers": ["carol"],
            "policy": {"allowReassignment": False}}
    assert call("PATCH", "/api/v1/tasks/P1", body, roles=OPS).status == 403
    assert call("PATCH", "/api/v1/tasks/P1", body, roles=WRITER, headers={"If-Match": '"1"'}).status == 412
    r = call("PATCH", "/api/v1/tasks/P1", body, user="wendy", roles=WRITER, headers={"If-Match": '"2"'})
    assert r.status == 200, r
    assert r.body["priority"] == 90 and r.body["dueDate"] == "2026-12-31T11:00:00.000000Z"
    assert r.body["assignee"] == "alice" and r.body["version"] == 3 and r.headers["etag"] == '"3"'
    event = history("P1")[-1]
    assert event["action"] == "update" and event["actor"] == "wendy" and event["reason"] == "request"
    assert event["changes"] == {
        "priority": {"from": 50, "to": 90}, "dueDate": {"from": None, "to": "2026-12-31T11:00:00.000000Z"},
        "candidateUsers": {"from": [], "to": ["carol"]},
        "policy": {"from": {"allowReassignment": True, "allowedReassignees": [], "requireReassignmentReason": False},
                   "to": {"allowReassignment": False, "allowedReassignees": [], "requireReassignmentReason": False}}}
    again = call("PATCH", "/api/v1/tasks/P1", {"priority": 90}, roles=ADMIN)
    assert again.status == 200 and again.body["version"] == 3  # nothing to change: no event
    cleared = call("PATCH", "/api/v1/tasks/P1", {"dueDate": None}, roles=ADMIN)
    assert cleared.status == 200 and cleared.body["dueDate"] is None
    assert history("P1")[-1]["changes"] == {"dueDate": {"from": "2026-12-31T11:00:00.000000Z", "to": None}}
    assert verified("P1")["verified"] is True


def test_patch_moves_the_task_between_queues() -> None:
    create_task("P2", candidateUsers=["carol"])
    mine = call("GET", "/api/v1/tasks", user="dave", query={"candidate": "me"})
    assert "P2" not in [t["id"] for t in mine.body["items"]]
    r = call("PATCH", "/api/v1/tasks/P2", {"candidateUsers": ["dave"]}, roles=ADMIN)
    assert r.status == 200
    mine = call("GET", "/api/v1/tasks", user="dave", query={"candidate": "me"})
    assert "P2" in [t["id"] for t in mine.body["items"]]
    assert "P2" not in [t["id"] for t in call("GET", "/api/v1/tasks", user="carol",
                                              query={"candidate": "me"}).body["items"]]


@pytest.mark.parametrize("body", [{}, {"priority": 101}, {"priority": None}, {"name": "x"}, {"assignee": "bob"},
                                  {"dueDate": "tomorrow"}, {"candidateUsers": [""]}])
def test_patch_bad_input_is_400(body: dict[str, Any]) -> None:
    create_task("P3")
    r = call("PATCH", "/api/v1/tasks/P3", body, roles=ADMIN)
    assert r.status == 400, (body, r)
    assert history("P3")[-1]["action"] == "create"


def test_patch_of_a_finished_or_unknown_task() -> None:
    create_task("P4")
    assert call("POST", "/api/v1/tasks/P4/action/abandon", user="root", roles=ADMIN).status == 200
    assert call("PATCH", "/api/v1/tasks/P4", {"priority": 1}, roles=ADMIN).status == 400
    assert call("PATCH", "/api/v1/tasks/ghost", {"priority": 1}, roles=ADMIN).status == 404


# ---- cases ---------------------------------------------------------------------------------------

def test_case_id_on_create_every_read_and_itentials_job() -> None:
    create_task("C1", caseId="job-7", candidateGroups=["ops"])
    r = call("GET", "/api/v1/tasks/C1")
    assert r.body["caseId"] == "job-7"
    doc = claim("C1", "alice").body["data"]
    assert doc["job"]["_id"] == "job-7"
    assert call("POST", "/api/v1/tasks", {"name": "x", "caseId": ""}, roles=WRITER).status == 400
    assert call("POST", "/api/v1/tasks", {"name": "x", "caseId": "c" * 129}, roles=WRITER).status == 400


def test_a_case_lists_its_tasks_in_creation_order_a_page_a_query() -> None:
    for n in range(7):
        create_task(f"K{n}", caseId="case-a")
        clock.advance(1)
        create_task(f"N{n}", caseId="case-b")
    create_task("none")
    seen: list[str] = []
    cursor = None
    while True:
        with counted() as calls:
            r = call("GET", "/api/v1/tasks", query={"caseId": "case-a", "limit": "3", **({"cursor": cursor} if cursor
                                                                                          else {})})
        assert r.status == 200, r
        assert calls["calls"] == 1  # one Query per page
        seen += [t["id"] for t in r.body["items"]]
        cursor = r.body["cursor"]
        if not cursor:
            assert r.body["items"], "never an empty last page"
            break
        assert len(r.body["items"]) == 3
    assert seen == [f"K{n}" for n in range(7)]
    other = call("GET", "/api/v1/tasks", query={"caseId": "case-b", "cursor": cursor or ""})
    assert other.status == 200
    assert call("GET", "/api/v1/tasks", tenant="other", query={"caseId": "case-a"}).body["items"] == []


def test_case_listing_bad_input_is_400() -> None:
    create_task("K1", caseId="a")
    create_task("K2", caseId="a")
    first = call("GET", "/api/v1/tasks", query={"caseId": "a", "limit": "1"})
    assert first.body["cursor"]
    assert call("GET", "/api/v1/tasks", query={"caseId": "b", "cursor": first.body["cursor"]}).status == 400
    assert call("GET", "/api/v1/tasks", query={"caseId": "a", "status": "open"}).status == 400
    assert call("GET", "/api/v1/tasks", query={"caseId": "a", "cursor": "garbage"}).status == 400
    assert call("GET", "/api/v1/tasks", query={"caseId": ""}).status == 400


# ---- the tenant audit ----------------------------------------------------------------------------

def audit(**query: str) -> Any:
    return call("GET", "/api/v1/audit", user="root", roles=ADMIN, query=query)


def test_the_audit_is_admin_only_and_refuses_bad_windows_and_actions() -> None:
    assert call("GET", "/api/v1/audit", roles=OPS).status == 403
    assert call("GET", "/api/v1/audit", roles=WRITER).status == 403
    r = audit(**{"from": "2026-02-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"})
    assert r.status == 400 and "after" in r.body["message"]
    r = audit(**{"from": "2026-01-01T00:00:00Z", "to": "2026-02-01T00:00:01Z"})
    assert r.status == 400 and "31 days" in r.body["message"]
    assert audit(**{"from": "2026-01-01T00:00:00Z", "to": "2026-02-01T00:00:00Z"}).status == 200
    r = audit(action="teleport")
    assert r.status == 400 and "teleport" in r.body["message"]
    assert audit(**{"from": "yesterday"}).status == 400
    assert audit(**{"from": "2026-01-01T00:00:00"}).status == 400  # no offset
    assert audit(cursor="garbage").status == 400
    assert audit(limit="0").status == 400


def test_the_audit_lists_every_event_of_the_tenant_oldest_first() -> None:
    seed("other")
    start = clock.stamp()

    def then(reply: Any = None) -> None:  # each change a second after the one before (events sort by time)
        assert reply is None or reply.status == 200, reply
        clock.advance(1)

    create_task("A1", candidateGroups=["ops"])
    then()
    create_task("A2", candidateUsers=["carol"])
    then()
    create_task("A3", tenant="other")
    then()
    then(claim("A1", "alice"))
    then(claim("A2", "carol"))  # pending in the task item: in the audit at once
    then(call("POST", "/workspaces/secure/api/v1/txn/unassign", {"params": {"submitKey": "A1"}}, user="root",
              roles=ADMIN))
    then(call("POST", "/workspaces/secure/api/v1/txn/assign", {"params": {"submitKey": "A1"}}, user="bob"))
    then(call("POST", "/api/v1/tasks/A1/action/reassign", {"newStepUserIds": ["alice"], "comment": "rebalance"},
              user="bob"))
    end = clock.stamp()
    r = audit(**{"from": start, "to": end})
    assert r.status == 200, r
    got = [(e["taskId"], e["action"], e["actor"]) for e in r.body["items"] if e["taskId"] in ("A1", "A2", "A3")]
    assert got == [("A1", "create", "root"), ("A2", "create", "root"), ("A1", "claim", "alice"),
                   ("A2", "claim", "carol"), ("A1", "unassign", "root"), ("A1", "assign", "bob"),
                   ("A1", "reassign", "bob")]
    assert all(e["reason"] == "request" and e["hash"] for e in r.body["items"])
    times = [e["at"] for e in r.body["items"]]
    assert times == sorted(times)
    only = audit(**{"from": start, "to": end, "actor": "bob"}).body["items"]
    assert [(e["taskId"], e["action"]) for e in only] == [("A1", "assign"), ("A1", "reassign")]
    claims = audit(**{"from": start, "to": end, "action": "claim"}).body["items"]
    assert [e["taskId"] for e in claims] == ["A1", "A2"]
    # paged: the same events, a page at a time
    paged: list[str] = []
    cursor = None
    while True:
        page = audit(**{"from": start, "to": end, "limit": "2", **({"cursor": cursor} if cursor else {})})
        assert page.status == 200, page
        paged += [e["id"] for e in page.body["items"]]
        cursor = page.body["cursor"]
        if not cursor:
            break
    assert paged == [e["id"] for e in r.body["items"]]
    # another window's cursor is refused
    first = audit(**{"from": start, "to": end, "limit": "1"})
    assert audit(**{"from": start, "to": clock.after(1), "cursor": first.body["cursor"]}).status == 400
    assert audit(**{"from": start, "to": end, "actor": "bob", "cursor": first.body["cursor"]}).status == 400


def test_the_audit_window_spans_months() -> None:
    start = clock.stamp()
    create_task("M1")
    clock.advance(20 * 86400)
    create_task("M2")
    clock.advance(10 * 86400)
    create_task("M3")
    r = audit(**{"from": start, "to": clock.stamp(), "limit": "2"})
    assert [e["taskId"] for e in r.body["items"]] == ["M1", "M2"]
    r = audit(**{"from": start, "to": clock.stamp(), "cursor": r.body["cursor"]})
    assert [e["taskId"] for e in r.body["items"]] == ["M3"]


def test_processmaker_assignee_writes_are_directory_events_in_the_same_ledger() -> None:
    from baton import ledger

    start = clock.stamp()
    pm = f"/api/1.0/{TENANT}/project/prj/activity/act"
    r = call("POST", pm + "/assignee", {"aas_uid": "carol", "aas_type": "user"}, user="pat", roles=("PM_FACTORY",))
    assert r.status == 201, r
    clock.advance(1)
    r = call("DELETE", pm + "/assignee/ops", user="root", roles=ADMIN)
    assert r.status == 200, r
    clock.advance(1)
    refused = call("POST", pm + "/assignee", {"aas_uid": "carol", "aas_type": "user"}, user="pat",
                   roles=("PM_FACTORY",))
    assert refused.status == 400  # already assigned: no event
    events = audit(**{"from": start, "to": clock.stamp()}).body["items"]
    assert [(e["kind"], e["action"], e["actor"], e["reason"]) for e in events] == [
        ("directory", "assignee-add", "pat", "request"), ("directory", "assignee-remove", "root", "request")]
    add, remove = events
    assert add["projectId"] == "prj" and add["activityId"] == "act" and add["to"] == "carol"
    assert add["changes"] == {"assignees": {"from": None, "to": {"aas_uid": "carol", "aas_type": "user"}}}
    assert remove["changes"] == {"assignees": {"from": {"aas_uid": "ops", "aas_type": "group"}, "to": None}}
    assert remove["version"] == add["version"] + 1
    assert remove["hash"] == ledger.event_hash(add["hash"], remove)  # the activity's chain (seeding began it)
    assert [e["action"] for e in audit(**{"from": start, "to": clock.stamp(), "action": "assignee-add"}
                                       ).body["items"]] == ["assignee-add"]
    listed = call("GET", pm + "/assignee").body
    assert "carol" in [a["aas_uid"] for a in listed] and "ops" not in [a["aas_uid"] for a in listed]


def test_delegation_is_in_the_ledger_with_the_owner_changed() -> None:
    start = clock.stamp()
    create_task("D1", candidateUsers=["alice", "bob"])
    clock.advance(1)
    assert native("claim", "D1", "alice").status == 200
    clock.advance(1)
    r = native("delegate", "D1", "alice", {"userId": "bob"})
    assert r.status == 200, r
    event = history("D1")[-1]
    assert event["action"] == "delegate" and event["changes"]["assignee"] == {"from": "alice", "to": "bob"}
    assert event["changes"]["owner"] == {"from": None, "to": "alice"}
    assert verified("D1")["verified"] is True
    assert [e["taskId"] for e in audit(**{"from": start, "to": clock.stamp(), "action": "delegate"}).body["items"]] \
        == ["D1"]
