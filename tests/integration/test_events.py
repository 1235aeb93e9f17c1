"""Task events from the table's stream (DynamoDB Local): one CloudEvent per history event, in
version order per task, valid against docs/events.md's schema; the Pipe's filter patterns agree
with the Python rule; the enrichment handler is the same mapping."""

from __future__ import annotations

import json
import uuid
from typing import Any

import jsonschema
import pytest

from baton import clock
from baton.storage.dynamo import get_dynamo, serialize
from baton.storage.keys import Keys
from baton.tasks.events import cloud_event, tenant_of_event
from baton.tasks.stream import PIPE_FILTERS, cloud_events, history_event_of, tenant_of
from tests.support import ADMIN, OPS, TENANT, bulk, call, claim, history, release, seed
from tests.support.events import stream_records, validate


# ---- EventBridge pattern matching, for the subset PIPE_FILTERS uses (values, prefix, exists) ----
def _leaf_matches(rules: list[Any], value: Any, present: bool) -> bool:
    for rule in rules:
        if isinstance(rule, dict) and "exists" in rule:
            if rule["exists"] == present:
                return True
        elif isinstance(rule, dict) and "prefix" in rule:
            if present and isinstance(value, str) and value.startswith(rule["prefix"]):
                return True
        elif isinstance(rule, dict):
            raise AssertionError(f"matcher does not know {rule}")
        elif present and value == rule:
            return True
    return False


def pattern_matches(pattern: dict[str, Any], event: Any) -> bool:
    for key, rules in pattern.items():
        present = isinstance(event, dict) and key in event
        value = event[key] if present else None
        if isinstance(rules, dict):
            if not pattern_matches(rules, value if present else {}):
                return False
        elif not _leaf_matches(rules, value, present):
            return False
    return True


def legacy_direct_claim(task: str, user: str) -> None:
    """What the retired one-write claim wrote (docs/data-model.md): the claim's event kept in the
    task item (`lastEvent`) until the next change writes it out; data an older Baton left. (The
    claimant's load moved as a claim's transaction moves it.)"""
    db = get_dynamo()
    stamp = clock.stamp()
    event = {"id": uuid.uuid4().hex, "taskId": task, "at": stamp, "actor": user, "action": "claim", "to": user}
    db.call("update_item", TableName=db.table, Key=serialize(Keys.task(TENANT, task)),
            UpdateExpression="SET assignee = :me, version = version + :one, updatedAt = :now, gsi2pk = :g2, "
                             "gsi2sk = gsi1sk, gsi3pk = :g3, lastEvent = :ev",
            ExpressionAttributeValues=serialize({":me": user, ":one": 1, ":now": stamp, ":ev": event,
                                                 ":g2": Keys.assignee_index(TENANT, user, "open"),
                                                 ":g3": Keys.inbox(TENANT, user)}))
    db.call("update_item", TableName=db.table, Key=serialize(Keys.user(TENANT, user)),
            UpdateExpression="ADD #l :one", ExpressionAttributeNames={"#l": "load"},
            ExpressionAttributeValues=serialize({":one": 1}))


def mixed_changes() -> list[str]:
    """A bit of everything on t1, t2 and a new t4; the tasks touched."""
    seed()
    assert call("POST", "/api/v1/tasks", {"id": "t4", "name": "Four", "candidateUsers": ["alice", "bob"]},
                user="root", roles=ADMIN).status == 201
    legacy_direct_claim("t2", "carol")  # the retired one-write claim: its event waits in the task item
    assert release("t2", "carol").status == 200  # ... and is written out here, deferred
    legacy_direct_claim("t2", "carol")  # again, left pending
    assert claim("t1", "alice").status == 200  # a group claim
    assert call("POST", "/operations-manager/tasks/t1/assign", {"userId": "bob"}, user="root",
                roles=ADMIN).status == 200
    assert call("POST", "/api/v1/tasks/t1/action/reassign", {"newStepUserIds": ["alice", "bob"],
                "comment": "share"}, user="root", roles=ADMIN).status == 200
    assert claim("t4", "bob").status == 200
    assert call("POST", "/api/v1/tasks/t4/action/complete", {"comment": "done"}, user="bob").status == 200
    assert call("POST", "/api/v1/tasks/t1/action/abandon", {}, user="root", roles=ADMIN).status == 200
    for task, offered in (("t5", {"candidateUsers": ["alice"]}), ("t6", {"candidateGroups": ["ops"]})):
        assert call("POST", "/api/v1/tasks", {"id": task, "name": task, **offered}, user="root",
                    roles=ADMIN).status == 201
    # a bulk claim holds each claim's event in its task item; a release writes t5's out, deferred
    r = bulk("claim", {"taskIds": ["t5", "t6"]}, user="alice")
    assert [i["status"] for i in r.body["results"]] == [200, 200], r
    assert release("t5", "alice").status == 200
    return ["t1", "t2", "t3", "t4", "t5", "t6"]


