"""Round trips of each task action through its handler (moto): every action one read and one
write. (Before capacity a direct candidate's claim was one write alone and a group candidate's
the refused one-write claim then a transaction; the claim now moves the claimant's load in its
transaction, which returns no task to answer with: docs/decisions.md, "People".)
`make bench` measures the same on DynamoDB Local (`ddb_calls`, goals)."""

from __future__ import annotations

import pytest

from tests.support import call, counted, create_task, seed

pytestmark = pytest.mark.usefixtures("moto_table")


def test_each_action_costs_what_it_did() -> None:
    seed()
    create_task("d", candidateUsers=["alice"])
    create_task("g", candidateGroups=["ops"])
    jm = "/workspaces/secure/api/v1/txn"
    for label, request, expected in (
        ("direct claim", lambda: call("POST", "/api/v1/tasks/d/action/claim", {}, user="alice"),
         {"BatchGetItem": 1, "TransactWriteItems": 1}),
        ("group claim", lambda: call("POST", "/operations-manager/tasks/g/claim", {}, user="alice"),
         {"BatchGetItem": 1, "TransactWriteItems": 1}),
        ("release", lambda: call("POST", "/api/v1/tasks/g/action/release", {}, user="alice"),
         {"BatchGetItem": 1, "TransactWriteItems": 1}),
        ("assign", lambda: call("POST", "/operations-manager/tasks/g/assign", {"userId": "alice"}, user="bob"),
         {"BatchGetItem": 1, "TransactWriteItems": 1}),
        ("unassign", lambda: call("POST", f"{jm}/unassign", {"params": {"submitKey": "g"}}, user="alice"),
         {"BatchGetItem": 1, "TransactWriteItems": 1}),
        ("group assign", lambda: call("POST", f"{jm}/assign", {"params": {"submitKey": "g"}}, user="alice"),
         {"BatchGetItem": 1, "TransactWriteItems": 1}),
        ("reassign", lambda: call("POST", "/api/v1/tasks/g/action/reassign", {"newStepUserIds": ["bob"]}, user="alice"),
         {"BatchGetItem": 1, "TransactWriteItems": 1}),
        ("complete", lambda: call("POST", "/api/v1/tasks/g/action/complete", {}, user="bob"),
         {"BatchGetItem": 1, "TransactWriteItems": 1}),
    ):
        r, calls = counted(request)
        assert r.status == 200, (label, r)
        assert calls == expected and sum(calls.values()) <= 2, (label, calls)
