"""A delegate acts on behalf of the absent user (API.md "Absence, delegation, offboarding": "eligible
wherever the absent user is"; issue 27): it sees the absent user's queue (its own queue and its
groups') in its own, and claims there in every dialect, recorded `onBehalfOf` the absent user with
reason `absence:<mode>`. It is found through the reverse lookup written with the absence
(`standsInFor` on the delegate's user item) and confirmed by the absence itself; the claim's write
pins that absence (and the group membership it relied on), so ending the absence races safely.
Separation, skills and capacity still apply to the delegate. On moto and DynamoDB Local."""

from __future__ import annotations

from typing import Any

import pytest

from baton.directory.repository import DirectoryRepository
from baton.storage.dynamo import get_dynamo
from baton.tasks.repository import TaskRepository
from tests.support import ADMIN, TENANT, call, claim, create_task, get_task, history, native, seed

pytestmark = pytest.mark.usefixtures("backend")
FROM, UNTIL = "2026-01-01T00:00:00Z", "2099-12-31T00:00:00Z"


@pytest.fixture(autouse=True)
def _seeded(backend: str) -> None:
    seed()  # ops = alice + bob; carol and dave in no group
    create_task("mine", candidateUsers=["alice"])  # alice's own queue
    create_task("grp", candidateGroups=["ops"])  # alice's group's queue


def away(uid: str, delegate: str | None, mode: str = "redirect", start: str = FROM) -> None:
    body = {"from": start, "until": UNTIL, "mode": mode, **({"delegateTo": delegate} if delegate else {})}
    r = call("PUT", f"/api/v1/users/{uid}/absence", body, user=uid)
    assert r.status == 200, r


def queue(uid: str) -> list[str]:
    r = call("GET", "/api/v1/tasks", query={"candidate": "me", "status": "open"}, user=uid)
    assert r.status == 200, r
    return sorted(t["id"] for t in r.body["items"])


def claimed_for(task: str, who: str, behalf: str, reason: str = "absence:redirect", action: str = "claim") -> None:
    assert get_task(task).body["assignee"] == who
    event = history(task)[-1]
    assert (event["action"], event["actor"], event["onBehalfOf"], event["reason"]) == (action, who, behalf, reason)


def test_the_delegate_sees_and_claims_the_absent_users_tasks_in_every_dialect() -> None:
    assert queue("carol") == ["t2"]
    assert native("claim", "mine", "carol").status == 403  # not yet: alice is here
    away("alice", "carol")
    assert queue("carol") == ["grp", "mine", "t1", "t2"]  # alice's queue and her group's
    assert native("claim", "mine", "carol").status == 200
    claimed_for("mine", "carol", "alice")
    r = claim("grp", "carol")  # Itential
    assert r.status == 200, r
    claimed_for("grp", "carol", "alice")
    r = call("POST", "/workspaces/secure/api/v1/txn/assign", {"params": {"submitKey": "t1"}}, user="carol")
    assert r.status == 200, r  # Journey Manager: a member's assign to itself, alice being the member
    claimed_for("t1", "carol", "alice", action="assign")


def test_assign_to_oneself_claim_next_and_bulk_act_for_the_absent_user_too() -> None:
    away("alice", "carol")
    r = call("POST", "/operations-manager/tasks/mine/assign", {"userId": "carol"}, user="carol")  # Itential
    assert r.status == 200, r
    assert get_task("mine").body["assignee"] == "carol" and history("mine")[-1]["onBehalfOf"] == "alice"
    r = call("POST", "/operations-manager/tasks/grp/assign", {"userId": "dave"}, user="carol")
    assert r.status >= 400, r  # to someone else: dave is no candidate, standing in for alice gives nothing
    r = call("POST", "/api/v1/tasks/claim-next", {}, user="carol")
    assert r.status == 200 and r.body["id"] in ("grp", "t1", "t2"), r
    got = r.body["id"]
    assert get_task(got).body["assignee"] == "carol"
    if got != "t2":  # t2 is carol's own: no one else's behalf
        assert history(got)[-1]["onBehalfOf"] == "alice"
    left = [t for t in ("grp", "t1") if t != got]
    r = call("POST", "/api/v1/task-actions/claim", {"taskIds": left}, user="carol")
    assert r.status == 200 and {i["status"] for i in r.body["results"]} == {200}, r
    assert all(history(t)[-1]["onBehalfOf"] == "alice" for t in left)


