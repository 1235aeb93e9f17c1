"""Absence: PUT/DELETE /api/v1/users/{id}/absence (API.md "Absence, delegation, offboarding"):
who may set it, validation, cycles refused when set, an absence that ends by itself."""

from __future__ import annotations

from typing import Any

import pytest

from baton import clock
from tests.support import ADMIN, OPS, call, seed

pytestmark = pytest.mark.usefixtures("backend")
FROM, UNTIL = "2026-12-01T00:00:00Z", "2026-12-31T00:00:00Z"


@pytest.fixture(autouse=True)
def _seeded(backend: str) -> None:
    seed()


def away(uid: str, delegate: str | None, mode: str = "redirect", by: str | None = None,
         roles: tuple[str, ...] = OPS, **extra: Any) -> Any:
    body = {"from": FROM, "until": UNTIL, "mode": mode, **extra}
    if delegate is not None:
        body["delegateTo"] = delegate
    return call("PUT", f"/api/v1/users/{uid}/absence", body, user=by or uid, roles=roles)


def test_a_user_sets_and_ends_their_own_absence() -> None:
    r = away("alice", "bob")
    assert r.status == 200, r
    assert r.body["absence"] == {"from": "2026-12-01T00:00:00.000000Z", "until": "2026-12-31T00:00:00.000000Z",
                                 "delegateTo": "bob", "mode": "redirect"}
    listed = call("GET", "/api/v1/users", query={"filter": "alice"}).body["items"][0]
    assert listed["absence"]["delegateTo"] == "bob" and listed["absence"]["from"] == "2026-12-01T00:00:00.000000Z"
    r = call("DELETE", "/api/v1/users/alice/absence", user="alice")
    assert r.status == 200 and r.body["absence"] is None


def test_only_the_user_or_admin_sets_it() -> None:
    assert away("alice", "bob", by="bob").status == 403
    assert away("alice", "bob", by="root", roles=ADMIN).status == 200
    assert call("DELETE", "/api/v1/users/alice/absence", user="carol").status == 403


def test_bad_absences_are_400_and_unknown_users_404() -> None:
    assert away("alice", "nobody").status == 400
    assert away("alice", None, until="2026-11-01T00:00:00Z").status == 400  # until before from
    assert away("alice", None, mode="vanish").status == 400
    assert away("alice", None, extra="x").status == 400
    assert call("PUT", "/api/v1/users/alice/absence", {"from": "yesterday", "until": UNTIL}, user="alice").status == 400
    assert away("ghost", None, by="root", roles=ADMIN).status == 404


def test_a_cycle_is_refused_when_it_is_set() -> None:
    assert away("alice", "bob").status == 200
    assert away("bob", "carol").status == 200
    r = away("carol", "alice")
    assert r.status == 409 and "cycle" in r.body["message"]
    assert away("alice", "alice").status == 409
    assert away("carol", "dave").status == 200  # not a cycle


def test_an_absence_ends_by_itself(controlled_clock: None) -> None:
    from baton.directory.absence import Absence

    body = {"from": clock.stamp(), "until": clock.after(60), "delegateTo": "bob"}
    r = call("PUT", "/api/v1/users/alice/absence", body, user="alice")
    absence = Absence.model_validate(r.body["absence"])
    assert absence.active(clock.stamp())
    clock.advance(61)
    assert not absence.active(clock.stamp())
