"""The ledger's pure rules: changes over the audited fields, the contract's hash, verification,
and the reason codes."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from baton import ledger
from baton.tasks import reasons
from baton.tasks.domain import HistoryEvent, Task

NOW = "2026-12-06T20:00:00.000000Z"


def task(**fields: Any) -> dict[str, Any]:
    return dict(Task.model_validate({"id": "t1", "name": "T", "createdAt": NOW, "updatedAt": NOW, **fields}))


def test_changes_name_every_audited_field_that_differs_and_nothing_else() -> None:
    before = task(assignee="bob", priority=50, leaseExpiresAt="2026-12-06T21:00:00.000000Z")
    after = task(assignee="cat", priority=80, leaseExpiresAt=None, version=2, updatedAt="2026-12-06T20:01:00Z",
                 name="renamed")
    assert ledger.changes(before, after) == {
        "assignee": {"from": "bob", "to": "cat"}, "priority": {"from": 50, "to": 80},
        "lease": {"from": "2026-12-06T21:00:00.000000Z", "to": None}}


def test_changes_compare_lists_and_policies_and_ignore_empty_to_empty() -> None:
    before = task(candidateUsers=["a"], candidateGroups=[])
    after = task(candidateUsers=["a", "b"], candidateGroups=[],
                 policy={"allowReassignment": False, "allowedReassignees": [], "requireReassignmentReason": False})
    out = ledger.changes(before, after)
    assert out["candidateUsers"] == {"from": ["a"], "to": ["a", "b"]}
    assert out["policy"]["from"]["allowReassignment"] is True and out["policy"]["to"]["allowReassignment"] is False
    assert "candidateGroups" not in out


def test_a_creation_sets_every_field_it_gives_a_value() -> None:
    out = ledger.changes(None, task(candidateGroups=["ops"], dueDate="2026-12-07T00:00:00.000000Z"))
    assert out["status"] == {"from": None, "to": "open"}
    assert out["candidateGroups"] == {"from": None, "to": ["ops"]}
    assert out["priority"] == {"from": None, "to": 50}
    assert "assignee" not in out and "candidateUsers" not in out and "lease" not in out


def test_fields_a_later_feature_adds_are_audited_when_present() -> None:
    out = ledger.changes({"owner": None, "escalations": []}, {"owner": "ada", "escalations": [{"id": "s1"}]})
    assert out == {"owner": {"from": None, "to": "ada"}, "escalations": {"from": [], "to": [{"id": "s1"}]}}


def event(version: int, **fields: Any) -> dict[str, Any]:
    return HistoryEvent.model_validate({"id": f"e{version}", "taskId": "t1", "version": version, "at": NOW,
                                        "actor": "ada", "action": "claim", **fields}).public()


def contract_hash(previous: str, e: dict[str, Any]) -> str:
    """The contract's words, in a client's own code."""
    body = {k: v for k, v in e.items() if k != "hash"}
    return hashlib.sha256((previous + json.dumps(body, sort_keys=True, separators=(",", ":"))).encode()).hexdigest()


def test_the_hash_is_the_contracts_and_chains() -> None:
    events = [event(1, action="create", to="open"), event(2, to="ada", comment="é ✓ \u2028")]
    ledger.chain(None, events)
    assert events[0]["hash"] == contract_hash("", events[0])
    assert events[1]["hash"] == contract_hash(events[0]["hash"], events[1])
    assert all(len(e["hash"]) == 64 and e["hash"] == e["hash"].lower() for e in events)
    assert ledger.verify(events) == ledger.Verification(True, None, 2, 1)


def test_served_form_keeps_core_keys_and_drops_unset_extras() -> None:
    served = event(1)
    assert {"from", "to", "comment", "changes", "reason", "onBehalfOf", "hash"} <= set(served)
    assert served["reason"] == "request" and served["changes"] == {} and served["onBehalfOf"] is None
    assert "candidates" not in served
    assert ledger.served({**served, "offeredTo": None, "candidates": ["a", "b"]})["candidates"] == ["a", "b"]
    assert "offeredTo" not in ledger.served({**served, "offeredTo": None})


def test_verify_names_the_first_event_that_does_not_follow() -> None:
    events = [event(v) for v in range(1, 6)]
    ledger.chain(None, events)
    tampered = [dict(e) for e in events]
    tampered[2]["actor"] = "mallory"
    assert ledger.verify(tampered) == ledger.Verification(False, 3, 3, 1)
    rehashed = [dict(e) for e in tampered]
    rehashed[2]["hash"] = ledger.event_hash(rehashed[1]["hash"], rehashed[2])
    assert ledger.verify(rehashed).brokenAt == 4  # the next one no longer follows
    gap = events[:2] + events[3:]
    assert ledger.verify(gap).brokenAt == 3
    unhashed = [dict(e) for e in events]
    unhashed[3]["hash"] = None  # a hash removed after the chain started
    assert ledger.verify(unhashed).brokenAt == 4


def test_the_chain_starts_at_the_first_hashed_event() -> None:
    old = [event(1), event(2)]  # written before the ledger: no hash
    new = [event(3), event(4)]
    ledger.chain(None, new)
    result = ledger.verify(old + new)
    assert result == ledger.Verification(True, None, 2, 3)
    assert ledger.verify(old) == ledger.Verification(True, None, 0, None)


def test_the_task_items_head_catches_a_cut_or_a_rewritten_last_event() -> None:
    events = [event(v) for v in range(1, 5)]
    last = ledger.chain(None, events)
    assert ledger.verify(events, (4, last)).verified
    assert ledger.verify(events[:3], (4, last)).brokenAt == 4  # the last event deleted
    rewritten = [dict(e) for e in events]
    rewritten[3]["actor"] = "mallory"
    rewritten[3]["hash"] = ledger.event_hash(rewritten[2]["hash"], rewritten[3])
    assert ledger.verify(rewritten).verified  # consistent on its own...
    assert ledger.verify(rewritten, (4, last)).brokenAt == 4  # ...but not with the task item


def test_reason_codes() -> None:
    assert reasons.routing("round-robin") == "routing:round-robin"
    assert reasons.escalation("s1") == "escalation:s1"
    assert reasons.absence("share") == "absence:share"
    for code in ("request", "lease-expired", "offer-expired", "offer-rejected", "offboarding",
                 "routing:least-loaded", "escalation:step-2", "absence:redirect"):
        assert reasons.is_reason(code), code
    for code in ("", "routing:", "routing:random", "absence:away", "escalation:", "escalation:a b", "because"):
        assert not reasons.is_reason(code), code
    with pytest.raises(ValueError):
        reasons.routing("random")
    with pytest.raises(ValueError):
        reasons.absence("gone")
    with pytest.raises(ValueError):
        reasons.escalation("")
    assert "lease-expired" in reasons.ACTIONS and "assignee-add" in reasons.ACTIONS


def test_the_cloud_event_carries_changes_reason_and_on_behalf_of() -> None:
    import jsonschema

    from baton.tasks.events import cloud_event
    from tests.support.events import event_schema

    e = event(2, to="ada", changes={"assignee": {"from": None, "to": "ada"}}, reason="absence:redirect",
              onBehalfOf="bob")
    out = cloud_event("acme", e)
    assert out["data"]["changes"] == {"assignee": {"from": None, "to": "ada"}}
    assert out["data"]["reason"] == "absence:redirect" and out["data"]["onBehalfOf"] == "bob"
    jsonschema.validate(out, event_schema())
    old = cloud_event("acme", {k: v for k, v in e.items() if k not in ("changes", "reason", "onBehalfOf")})
    assert old["data"]["changes"] == {} and old["data"]["reason"] == "request" and old["data"]["onBehalfOf"] is None
    jsonschema.validate(old, event_schema())
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(cloud_event("acme", {**e, "reason": "because"}), event_schema())
