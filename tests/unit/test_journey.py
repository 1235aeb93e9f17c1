"""Journey Manager txn unassign and assign: every error key of the page, plus txnAlreadyAssigned."""

from __future__ import annotations

from typing import Any

import pytest

from baton.storage.dynamo import Dynamo
from tests.support import ADMIN, OPS, call, claim, get_task, history, seed

UNASSIGN = "/workspaces/secure/api/v1/txn/unassign"
ASSIGN = "/workspaces/secure/api/v1/txn/assign"


def txn(path: str, body: Any, user: str = "alice", roles: tuple[str, ...] = OPS, **kw: Any) -> Any:
    return call("POST", path, body, user=user, roles=roles, **kw)


def key(task: str, **extra: str) -> dict[str, Any]:
    return {"params": {"submitKey": task, **extra}}


@pytest.fixture(autouse=True)
def _seeded(backend: str) -> None:
    seed()


def test_unassign_returns_a_group_task_to_its_queue() -> None:
    claim("t1", "alice")
    r = txn(UNASSIGN, key("t1"))
    assert r.status == 200 and r.headers["etag"] == '"3"'  # the task's new version
    assert get_task("t1").body["assignee"] is None
    last = history("t1")[-1]
    assert (last["action"], last["actor"], last["from"], last["to"]) == ("unassign", "alice", "alice", None)
    queue = call("GET", "/api/v1/tasks", query={"candidate": "me"}, user="bob").body["items"]
    assert "t1" in [t["id"] for t in queue]


def test_unassign_by_another_group_member_or_admin() -> None:
    claim("t1", "alice")
    assert txn(UNASSIGN, key("t1"), user="bob").status == 200
    claim("t1", "alice")
    assert txn(UNASSIGN, key("t1"), user="root", roles=ADMIN).status == 200


def test_unassign_of_an_unassigned_group_task_is_a_no_op() -> None:
    r = txn(UNASSIGN, key("t1"))
    assert r.status == 200 and len(history("t1")) == 1


@pytest.mark.parametrize(("body", "error_key"), [
    (None, "submitKeyNotSpecified"),
    ({}, "submitKeyNotSpecified"),
    ({"params": {}}, "submitKeyNotSpecified"),
    ({"params": {"submitKey": ""}}, "submitKeyNotSpecified"),
    ({"params": {"submitKey": "nope"}}, "txnNotFound"),
    ({"params": {"submitKey": "t3"}}, "txnNotTask"),
    ({"params": {"submitKey": "t2"}}, "notGroupTask"),
])
def test_unassign_error_keys(body: Any, error_key: str) -> None:
    r = txn(UNASSIGN, body, user="carol")
    assert r.status == 400 and r.body["errorKey"] == error_key and r.body["message"], r


def test_unassign_finished_and_access_denied() -> None:
    claim("t1", "alice")
    r = txn(UNASSIGN, key("t1"), user="carol")
    assert r.status == 400 and r.body["errorKey"] == "accessDenied"
    assert get_task("t1").body["assignee"] == "alice"
    call("POST", "/api/v1/tasks/t1/action/complete", user="alice")
    r = txn(UNASSIGN, key("t1"))
    assert r.status == 400 and r.body["errorKey"] == "txnAlreadyFinished"
    r = txn(UNASSIGN, key("t1"), roles=())
    assert r.status == 400 and r.body["errorKey"] == "accessDenied"


@pytest.mark.parametrize("body", [
    {"params": {"submitKey": "t1", "extra": 1}},
    {"params": {"submitKey": "t1"}, "other": True},
    {"params": {"submitKey": ["t1"]}},
    {"params": "t1"},
    "{not json",
])
def test_unknown_attributes_and_bad_types_are_400(body: Any) -> None:
    for path in (UNASSIGN, ASSIGN):
        r = txn(path, body)
        assert r.status == 400 and r.body["errorKey"], r
    assert get_task("t1").body["version"] == 1


def test_assign_gives_the_group_task_to_the_caller() -> None:
    r = txn(ASSIGN, key("t1"))
    assert r.status == 200 and r.headers["etag"] == '"2"' and get_task("t1").body["assignee"] == "alice"
    assert txn(ASSIGN, key("t1")).status == 200  # already the caller's: no-op
    assert len(history("t1")) == 2
    r = txn(ASSIGN, key("t1"), user="bob")
    assert r.status == 400 and r.body["errorKey"] == "txnAlreadyAssigned" and "alice" in r.body["message"]


def test_assign_to_someone_else_needs_admin_and_a_member() -> None:
    r = txn(ASSIGN, key("t1", userKey="bob"))
    assert r.status == 400 and r.body["errorKey"] == "accessDenied"
    r = txn(ASSIGN, key("t1", userKey="carol"), user="root", roles=ADMIN)
    assert r.status == 400 and r.body["errorKey"] == "accessDenied"
    r = txn(ASSIGN, key("t1", userKey="ghost"), user="root", roles=ADMIN)
    assert r.status == 400 and r.body["errorKey"] == "accessDenied"
    r = txn(ASSIGN, key("t1", userKey="bob"), user="root", roles=ADMIN)
    assert r.status == 200 and get_task("t1").body["assignee"] == "bob"
    r = txn(ASSIGN, key("t1", userKey="alice"), user="root", roles=ADMIN)
    assert r.status == 400 and r.body["errorKey"] == "txnAlreadyAssigned"


@pytest.mark.parametrize(("task", "error_key"), [("nope", "txnNotFound"), ("t3", "txnNotTask"),
                                                  ("t2", "notGroupTask")])
def test_assign_error_keys(task: str, error_key: str) -> None:
    r = txn(ASSIGN, key(task))
    assert r.status == 400 and r.body["errorKey"] == error_key


def test_non_member_cannot_take_a_group_task() -> None:
    r = txn(ASSIGN, key("t1"), user="carol")
    assert r.status == 400 and r.body["errorKey"] == "accessDenied"


def test_unexpected_fault_is_500_and_writes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    claim("t1", "alice")

    def broken(*_: Any, **__: Any) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(Dynamo, "transact", broken)
    r = txn(UNASSIGN, key("t1"))
    assert (r.status, r.body) == (500, {"errorKey": "internalServerError"})
    monkeypatch.undo()
    assert get_task("t1").body["assignee"] == "alice" and len(history("t1")) == 2
