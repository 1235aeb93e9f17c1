"""The audit shows who stands in for whom (issue 27 item 6): an absence set and ended (directory
events `absence-set`/`absence-end` in the tenant audit, hash-chained per user), a delegation and
its resolution, and work given on behalf of an absent user, each with its reason."""

from __future__ import annotations

from typing import Any

import pytest

from baton import clock, ledger
from tests.support import ADMIN, call, create_task, native, seed

pytestmark = pytest.mark.usefixtures("backend", "controlled_clock")


@pytest.fixture(autouse=True)
def _seeded(backend: str) -> None:
    seed()


def audit(start: str, **query: str) -> list[dict[str, Any]]:
    r = call("GET", "/api/v1/audit", user="root", roles=ADMIN, query={"from": start, "to": clock.stamp(), **query})
    assert r.status == 200, r
    return list(r.body["items"])


def then(reply: Any) -> None:
    assert reply.status == 200, reply
    clock.advance(1)  # events sort by time


def test_an_absence_set_and_ended_is_in_the_audit_with_its_chain() -> None:
    start = clock.stamp()
    body = {"from": clock.stamp(), "until": clock.after(3600), "delegateTo": "bob", "mode": "share"}
    then(call("PUT", "/api/v1/users/alice/absence", body, user="alice"))
    then(call("DELETE", "/api/v1/users/alice/absence", user="root", roles=ADMIN))
    events = [e for e in audit(start) if e.get("userId") == "alice"]
    assert [(e["action"], e["actor"], e["onBehalfOf"], e["reason"]) for e in events] == [
        ("absence-set", "alice", None, "request"), ("absence-end", "root", "alice", "request")]
    first, second = events
    assert first["kind"] == "directory" and (first["from"], first["to"]) == (None, "bob")
    assert first["changes"]["absence"]["from"] is None
    assert first["changes"]["absence"]["to"]["delegateTo"] == "bob"
    assert first["changes"]["absence"]["to"]["mode"] == "share"
    assert second["changes"]["absence"]["to"] is None and second["changes"]["absence"]["from"]["delegateTo"] == "bob"
    assert (first["version"], second["version"]) == (1, 2)
    assert first["hash"] == ledger.event_hash(None, first)
    assert second["hash"] == ledger.event_hash(first["hash"], second)
    only = audit(start, action="absence-end")
    assert [e["action"] for e in only] == ["absence-end"]


def test_a_refused_absence_writes_no_event() -> None:
    start = clock.stamp()
    then(call("PUT", "/api/v1/users/alice/absence",
              {"from": clock.stamp(), "until": clock.after(60), "delegateTo": "bob"}, user="alice"))
    r = call("PUT", "/api/v1/users/bob/absence", {"from": clock.stamp(), "until": clock.after(60),
                                                   "delegateTo": "alice"}, user="bob")
    assert r.status == 409
    assert [e["userId"] for e in audit(start) if e["action"].startswith("absence")] == ["alice"]


def test_delegation_and_work_on_behalf_are_in_the_audit_with_their_reason() -> None:
    create_task("d", candidateUsers=["alice"])
    create_task("g", candidateGroups=["ops"])
    clock.advance(1)
    start = clock.stamp()
    then(native("claim", "d", "alice"))
    then(native("delegate", "d", "alice", {"userId": "carol", "comment": "check the figures"}))
    then(native("resolve", "d", "carol"))
    then(call("PUT", "/api/v1/users/alice/absence",
              {"from": clock.stamp(), "until": clock.after(3600), "delegateTo": "dave"}, user="alice"))
    then(call("POST", "/operations-manager/tasks/g/assign", {"userId": "alice"}, user="bob"))
    events = [e for e in audit(start) if e.get("taskId") in ("d", "g")]
    got = [(e["taskId"], e["action"], e["to"], e["reason"], e["onBehalfOf"]) for e in events]
    assert got == [("d", "claim", "alice", "request", None), ("d", "delegate", "carol", "request", None),
                   ("d", "resolve", "alice", "request", None), ("g", "assign", "dave", "absence:redirect", "alice")]
    delegate = events[1]
    assert delegate["changes"]["owner"] == {"from": None, "to": "alice"}
    assert delegate["changes"]["assignee"] == {"from": "alice", "to": "carol"}
    assert [e["action"] for e in audit(start, action="delegate")] == ["delegate"]
