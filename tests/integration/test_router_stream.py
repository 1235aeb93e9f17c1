"""The router function's stream filters (baton.tasks.stream.ROUTER_FILTERS, the event source
mapping's in AWS: infra/router.py) let through every real record that `routing_triggers` would
route, and drop what cannot matter (history items, held tasks' changes), on DynamoDB Local."""

from __future__ import annotations

import pytest

from baton.storage.dynamo import get_dynamo
from baton.tasks.routing import Router
from baton.tasks.stream import ROUTER_FILTERS, routing_triggers
from tests.integration.test_events import pattern_matches
from tests.support import ADMIN, TENANT, call, claim, create_task, release, seed
from tests.support.events import stream_records


@pytest.mark.usefixtures("local_table")
def test_router_filters_pass_every_record_that_triggers_routing() -> None:
    seed()
    for gid, routing in (("rr", {"strategy": "round-robin"}), ("of", {"strategy": "least-loaded",
                                                                       "offerSeconds": 60})):
        r = call("PUT", f"/api/v1/groups/{gid}", {"name": gid, "members": ["alice", "bob", "carol"],
                                                  "routing": routing}, user="root", roles=ADMIN)
        assert r.status == 201, r
    router = Router(get_dynamo())
    create_task("r1", candidateGroups=["rr"])
    create_task("r2", candidateGroups=["of"])
    create_task("r3", candidateGroups=["ops"])
    assert router.route_task(TENANT, "r1") == 1 and router.route_task(TENANT, "r2") == 1
    holder = call("GET", "/api/v1/tasks/r1").body["assignee"]
    assert release("r1", holder).status == 200
    offered = call("GET", "/api/v1/tasks/r2").body["offeredTo"]
    assert call("POST", "/api/v1/tasks/r2/action/reject", user=offered).status == 200
    assert claim("r3", "alice").status == 200 and release("r3", "alice").status == 200
    assert call("PUT", "/api/v1/users/bob/presence", {"status": "away"}, user="bob").status == 200
    assert call("PUT", "/api/v1/users/bob/presence", {"status": "available"}, user="bob").status == 200
    assert call("PUT", "/api/v1/users/carol", {"username": "carol", "capacity": 2}, user="root",
                roles=ADMIN).status == 200
    assert call("PUT", "/api/v1/users/carol", {"username": "carol", "capacity": 5}, user="root",
                roles=ADMIN).status == 200
    away = {"from": "2026-01-01T00:00:00Z", "until": "2099-01-01T00:00:00Z"}
    assert call("PUT", "/api/v1/users/alice/absence", away, user="alice").status == 200
    assert call("DELETE", "/api/v1/users/alice/absence", user="alice").status == 200  # back: routable
    records = stream_records()
    passed = [r for r in records if any(pattern_matches(p, r) for p in ROUTER_FILTERS)]
    triggering = [r for r in records if routing_triggers([r])]
    kinds = {t.kind for r in triggering for t in routing_triggers([r])}
    assert kinds == {"task", "user", "offer"}, kinds  # every kind of trigger is exercised
    for record in triggering:
        assert record in passed, record["dynamodb"]["Keys"]
    back = [r for r in triggering if "absence" in r["dynamodb"].get("OldImage", {})]
    assert len(back) == 1 and "absence" not in back[0]["dynamodb"]["NewImage"]  # the ended absence
    assert not any(r["dynamodb"]["Keys"]["sk"]["S"].startswith("H#") for r in passed)  # no history item
    assert len(passed) < len(records) / 2, (len(passed), len(records))
    assert routing_triggers(passed) == routing_triggers(records)  # the function sees the same triggers
