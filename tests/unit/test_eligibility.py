"""Every path that gives a task to someone consults tasks.eligibility (issue 22, "eligibility is
one named concept"): a native or Itential claim (its fast path asks `direct_claim`, the rest
`decide`), claim-next, an Itential assign, a Journey Manager assign, a ConductorOne reassign,
and bulk claim, assign and reassign. Each route that changes anything is classified here as
giving a task or not, so a new route must say which, and a giving one must consult eligibility;
a rule added to `eligibility._may_hold` reaches every read-and-decide path."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from baton.errors import Forbidden
from baton.routes import ROUTES
from baton.tasks import eligibility
from tests.support import ADMIN, OPS, bulk, call, claim, create_task, native, seed

pytestmark = pytest.mark.usefixtures("backend")

# (family, route name) of every route that writes, by whether it gives a task to someone.
GIVES = {("itential", "claim"), ("itential", "assign"), ("tasks", "claim"), ("tasks", "claim_next"),
         ("tasks", "bulk_action"), ("journey", "assign"), ("conductorone", "reassign"), ("tasks", "delegate"),
         ("tasks", "resolve"), ("tasks", "accept"),  # accept: an offer accepted, a claim
         ("directory", "offboard")}  # a held task to `to` (as an admin's reassign) or back to its owner
GIVES_NOTHING = {("itential", "release"), ("tasks", "create_task"), ("tasks", "release"), ("tasks", "heartbeat"),
                 ("tasks", "complete"), ("tasks", "abandon"), ("journey", "unassign"),
                 ("conductorone", "approve"), ("conductorone", "deny"),  # a completion
                 ("tasks", "update_task"),  # candidates and policy change; nobody is given the task
                 ("directory", "put_user"), ("directory", "put_group"), ("directory", "put_activity"),
                 ("directory", "put_presence"), ("directory", "put_absence"), ("directory", "end_absence"),
                 ("tasks", "reject"),  # the router (off the stream) gives
                 ("processmaker", "assign"), ("processmaker", "remove"),  # an activity's assignees, not a task
                 ("signin", "oauth_token"), ("signin", "login"), ("signin", "processmaker_token")}


def test_every_route_that_writes_says_whether_it_gives_a_task() -> None:
    writing = {(r.family, r.name) for r in ROUTES if r.method != "GET"}
    assert not GIVES & GIVES_NOTHING
    assert writing == GIVES | GIVES_NOTHING, (
        f"classify these routes in {__name__}: {sorted(writing ^ (GIVES | GIVES_NOTHING))}")


def itential(action: str, task: str, body: Any = None, user: str = "alice", roles: tuple[str, ...] = OPS) -> Any:
    return call("POST", f"/operations-manager/tasks/{task}/{action}", body, user=user, roles=roles)


# path label -> (the eligibility path it must consult, the request), each on a fresh task
PATHS: dict[str, tuple[str, Callable[[], Any]]] = {
    "native claim, direct candidate (fast path)": ("direct", lambda: native("claim", "d1", "alice")),
    "native claim, group candidate": (eligibility.CLAIM, lambda: native("claim", "g1", "alice")),
    "native claim under a lease": (eligibility.CLAIM, lambda: native("claim", "d2", "alice", {"leaseSeconds": 60})),
    "Itential claim": (eligibility.CLAIM, lambda: claim("g1", "alice")),
    "Itential assign": (eligibility.ASSIGN, lambda: itential("assign", "g1", {"userId": "bob"})),
    "Journey Manager assign": (eligibility.MEMBER_ASSIGN, lambda: call(
        "POST", "/workspaces/secure/api/v1/txn/assign", {"params": {"submitKey": "g1"}}, user="alice")),
    "ConductorOne reassign": (eligibility.REASSIGN, lambda: call(
        "POST", "/api/v1/tasks/g1/action/reassign", {"newStepUserIds": ["bob"]}, user="alice")),
    "claim-next": (eligibility.CLAIM_NEXT, lambda: call("POST", "/api/v1/tasks/claim-next", {}, user="alice")),
    "bulk claim": (eligibility.CLAIM, lambda: bulk("claim", {"taskIds": ["g1", "d1"]})),
    "bulk claim, atomic": (eligibility.CLAIM, lambda: bulk("claim", {"taskIds": ["g1"], "atomic": True})),
    "bulk assign": (eligibility.ASSIGN, lambda: bulk("assign", {"taskIds": ["g1"], "userId": "bob"})),
    "bulk reassign": (eligibility.REASSIGN, lambda: bulk(
        "reassign", {"taskIds": ["g1"], "userId": "bob"}, user="root", roles=ADMIN)),
    "delegate": (eligibility.DELEGATE, lambda: native("delegate", "h1", "alice", {"userId": "bob"})),
    "resolve": (eligibility.RESOLVE, lambda: native("resolve", "r1", "bob")),
    "offboard": (eligibility.REASSIGN, lambda: call(
        "POST", "/api/v1/users/alice/offboard", {"to": "bob"}, user="root", roles=ADMIN)),
}


def test_the_paths_cover_every_eligibility_path() -> None:
    assert {via for via, _ in PATHS.values()} == {*eligibility.PATHS, "direct"}


def scene() -> None:
    seed()
    create_task("g1", candidateGroups=["ops"])
    for task in ("d1", "d2", "h1", "r1"):
        create_task(task, candidateUsers=["alice"])
    for task in ("h1", "r1"):  # held by alice; r1 delegated to bob
        assert native("claim", task, "alice").status == 200
    assert native("delegate", "r1", "alice", {"userId": "bob"}).status == 200


@pytest.mark.parametrize("label", list(PATHS))
def test_each_path_that_gives_a_task_consults_eligibility(label: str, monkeypatch: pytest.MonkeyPatch) -> None:
    scene()
    via, request = PATHS[label]
    asked: list[str] = []
    decide, direct = eligibility.decide, eligibility.direct_claim

    def spy_decide(h: eligibility.Handover) -> Any:
        asked.append(h.via)
        return decide(h)

    def spy_direct(*args: Any) -> Any:
        asked.append("direct")
        return direct(*args)

    monkeypatch.setattr(eligibility, "decide", spy_decide)
    monkeypatch.setattr(eligibility, "direct_claim", spy_direct)
    r = request()
    assert r.status in (200, 204), (label, r)
    assert via in asked, (label, asked)


@pytest.mark.parametrize("label", [p for p, (via, _) in PATHS.items() if via != "direct"])
def test_a_rule_about_the_holder_reaches_every_read_and_decide_path(label: str,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """What the next features do (capacity, skills, absence, separation): a rule in `_may_hold`
    refuses on every path, in the path's own shape, and nothing is written."""
    scene()
    _, request = PATHS[label]

    def nobody(h: eligibility.Handover, user: str) -> None:
        raise Forbidden(f"{user} may hold nothing today", reason="accessDenied")

    monkeypatch.setattr(eligibility, "_may_hold", nobody)
    r = request()
    if label.startswith("bulk") and "atomic" not in label:
        assert r.status == 200 and {i["status"] for i in r.body["results"]} == {403}, r
    elif label == "claim-next":
        assert r.status == 204, r  # nothing it may hold
    elif label == "offboard":  # a task `to` may not hold goes back to its queues instead
        assert r.status == 200 and {i["outcome"] for i in r.body["results"]} >= {"queued"}, r
        assert "reassigned" not in {i["outcome"] for i in r.body["results"]}, r
    else:
        assert r.status in (400, 403, 409), (label, r)  # Journey Manager answers 400, atomic 409
    assert call("GET", "/api/v1/tasks/g1").body["assignee"] is None
