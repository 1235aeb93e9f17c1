"""Claim leases under contention on DynamoDB Local: takeovers of an expired lease racing each
other and the holder's heartbeats, and the events they publish (the rules and each behaviour
on moto are in tests/unit/test_leases.py). Time moves through baton.clock, never by sleeping."""

from __future__ import annotations

from collections import Counter
from functools import partial

import pytest

from baton import clock
from baton.tasks.stream import cloud_events
from tests.support import ADMIN, call, concurrently, get_task, history, in_processes, native
from tests.support.events import stream_records, validate

pytestmark = pytest.mark.usefixtures("controlled_clock")


CLAIMERS = [f"c{i}" for i in range(64)]


@pytest.fixture
def crowd(local_table: str) -> None:
    for u in [*CLAIMERS, "holder"]:
        assert call("PUT", f"/api/v1/users/{u}", {"username": u}, user="root", roles=ADMIN).status == 201
    assert call("PUT", "/api/v1/groups/crowd", {"name": "Crowd", "members": [*CLAIMERS, "holder"]},
                user="root", roles=ADMIN).status == 201


def leased(task_id: str, seconds: int = 60) -> None:
    assert call("POST", "/api/v1/tasks", {"id": task_id, "name": "Race", "candidateGroups": ["crowd"]},
                user="root", roles=ADMIN).status == 201
    assert native("claim", task_id, "holder", {"leaseSeconds": seconds}).status == 200


@pytest.mark.usefixtures("crowd")
def test_64_claimers_on_an_expired_lease_exactly_one_wins() -> None:
    leased("race")
    clock.advance(61)
    with in_processes():  # forked after the clock moved
        results = concurrently([partial(native, "claim", "race", u) for u in CLAIMERS])
    statuses = Counter(r.status for r in results)
    assert statuses == {200: 1, 409: 63}, statuses
    winner = next(r.body["assignee"] for r in results if r.status == 200)
    assert get_task("race").body["assignee"] == winner
    events = history("race")
    assert [e["action"] for e in events] == ["create", "claim", "lease-expired", "claim"]
    assert events[-1]["actor"] == winner and events[2]["from"] == "holder"


@pytest.mark.usefixtures("crowd")
@pytest.mark.parametrize("expired", [False, True])
def test_heartbeat_racing_a_takeover_has_exactly_one_outcome(expired: bool) -> None:
    task_id = f"beat-{expired}"
    leased(task_id, 60)
    clock.advance(60 if expired else 59)  # the clock is frozen: the workers fork with it
    beats = [partial(native, "heartbeat", task_id, "holder", {"leaseSeconds": 60}) for _ in range(4)]
    claims = [partial(native, "claim", task_id, u) for u in CLAIMERS[:16]]
    with in_processes():  # forked after the clock moved
        results = concurrently([*beats, *claims])
    beat_ok = sum(r.status == 200 for r in results[:4])
    claim_ok = [r for r in results[4:] if r.status == 200]
    # A heartbeat that arrives after a takeover finds the task held by the winner: 403 (truly
    # concurrent requests, one per worker process, do arrive in that order sometimes).
    assert all(r.status in (200, 409) for r in results[4:]), Counter(r.status for r in results)
    assert all(r.status in (200, 403, 409) for r in results[:4]), Counter(r.status for r in results)
    actions = [e["action"] for e in history(task_id)]
    task = get_task(task_id).body
    if expired:  # the takeover: one claimer wins, every heartbeat is refused
        assert beat_ok == 0 and len(claim_ok) == 1
        assert task["assignee"] == claim_ok[0].body["assignee"]
        assert actions == ["create", "claim", "lease-expired", "claim"]
    else:  # the lease holds: the heartbeats extend it, every claim is refused
        assert beat_ok == 4 and not claim_ok
        assert task["assignee"] == "holder" and actions == ["create", "claim"] + ["heartbeat"] * 4


@pytest.mark.usefixtures("crowd")
def test_lease_changes_are_published_once_each_and_match_the_schema() -> None:
    leased("ev")
    assert native("heartbeat", "ev", "holder", {"leaseSeconds": 30}).status == 200
    clock.advance(31)
    assert native("claim", "ev", "c1").status == 200
    events = [e for e in cloud_events(stream_records()) if e["subject"] == "ev"]
    assert [e["id"] for e in events] == [h["id"] for h in history("ev")]
    assert [e["type"].removeprefix("baton.task.") for e in events] == [
        "create", "claim", "heartbeat", "lease-expired", "claim"]
    assert events[3]["data"]["actor"] == "system" and events[3]["data"]["from"] == "holder"
    for e in events:
        validate(e)
