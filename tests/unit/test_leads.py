"""Group leads (issue 29, the supervisor view: "admin, or a group's lead"): `leads` on groups
(users of the tenant, members or not), a lead's authority over its groups' tasks held by others
(release, assign, reassign, Journey Manager's assign and unassign, bulk) asserted by the write like a
membership, and its view of a group's open tasks (GET /api/v1/groups/{id}/tasks)."""

from __future__ import annotations

from typing import Any

import pytest

from baton.storage.dynamo import get_dynamo
from baton.storage.keys import Keys
from tests.support import ADMIN, OPS, TENANT, before_send_hooks, bulk, call, claim, get_task, history, release, seed

pytestmark = pytest.mark.usefixtures("backend")

JM = "/workspaces/secure/api/v1/txn"


@pytest.fixture(autouse=True)
def _seeded(backend: str) -> None:
    """The seed (ops = alice + bob, t1 a task of ops), carol (no member) leading ops, alice holding t1."""
    seed()
    assert put_ops(leads=["carol"]).status == 200
    assert claim("t1", "alice").status == 200


def put_ops(leads: list[str], members: tuple[str, ...] = ("alice", "bob")) -> Any:
    return call("PUT", "/api/v1/groups/ops", {"name": "Operations", "members": list(members), "leads": leads},
                user="root", roles=ADMIN)


def user(uid: str) -> dict[str, Any]:
    return next(u for u in call("GET", "/api/v1/users", query={"filter": uid}).body["items"] if u["id"] == uid)


def test_leads_are_users_of_the_tenant_shown_on_the_group_and_its_leads() -> None:
    r = put_ops(leads=["carol", "carol", "alice"])
    assert r.status == 200 and r.body["leads"] == ["carol", "alice"]
    assert call("GET", "/api/v1/groups/ops/stats").body["leads"] == ["carol", "alice"]
    assert user("carol")["leads"] == ["ops"] and user("alice")["leads"] == ["ops"]
    assert user("alice")["groups"] == ["ops"]  # a member and a lead: one user item, both kept
    r = put_ops(leads=["ghost"])
    assert r.status == 400 and "ghost" in r.body["message"]
    assert call("GET", "/api/v1/groups/ops/stats").body["leads"] == ["carol", "alice"]  # nothing written
    assert put_ops(leads=[]).status == 200
    assert user("carol")["leads"] == [] and user("alice")["leads"] == [] and user("alice")["groups"] == ["ops"]
    assert call("PUT", "/api/v1/groups/ops", {"name": "Operations", "leads": "carol"}, user="root",
                roles=ADMIN).status == 400


def test_a_lead_releases_a_task_of_its_group_held_by_someone_else() -> None:
    assert release("t1", "dave").status == 403  # no lead
    assert call("POST", "/api/v1/tasks/t1/action/release", user="dave", roles=OPS).status == 403
    r = release("t1", "carol")
    assert r.status == 200 and r.body["data"]["assignee"] is None
    assert history("t1")[-1]["actor"] == "carol" and history("t1")[-1]["from"] == "alice"
    assert claim("t1", "bob").status == 200
    assert call("POST", "/api/v1/tasks/t1/action/release", user="carol", roles=OPS).status == 200
    assert claim("t2", "carol").status == 200  # a task of no group: nobody leads it
    assert release("t2", "alice").status == 403


def test_a_lead_assigns_and_reassigns_to_candidates_only() -> None:
    r = call("POST", "/operations-manager/tasks/t1/assign", {"userId": "bob"}, user="dave")
    assert r.status == 409  # held by alice; dave leads nothing
    r = call("POST", "/operations-manager/tasks/t1/assign", {"userId": "bob"}, user="carol")
    assert r.status == 200 and r.body["data"]["assignee"] == "bob"
    body = {"newStepUserIds": ["dave"], "comment": "x"}
    r = call("POST", "/api/v1/tasks/t1/action/reassign", body, user="carol")
    assert r.status == 403 and r.body["code"] == 7  # dave is no candidate of t1
    r = call("POST", "/api/v1/tasks/t1/action/reassign", {**body, "newStepUserIds": ["alice"]}, user="dave")
    assert r.status == 403
    r = call("POST", "/api/v1/tasks/t1/action/reassign", {**body, "newStepUserIds": ["alice"]}, user="carol")
    assert r.status == 200 and get_task("t1").body["assignee"] == "alice"
    assert history("t1")[-1]["action"] == "reassign" and history("t1")[-1]["actor"] == "carol"


