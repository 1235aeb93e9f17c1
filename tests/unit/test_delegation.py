"""Delegation with return (API.md "Absence, delegation, offboarding"): the holder delegates and
stays owner; the delegate resolves (or releases) it back; only the owner or admin completes."""

from __future__ import annotations

import pytest

from tests.support import ADMIN, create_task, get_task, history, native, seed

pytestmark = pytest.mark.usefixtures("backend")


@pytest.fixture(autouse=True)
def _held(backend: str) -> None:
    seed()
    create_task("d", candidateUsers=["alice"])
    assert native("claim", "d", "alice").status == 200


def test_delegate_then_resolve_gives_it_back_to_the_owner() -> None:
    r = native("delegate", "d", "alice", {"userId": "bob", "comment": "please check"})
    assert r.status == 200, r
    assert (r.body["assignee"], r.body["owner"], r.body["delegationState"]) == ("bob", "alice", "pending")
    r = native("resolve", "d", "bob", {"comment": "checked"})
    assert r.status == 200, r
    assert (r.body["assignee"], r.body["owner"], r.body["delegationState"]) == ("alice", "alice", "resolved")
    assert [e["action"] for e in history("d")][-2:] == ["delegate", "resolve"]


def test_a_delegates_release_returns_it_to_the_owner_not_the_queue() -> None:
    native("delegate", "d", "alice", {"userId": "bob"})
    r = native("release", "d", "bob")
    assert r.status == 200 and r.body["assignee"] == "alice" and r.body["delegationState"] == "resolved"


def test_only_the_owner_or_admin_completes_a_delegated_task() -> None:
    native("delegate", "d", "alice", {"userId": "bob"})
    assert native("complete", "d", "bob").status == 403
    r = native("complete", "d", "alice", {"outcome": "done"})
    assert r.status == 200 and r.body["completedBy"] == "alice"


def test_admin_completes_a_delegated_task() -> None:
    native("delegate", "d", "alice", {"userId": "bob"})
    assert native("complete", "d", "root", roles=ADMIN).status == 200


def test_who_may_delegate_and_resolve() -> None:
    assert native("delegate", "d", "bob", {"userId": "carol"}).status == 403  # not the holder
    assert native("delegate", "d", "alice", {"userId": "ghost"}).status == 400  # not a user
    assert native("resolve", "d", "alice").status == 409  # not delegated
    native("delegate", "d", "alice", {"userId": "bob"})
    assert native("delegate", "d", "bob", {"userId": "carol"}).status == 409  # delegated already
    assert native("resolve", "d", "carol").status == 403  # not the delegate
    assert native("delegate", "d", "alice", {}).status == 400
    assert get_task("d").body["assignee"] == "bob"


def test_a_hand_over_ends_the_delegation() -> None:
    native("delegate", "d", "alice", {"userId": "bob"})
    r = native("reassign", "d", "root", {"newStepUserIds": ["carol"]}, roles=ADMIN)
    assert r.status == 200
    task = get_task("d").body
    assert (task["assignee"], task["owner"], task["delegationState"]) == ("carol", None, None)