@pytest.mark.usefixtures("local_table")
def test_one_event_per_history_event_in_version_order() -> None:
    tasks = mixed_changes()
    events = cloud_events(stream_records())
    assert len({e["id"] for e in events}) == len(events)
    for task in tasks:
        mine = [e for e in events if e["subject"] == task]
        hist = history(task)
        assert [e["id"] for e in mine] == [h["id"] for h in hist], task
        assert [e["data"]["version"] for e in mine] == list(range(1, len(hist) + 1))
        for e, h in zip(mine, hist, strict=True):
            assert e["type"] == f"baton.task.{h['action']}" and e["time"] == h["at"]
            assert e["source"] == "baton/acme" and tenant_of_event(e) == "acme"
            assert {k: e["data"][k] for k in ("from", "to", "actor", "comment")} == \
                   {k: h[k] for k in ("from", "to", "actor", "comment")}
            validate(e)
    assert [e["type"] for e in events if e["subject"] == "t5"] == ["baton.task.create", "baton.task.claim",
                                                                   "baton.task.release"]
    t2 = [e["type"] for e in events if e["subject"] == "t2"]
    assert t2 == ["baton.task.create", "baton.task.claim", "baton.task.release", "baton.task.claim"]
    shared = next(e for e in events if e["subject"] == "t1" and e["type"] == "baton.task.reassign")
    assert shared["data"]["candidates"] == ["alice", "bob"] and shared["data"]["comment"] == "share"


@pytest.mark.usefixtures("local_table")
def test_pipe_filters_agree_with_the_python_rule_on_real_records() -> None:
    mixed_changes()
    records = stream_records()
    kinds = {r["eventName"] for r in records}
    assert {"INSERT", "MODIFY"} <= kinds
    deferred = [r for r in records if "deferred" in (r["dynamodb"].get("NewImage") or {})]
    assert deferred, "the written-out direct claim is marked"
    held = [r for r in records if "lastEvent" in (r["dynamodb"].get("NewImage") or {})
            and "lastEvent" not in (r["dynamodb"].get("OldImage") or {})]
    assert len(held) == 4, "t2's two one-write claims, and the bulk's claims of t5 and t6, held in the task"
    for record in records:
        by_pattern = any(pattern_matches(p, record) for p in PIPE_FILTERS)
        assert by_pattern == (history_event_of(record) is not None), record["dynamodb"]["Keys"]
    assert sum(history_event_of(r) is not None for r in records) == len(cloud_events(records))


@pytest.mark.usefixtures("local_table")
def test_enrichment_handler_is_the_same_mapping() -> None:
    from baton_functions.task_events import lambda_handler

    mixed_changes()
    records = stream_records()
    # The Pipe hands the enrichment what its filter let through, as JSON.
    passed = json.loads(json.dumps([r for r in records if any(pattern_matches(p, r) for p in PIPE_FILTERS)],
                                   default=str))
    assert lambda_handler(passed, None) == cloud_events(records)


def test_batch_order_puts_one_task_in_version_order_and_keeps_others_in_place() -> None:
    def h(task: str, version: int) -> dict[str, Any]:
        pk = Keys.task("acme", task)["pk"]
        image = {"pk": {"S": pk}, "sk": {"S": f"H#{version:012d}"}, "id": {"S": f"{task}-{version}"},
                 "taskId": {"S": task}, "version": {"N": str(version)}, "at": {"S": "2026-01-01T00:00:00Z"},
                 "actor": {"S": "system"}, "action": {"S": "claim"}}
        return {"eventName": "INSERT", "dynamodb": {"Keys": {"pk": image["pk"], "sk": image["sk"]}, "NewImage": image}}

    events = cloud_events([h("a", 3), h("b", 1), h("a", 2), h("b", 2)])
    assert [e["id"] for e in events] == ["a-2", "b-1", "a-3", "b-2"]


def test_odd_tenants_and_ids_round_trip() -> None:
    for tenant in ("acme", "a b", "50%#x", "ünï/côde"):
        pk = Keys.task(tenant, "t#1%")["pk"]
        assert tenant_of(pk) == tenant
        event = cloud_event(tenant, {"id": "e1", "taskId": "t#1%", "version": 1, "at": "2026-01-01T00:00:00Z",
                                     "actor": "root", "action": "create", "to": "open"})
        assert tenant_of_event(event) == tenant
        validate(event)
    assert tenant_of(Keys.directory("acme")) is None and tenant_of(Keys.activity("acme", "p", "a")["pk"]) is None


def test_schema_refuses_what_is_not_an_event() -> None:
    good = cloud_event("acme", {"id": "e1", "taskId": "t", "version": 2, "at": "2026-01-01T00:00:00Z",
                                "actor": "root", "action": "claim", "to": "root"})
    validate(good)
    for broken in ({**good, "specversion": "0.3"}, {**good, "type": "baton.task.fly"},
                   {**good, "data": {**good["data"], "version": 0}}, {k: v for k, v in good.items() if k != "id"},
                   {**good, "time": "yesterday"}):
        with pytest.raises(jsonschema.ValidationError):
            validate(broken)


@pytest.mark.usefixtures("local_table")
def test_ops_caller_events_use_roles_only_for_access() -> None:
    """Events carry the actor, not the caller's roles or anything else of the token."""
    seed()
    assert claim("t1", "bob", OPS).status == 200
    event = [e for e in cloud_events(stream_records()) if e["subject"] == "t1"][-1]
    assert event["data"] == {"version": 2, "from": None, "to": "bob", "actor": "bob", "comment": None,
                             "changes": {"assignee": {"from": None, "to": "bob"}}, "reason": "request",
                             "onBehalfOf": None}
