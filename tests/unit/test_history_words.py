"""The inbox's History in words (issue 24): `describeEvent` (layers/baton/web/history.js) run by
Node on events as the history route serves them; and the page loads it."""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

import pytest

from baton.web import HERE
from tests.support import call

NAMES = {"bob": "Bob", "cat": "Cat", "ada": "Ada"}


def describe(*events: dict[str, Any]) -> list[str]:
    node = shutil.which("node")
    if node is None:  # pragma: no cover - Node is a requirement of the project (the CDK)
        pytest.fail("Node.js is required")
    script = (f"const {{describeEvent}} = require({json.dumps(str(HERE / 'history.js'))});"
              f"const names = {json.dumps(NAMES)};"
              f"const events = {json.dumps(list(events))};"
              "console.log(JSON.stringify(events.map((e) => describeEvent(e, (id) => names[id] || id))));")
    out = subprocess.run([node, "-e", script], capture_output=True, text=True, check=True, timeout=30)
    result: list[str] = json.loads(out.stdout)
    return result


def test_changes_and_reason_in_words() -> None:
    assert describe(
        {"action": "reassign", "actor": "ada", "reason": "request", "comment": "rebalance",
         "changes": {"assignee": {"from": "bob", "to": "cat"}}},
        {"action": "lease-expired", "actor": "system", "reason": "lease-expired", "comment": None,
         "changes": {"assignee": {"from": "bob", "to": None}}},
        {"action": "update", "actor": "ada", "reason": "request",
         "changes": {"priority": {"from": 50, "to": 80}, "candidateGroups": {"from": [], "to": ["ops"]}}},
        {"action": "claim", "actor": "cat", "reason": "absence:redirect", "onBehalfOf": "bob",
         "changes": {"assignee": {"from": None, "to": "cat"}}},
        {"action": "create", "actor": "ada", "reason": "request", "changes": {"status": {"from": None, "to": "open"}}},
        {"action": "complete", "actor": "cat", "changes": {}},  # an event from before the ledger
    ) == [
        "Bob → Cat, reassigned by Ada: rebalance",
        "Bob → nobody, lease expired by system (the lease expired)",
        "priority 50 → 80; candidate groups none → ops, updated by Ada",
        "nobody → Cat, claimed by Cat for Bob (absence (redirect))",
        "created by Ada",
        "completed by Cat",
    ]


def test_the_inbox_loads_it_before_its_own_script() -> None:
    page = str(call("GET", "/", raw=True).body)
    assert page.index('src="inbox/history.js"') < page.index('src="inbox/inbox.js"')
    r = call("GET", "/inbox/history.js", raw=True)
    assert r.status == 200 and "describeEvent" in str(r.body)