def test_a_share_lets_the_delegate_claim_too_and_a_chain_reaches_the_last_delegate() -> None:
    away("alice", "bob", "share")
    assert native("claim", "mine", "bob").status == 200
    claimed_for("mine", "bob", "alice", "absence:share")
    call("DELETE", "/api/v1/users/alice/absence", user="alice")
    away("bob", "carol")
    away("alice", "bob")  # alice -> bob -> carol: carol stands in for both
    create_task("again", candidateUsers=["alice"])
    assert "again" in queue("carol")
    assert native("claim", "again", "carol").status == 200
    claimed_for("again", "carol", "alice")


def test_an_absence_not_started_or_ended_gives_the_delegate_nothing() -> None:
    away("alice", "carol", start="2099-01-01T00:00:00Z")  # future
    assert "mine" not in queue("carol")
    r = native("claim", "mine", "carol")
    assert (r.status, r.body["code"]) == (403, "accessDenied"), r
    away("alice", "carol")
    assert call("DELETE", "/api/v1/users/alice/absence", user="alice").status == 200
    assert "mine" not in queue("carol") and native("claim", "mine", "carol").status == 403
    away("alice", "dave")  # a new delegate: carol no longer stands in
    assert native("claim", "mine", "carol").status == 403 and native("claim", "mine", "dave").status == 200


def test_the_delegates_own_rules_still_apply() -> None:
    away("alice", "carol")
    assert call("PUT", "/api/v1/users/carol", {"username": "carol", "capacity": 1}, user="root",
                roles=ADMIN).status == 200
    assert native("claim", "t2", "carol").status == 200
    r = native("claim", "mine", "carol")
    assert (r.status, r.body["code"]) == (409, "capacity"), r
    create_task("skilled", candidateUsers=["alice"], requiredSkills=["sql"])
    assert native("claim", "skilled", "dave").status == 403  # dave stands in for nobody


def test_ending_the_absence_between_the_read_and_the_write_refuses_the_claim(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The claim's write pins alice's absence as read: ended meanwhile, the write is refused and the
    claim decided again, on alice being back: carol may not claim it."""
    away("alice", "carol")
    write = TaskRepository.write
    ended: list[bool] = []

    def absence_ends_first(self: TaskRepository, tenant: str, change: Any) -> None:
        if not ended:
            ended.append(True)
            repo = DirectoryRepository(get_dynamo())
            seen = {"alice": repo.users(TENANT, ["alice"])["alice"].absence}
            assert repo.set_absence(TENANT, "alice", None, seen, "alice") is not None
        write(self, tenant, change)

    monkeypatch.setattr(TaskRepository, "write", absence_ends_first)
    r = native("claim", "grp", "carol")
    assert (r.status, r.body["code"]) == (403, "accessDenied"), r
    assert ended and get_task("grp").body["assignee"] is None


def test_a_group_membership_lost_meanwhile_refuses_the_claim_too() -> None:
    away("alice", "carol")
    assert call("PUT", "/api/v1/groups/ops", {"name": "Operations", "members": ["bob"]}, user="root",
                roles=ADMIN).status == 200
    assert "grp" not in queue("carol") and native("claim", "grp", "carol").status == 403


def test_a_conductorone_reassign_to_itself_and_a_search_by_id_act_for_the_absent_user_too() -> None:
    def reassign(task: str, to: str) -> Any:
        return call("POST", f"/api/v1/tasks/{task}/action/reassign", {"newStepUserIds": [to]}, user="carol")

    def search(task: str) -> list[str]:
        r = call("GET", "/api/v1/tasks", query={"candidate": "me", "status": "open", "q": task}, user="carol")
        assert r.status == 200, r
        return [t["id"] for t in r.body["items"]]

    assert search("mine") == [] and reassign("mine", "carol").status == 403  # alice is here: nothing
    away("alice", "carol")
    assert search("mine") == ["mine"] and search("grp") == ["grp"]  # as the listing holds them
    r = reassign("mine", "carol")
    assert r.status == 200, r
    claimed_for("mine", "carol", "alice", action="reassign")
    assert reassign("grp", "dave").status == 403  # to someone else: standing in gives nothing away
    assert get_task("grp").body["assignee"] is None
    r = reassign("grp", "carol")
    assert r.status == 200, r
    claimed_for("grp", "carol", "alice", action="reassign")
