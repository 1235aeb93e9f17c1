"""Delegation in every dialect (issue 27 item 2): `owner` and `delegationState` in Itential's task
document (`metrics.owner` is the delegation's owner) and in ConductorOne's task view (Baton's
fields beside ConductorOne's: its Task has no field of its own for them); only the owner or admin
completes (native complete, ConductorOne approve/deny, bulk complete); a delegate's release gives
it back to the owner in every dialect (native, Itential, Journey Manager unassign, bulk)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support import ADMIN, bulk, call, create_task, get_task, native, seed

pytestmark = pytest.mark.usefixtures("backend")


@pytest.fixture(autouse=True)
def _delegated(backend: str) -> None:
    seed()
    create_task("d", candidateGroups=["ops"])
    assert native("claim", "d", "alice").status == 200
    assert native("delegate", "d", "alice", {"userId": "carol"}).status == 200


def test_itentials_document_shows_the_owner_and_the_state() -> None:
    r = call("POST", "/operations-manager/tasks/d/claim", {}, user="carol")  # held already by carol: idempotent
    assert r.status == 200, r
    data = r.body["data"]
    assert (data["metrics"]["user"], data["metrics"]["owner"]) == ("carol", "alice")
    assert (data["owner"], data["delegationState"]) == ("alice", "pending")


def test_conductorones_view_carries_the_owner_and_the_state() -> None:
    task = call("GET", "/api/v1/tasks/d").body
    view = task["taskView"]["task"]
    assert view["stepApproverIds"] == ["carol"]
    assert (view["owner"], view["delegationState"]) == ("alice", "pending")


@pytest.mark.parametrize("how", ["native complete", "ConductorOne approve", "ConductorOne deny", "bulk complete"])
def test_only_the_owner_or_admin_completes_in_every_dialect(how: str) -> None:
    def finish(user: str, roles: tuple[str, ...] | None = None) -> Any:
        kw: dict[str, Any] = {"roles": roles} if roles else {}
        if how == "native complete":
            return native("complete", "d", user, **kw)
        if how == "bulk complete":
            r = bulk("complete", {"taskIds": ["d"]}, user=user, **kw)
            return type(r)(r.body["results"][0]["status"], r.body, r.headers)
        action = how.split()[1]
        return call("POST", f"/api/v1/tasks/d/action/{action}", {}, user=user, **kw)
    refused = finish("carol")
    assert refused.status == 403, refused
    if how.startswith("ConductorOne"):
        assert refused.body["code"] == 7
    assert get_task("d").body["status"] == "open"
    assert finish("alice").status == 200
    assert get_task("d").body["status"] == "completed"


def test_admin_completes_through_conductorone_too() -> None:
    assert call("POST", "/api/v1/tasks/d/action/approve", {}, user="root", roles=ADMIN).status == 200


@pytest.mark.parametrize("how", ["native release", "Itential release", "Journey Manager unassign", "bulk release"])
def test_a_delegates_release_gives_it_back_to_the_owner_in_every_dialect(how: str) -> None:
    if how == "native release":
        r = native("release", "d", "carol")
    elif how == "Itential release":
        r = call("POST", "/operations-manager/tasks/d/release", {}, user="carol")
    elif how == "Journey Manager unassign":
        r = call("POST", "/workspaces/secure/api/v1/txn/unassign", {"params": {"submitKey": "d"}}, user="carol")
    else:
        r = bulk("release", {"taskIds": ["d"]}, user="carol")
        assert r.body["results"][0]["status"] == 200, r
    assert r.status == 200, r
    task = get_task("d").body
    assert (task["assignee"], task["owner"], task["delegationState"]) == ("alice", "alice", "resolved"), task
