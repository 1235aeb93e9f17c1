"""Offboarding racing the user's own claims, on DynamoDB Local with the functions in worker
processes (concurrent requests): the user is made inactive by offboarding's first write, and
every claim's transaction asserts `active` on the claimant's load item, so a claim that read the
user before cannot win after. Whatever the interleaving, when the offboarding returns the user
holds nothing, every task it won before is moved exactly once, and the loads are exact (issue 27
item 3; API.md "Absence, delegation, offboarding")."""

from __future__ import annotations

from collections import Counter
from functools import partial
from typing import Any

import pytest

from tests.support import ADMIN, Reply, call, concurrently, history

pytestmark = pytest.mark.usefixtures("functions_in_processes")

TASKS = 24
WORKERS = 4  # claim lanes, each claiming its tasks in turn
ROUNDS = 3


def put_user(uid: str, **fields: Any) -> None:
    r = call("PUT", f"/api/v1/users/{uid}", {"username": uid, **fields}, user="root", roles=ADMIN)
    assert r.status in (200, 201), r


def users() -> dict[str, dict[str, Any]]:
    r = call("GET", "/api/v1/users", query={"limit": "100"})
    return {u["id"]: u for u in r.body["items"]}


def held(uid: str) -> set[str]:
    r = call("GET", "/api/v1/tasks", query={"assignee": uid, "status": "open", "limit": "100"})
    assert r.status == 200 and r.body["cursor"] is None, r
    return {t["id"] for t in r.body["items"]}


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_claims_racing_the_offboarding_never_leave_the_user_holding_anything(round_: int) -> None:
    leaver, heir = f"leaver{round_}", f"heir{round_}"
    for uid in (leaver, heir, "root"):
        put_user(uid)
    assert call("PUT", f"/api/v1/groups/crew{round_}", {"name": "Crew", "members": [leaver, heir]}, user="root",
                roles=ADMIN).status == 201
    ids = [f"race{round_}-{i}" for i in range(TASKS)]
    for i, t in enumerate(ids):
        body = {"id": t, "name": t, **({"candidateUsers": [leaver]} if i % 2 else
                                        {"candidateGroups": [f"crew{round_}"]})}
        assert call("POST", "/api/v1/tasks", body, user="root", roles=ADMIN).status == 201
    def claims(mine: list[str]) -> list[Reply]:  # one after the other: spread over the offboarding
        return [call("POST", f"/api/v1/tasks/{t}/action/claim", user=leaver) for t in mine]

    lanes = [ids[i::WORKERS] for i in range(WORKERS)]
    off = partial(call, "POST", f"/api/v1/users/{leaver}/offboard", {"to": heir}, user="root", roles=ADMIN)
    out: list[Any] = concurrently([off, *(partial(claims, lane) for lane in lanes)])
    report: Reply = out[0]
    replies = {t: r for lane, rs in zip(lanes, out[1:], strict=True) for t, r in zip(lane, rs, strict=True)}
    claimed = [replies[t] for t in ids]
    assert report.status == 200, report
    assert {r.status for r in claimed} <= {200, 403, 409}, Counter(r.status for r in claimed)
    refused = Counter(r.body["code"] for r in claimed if r.status != 200)
    assert set(refused) <= {"userInactive", "accessDenied", "txnAlreadyAssigned"}, refused
    won = {t for t, r in zip(ids, claimed, strict=True) if r.status == 200}
    # what the user won before it became inactive was moved by the offboarding, exactly once
    moved = {i["taskId"] for i in report.body["results"] if i["status"] == 200}
    assert won <= moved, (won, moved)
    assert held(leaver) == set()
    for t in ids:
        events = [e for e in history(t) if e["reason"] == "offboarding"]
        assert len(events) <= 1, (t, events)
        assert (len(events) == 1) == (t in moved), t
    # loads exact: the leaver bears nothing, the heir what it holds
    found = users()
    assert (found[leaver]["active"], found[leaver]["groups"], found[leaver]["load"]) == (False, [], 0)
    assert found[heir]["load"] == len(held(heir))
    assert held(heir) == {i["taskId"] for i in report.body["results"] if i.get("outcome") == "reassigned"}
    # nothing left: a second call moves nothing, and the user claims nothing any more
    assert call("POST", f"/api/v1/users/{leaver}/offboard", {"to": heir}, user="root",
                roles=ADMIN).body["results"] == []
    free = [t for t in ids if t not in held(heir)]
    for t in free[:3]:
        r = call("POST", f"/api/v1/tasks/{t}/action/claim", user=leaver)
        assert r.status in (403, 409), r
