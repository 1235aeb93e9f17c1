"""What wakes the router when time passes and nothing else writes (API.md "People": a push group's
task is routed whenever it becomes free, "including when its lease ends"; "Absence": an absence
ends by itself at `until`, and its user is routable again). Both are timers in the timer index
written with the change that arms them (tasks.timers): a claim's lease end on the task item, an
absence's `until` on the user item. The sweep fires each once, as one conditional write with its
event (the lease taken over, `lease-expired`; the absence ended, `absence-end` reason
`absence-ended`), and that write is on the table's stream, where the router hears it
(tasks.stream.routing_triggers). The clock is moved, never waited for."""

from __future__ import annotations

from typing import Any

import pytest

from baton import clock
from baton.storage.dynamo import get_dynamo, serialize
from baton.storage.keys import SCHEMA_MARKER, Keys
from baton.tasks.migration import migrate
from baton.tasks.routing import Router
from baton.tasks.stream import Trigger, routing_triggers
from baton.tasks.sweeper import Sweeper
from tests.support import ADMIN, OPS, TENANT, call, create_task, get_task, history, native, seed
from tests.support.events import stream_records

pytestmark = pytest.mark.usefixtures("controlled_clock")
HOUR = 3600
DAY = 24 * HOUR


@pytest.fixture(autouse=True)
def _seeded(backend: str) -> None:
    seed()


def crew(members: list[str], strategy: str = "round-robin") -> None:
    r = call("PUT", "/api/v1/groups/crew", {"name": "crew", "members": members, "routing": {"strategy": strategy}},
             user="root", roles=ADMIN)
    assert r.status in (200, 201), r


def sweep() -> Any:
    return Sweeper(get_dynamo()).sweep()


def triggers_since(seen: int) -> tuple[list[Trigger], int]:
    """The routing triggers of the stream records written after the first `seen`."""
    records = stream_records()
    return routing_triggers(records[seen:]), len(records)


def load(uid: str) -> int:
    return int(next(u for u in call("GET", "/api/v1/users", query={"filter": uid}).body["items"]
                    if u["id"] == uid)["load"])


def user_events(uid: str) -> list[dict[str, Any]]:
    r = call("GET", "/api/v1/audit", user="root", roles=ADMIN,
             query={"from": clock.after(-2 * DAY), "to": clock.stamp(), "limit": "100"})
    assert r.status == 200, r
    found = [e for e in r.body["items"] if e.get("userId") == uid and e["action"].startswith("absence")]
    return sorted(found, key=lambda e: int(e["version"]))  # the user's ledger order (one frozen time)


def test_a_passed_lease_is_taken_over_by_the_sweep_once_and_the_router_routes_the_task() -> None:
    crew(["alice", "bob"])
    create_task("l1", candidateGroups=["crew"])
    assert native("claim", "l1", "alice", {"leaseSeconds": 600}).status == 200
    assert load("alice") == 1
    clock.advance(599)
    assert sweep().fired == 0 and get_task("l1").body["assignee"] == "alice"  # not yet
    _, seen = triggers_since(0)
    clock.advance(1)  # the lease has passed: nothing wrote, and the sweep's timer is due
    assert sweep().fired == 1
    task = get_task("l1").body
    assert task["assignee"] is None and task["leaseExpiresAt"] is None and load("alice") == 0
    expired = history("l1")[-1]
    assert (expired["action"], expired["actor"], expired["reason"], expired["from"]) == (
        "lease-expired", "system", "lease-expired", "alice")
    found, seen = triggers_since(seen)
    assert Trigger(TENANT, "task", "l1") in found  # the router hears the task is free
    assert Router(get_dynamo()).handle(found) == 1 and get_task("l1").body["assignee"] is not None
    clock.advance(HOUR)
    assert sweep().fired == 0  # once: the timer went with the takeover
    assert [e["action"] for e in history("l1")].count("lease-expired") == 1


def test_a_heartbeat_moves_the_lease_timer_and_a_release_removes_it() -> None:
    crew(["alice", "bob"])
    create_task("l2", candidateGroups=["crew"])
    assert native("claim", "l2", "alice", {"leaseSeconds": 600}).status == 200
    clock.advance(500)
    assert native("heartbeat", "l2", "alice", {"leaseSeconds": 600}).status == 200
    clock.advance(200)  # past the first lease's end, not the second's
    assert sweep().fired == 0 and get_task("l2").body["assignee"] == "alice"
    clock.advance(400)
    assert sweep().fired == 1 and get_task("l2").body["assignee"] is None
    create_task("l3", candidateGroups=["crew"])
    assert native("claim", "l3", "bob", {"leaseSeconds": 60}).status == 200
    assert native("release", "l3", "bob").status == 200
    clock.advance(HOUR)
    assert sweep().fired == 0 and [e["action"] for e in history("l3")] == ["create", "claim", "release"]