def test_a_lead_unassigns_and_gives_a_group_task_to_a_member_in_journey_manager() -> None:
    r = call("POST", f"{JM}/unassign", {"params": {"submitKey": "t1"}}, user="dave")
    assert r.status == 400 and r.body["errorKey"] == "accessDenied"
    assert call("POST", f"{JM}/unassign", {"params": {"submitKey": "t1"}}, user="carol").status == 200
    r = call("POST", f"{JM}/assign", {"params": {"submitKey": "t1", "userKey": "bob"}}, user="dave")
    assert r.status == 400 and r.body["errorKey"] == "accessDenied"
    r = call("POST", f"{JM}/assign", {"params": {"submitKey": "t1", "userKey": "carol"}}, user="carol")
    assert r.status == 400 and r.body["errorKey"] == "accessDenied"  # a lead, not a member: holds nothing
    assert call("POST", f"{JM}/assign", {"params": {"submitKey": "t1", "userKey": "bob"}}, user="carol").status == 200
    assert get_task("t1").body["assignee"] == "bob"


def test_bulk_actions_of_a_lead_and_of_someone_else() -> None:
    r = bulk("release", {"taskIds": ["t1", "t2"]}, user="carol")
    assert [(x["taskId"], x["status"]) for x in r.body["results"]] == [("t1", 200), ("t2", 409)]
    assert claim("t1", "alice").status == 200
    r = bulk("reassign", {"taskIds": ["t1"], "userId": "bob"}, user="dave")
    assert r.body["results"][0]["status"] == 403
    r = bulk("reassign", {"taskIds": ["t1"], "userId": "bob", "atomic": True}, user="carol")
    assert r.status == 200 and get_task("t1").body["assignee"] == "bob"


def test_a_lead_revoked_while_its_action_is_in_flight_is_refused() -> None:
    """The lead is pinned by the write: revoked between the read and the write, the release is
    refused (403) and changes nothing."""
    fired: list[bool] = []

    def revoke(request: Any, **_: Any) -> None:
        target = request.headers.get("X-Amz-Target") or b""
        target = target.decode() if isinstance(target, bytes) else str(target)
        if target.endswith(".TransactWriteItems") and not fired:
            fired.append(True)  # the lead revoked just before the release's write (what the group write does
            db = get_dynamo()  # to carol's user item; the functions take turns in this process, so not by them)
            db.client.update_item(TableName=db.table, Key={k: {"S": v} for k, v in Keys.user(TENANT, "carol").items()},
                                  UpdateExpression="DELETE #l :g", ExpressionAttributeNames={"#l": "leads"},
                                  ExpressionAttributeValues={":g": {"SS": ["ops"]}})

    with before_send_hooks(get_dynamo().client) as install:
        install(revoke)
        r = release("t1", "carol")
    assert fired and r.status == 403 and "no longer a lead" in r.body["message"]
    assert get_task("t1").body["assignee"] == "alice"
    assert release("t1", "carol").status == 403


def test_the_group_view_lists_its_open_tasks_free_and_held_for_its_leads() -> None:
    for i, holder in enumerate(("bob", None, "alice")):
        call("POST", "/api/v1/tasks", {"id": f"g{i}", "name": f"g{i}", "candidateGroups": ["ops"]},
             user="root", roles=ADMIN)
        if holder:
            assert claim(f"g{i}", holder).status == 200
    call("POST", "/api/v1/tasks", {"id": "other", "name": "other", "candidateUsers": ["alice"]}, user="root",
         roles=ADMIN)
    assert claim("other", "alice").status == 200  # alice holds it, but it is no task of ops
    assert call("GET", "/api/v1/groups/ops/tasks", user="dave").status == 403
    assert call("GET", "/api/v1/groups/ops/tasks", user="alice").status == 403  # a member, no lead
    assert call("GET", "/api/v1/groups/ghost/tasks", user="carol").status == 404
    seen: list[tuple[str, str | None]] = []
    cursor = None
    while True:
        query = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        r = call("GET", "/api/v1/groups/ops/tasks", user="carol", query=query)
        assert r.status == 200 and len(r.body["items"]) <= 2
        seen += [(t["id"], t["assignee"]) for t in r.body["items"]]
        cursor = r.body["cursor"]
        if not cursor:
            break
    assert sorted(seen) == [("g0", "bob"), ("g1", None), ("g2", "alice"), ("t1", "alice")]
    assert call("GET", "/api/v1/groups/ops/tasks", user="root", roles=ADMIN).status == 200
    r = call("GET", "/api/v1/groups/ops/tasks", user="carol", query={"cursor": "junk"})
    assert r.status == 400


def test_an_offboarded_lead_leads_nothing_and_may_no_longer_act() -> None:
    r = call("POST", "/api/v1/users/carol/offboard", {}, user="root", roles=ADMIN)
    assert r.status == 200, r
    assert "ops" in r.body["groupsLeft"]
    assert call("GET", "/api/v1/groups/ops/stats").body["leads"] == []
    assert user("carol")["leads"] == [] and user("carol")["active"] is False
    assert release("t1", "carol").status == 403  # alice still holds it
    assert get_task("t1").body["assignee"] == "alice"