def test_a_lease_and_an_escalation_step_both_fire_in_their_order() -> None:
    step = {"id": "late", "after": "PT30M", "action": "notify"}
    r = call("POST", "/api/v1/tasks", {"id": "l4", "name": "l4", "candidateGroups": ["ops"], "escalations": [step]},
             user="root", roles=ADMIN)
    assert r.status == 201, r
    assert native("claim", "l4", "alice", {"leaseSeconds": 600}, roles=OPS).status == 200
    clock.advance(600)
    assert sweep().fired == 1 and history("l4")[-1]["action"] == "lease-expired"
    clock.advance(30 * 60)  # the step, behind the lease's timer, still fires
    assert sweep().fired == 1 and history("l4")[-1]["action"] == "escalated"


def test_a_lease_already_taken_over_by_a_claim_leaves_the_sweep_nothing() -> None:
    crew(["alice", "bob"])
    create_task("l5", candidateGroups=["crew"])
    assert native("claim", "l5", "alice", {"leaseSeconds": 60}).status == 200
    clock.advance(61)
    assert native("claim", "l5", "bob").status == 200  # the claim took the passed lease over
    assert sweep().fired == 0 and get_task("l5").body["assignee"] == "bob"
    assert [e["action"] for e in history("l5")] == ["create", "claim", "lease-expired", "claim"]


def absent(uid: str, hours: int, delegate: str | None = None) -> None:
    body: dict[str, Any] = {"from": clock.stamp(), "until": clock.after(hours * HOUR), "mode": "redirect"}
    if delegate:
        body["delegateTo"] = delegate
    r = call("PUT", f"/api/v1/users/{uid}/absence", body, user=uid)
    assert r.status == 200, r


def test_an_absence_ending_at_until_is_ended_once_by_the_sweep_and_its_queue_is_routed() -> None:
    crew(["bob"])
    absent("bob", 2)
    create_task("a1", candidateGroups=["crew"])
    router = Router(get_dynamo())
    assert router.route_task(TENANT, "a1") == 0  # nobody routable: it waits in the queue
    clock.advance(2 * HOUR - 1)
    assert sweep().due == 0
    _, seen = triggers_since(0)
    clock.advance(1)  # `until`: the absence has ended by itself, and its timer is due
    sweep()
    assert call("GET", "/api/v1/users", query={"filter": "bob"}).body["items"][0]["absence"] is None
    ended = user_events("bob")[-1]
    assert (ended["action"], ended["actor"], ended["reason"], ended["onBehalfOf"]) == (
        "absence-end", "system", "absence-ended", None)
    found, seen = triggers_since(seen)
    assert Trigger(TENANT, "user", "bob", ("crew", "ops")) in found  # the member is eligible again
    assert router.handle(found) == 1 and get_task("a1").body["assignee"] == "bob"
    assert history("a1")[-1]["reason"] == "routing:round-robin"
    clock.advance(HOUR)
    sweep()
    assert [e["action"] for e in user_events("bob")] == ["absence-set", "absence-end"]  # once


def test_an_absence_ended_early_or_replaced_is_not_ended_again_at_its_old_until() -> None:
    absent("alice", 1)
    assert call("DELETE", "/api/v1/users/alice/absence", user="alice").status == 200
    absent("bob", 1)
    absent("bob", 5)  # replaced: its timer moved to the new `until`
    clock.advance(HOUR + 1)
    sweep()
    assert [e["action"] for e in user_events("alice")] == ["absence-set", "absence-end"]
    assert [e["actor"] for e in user_events("bob")] == ["bob", "bob"]
    assert call("GET", "/api/v1/users", query={"filter": "bob"}).body["items"][0]["absence"] is not None
    clock.advance(4 * HOUR)
    sweep()
    assert [e["actor"] for e in user_events("bob")] == ["bob", "bob", "system"]


def test_the_migration_arms_the_timers_of_leases_and_absences_from_before_them() -> None:
    """Schema 7: a lease or an absence written before they had timers gets its timer from `baton
    migrate`, and the sweep then ends each at its time."""
    crew(["alice", "bob"])
    create_task("m1", candidateGroups=["crew"])
    assert native("claim", "m1", "alice", {"leaseSeconds": 600}).status == 200
    absent("bob", 1)
    db = get_dynamo()
    for key in (Keys.task(TENANT, "m1"), Keys.user(TENANT, "bob")):  # as an older Baton left them
        db.call("update_item", TableName=db.table, Key=serialize(key), UpdateExpression="REMOVE gsi6pk, gsi6sk")
    db.call("put_item", TableName=db.table, Item=serialize({**SCHEMA_MARKER, "schema": 6, "shards": 32}))
    clock.advance(HOUR + 1)
    assert sweep().due == 0  # no timer: nothing to sweep
    assert migrate(db) >= 1
    report = sweep()
    assert report.fired == 1 and get_task("m1").body["assignee"] is None
    assert [e["actor"] for e in user_events("bob")] == ["bob", "system"]
    assert migrate(db) == 0  # once per schema
