"""`GET /api/v1/tasks` narrowed by what its indexes serve (docs/data-model.md): `group` (one
group's queue partition), `priorityMin`/`priorityMax` (a key range of the queue order: no task
outside it is read), `q` (a task id: one GetItem); `search` and `dueBefore` (filters on the
listing's own items, lists of open tasks only); `sort` (a queue or inbox by due date or age, from
its own index); unknown parameters are a 400, not ignored."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support import ADMIN, call, claim, seed
from tests.unit.test_queues import counted, create, pages

pytestmark = pytest.mark.usefixtures("backend")


@pytest.fixture(autouse=True)
def _seeded(backend: str) -> None:
    seed()
    r = call("PUT", "/api/v1/groups/billing", {"name": "Billing", "members": ["bob"]}, user="root", roles=ADMIN)
    assert r.status == 201, r


def listing(query: dict[str, str], user: str = "bob", roles: tuple[str, ...] | None = None) -> Any:
    return call("GET", "/api/v1/tasks", query=query, user=user, **({"roles": roles} if roles else {}))


def test_group_lists_that_groups_queue_only() -> None:
    create("b1", priority=70, candidateGroups=["billing"])
    create("b2", priority=20, candidateGroups=["billing", "ops"])
    create("mine", priority=90, candidateUsers=["bob"])
    assert sum(pages({"candidate": "me"}), []) == ["mine", "b1", "t1", "b2"]
    assert sum(pages({"candidate": "me", "group": "billing"}), []) == ["b1", "b2"]
    assert sum(pages({"candidate": "me", "group": "ops"}), []) == ["t1", "b2"]
    assert sum(pages({"group": "billing"}, user="carol"), []) == ["b1", "b2"]  # anyone may read a queue
    r = listing({"candidate": "me", "group": "billing"}, user="alice")  # not hers
    assert r.status == 403, r
    r = listing({"candidate": "me", "group": "billing"}, user="root", roles=ADMIN)  # an admin may
    assert [t["id"] for t in r.body["items"]] == ["b1", "b2"]
    assert listing({"assignee": "me", "group": "ops"}).status == 400
    assert claim("b1", "bob").status == 200  # a claimed task leaves the group's queue
    assert sum(pages({"group": "billing"}), []) == ["b2"]


def test_a_priority_range_reads_only_its_keys() -> None:
    for p in range(0, 101, 10):
        create(f"p{p:03d}", priority=p, candidateGroups=["billing"])
    got = sum(pages({"candidate": "me", "priorityMin": "30", "priorityMax": "60"}), [])
    assert got == ["p060", "t1", "p050", "p040", "p030"]  # t1: priority 50, queue order kept
    assert sum(pages({"group": "billing", "priorityMin": "95"}), []) == ["p100"]
    assert sum(pages({"group": "billing", "priorityMax": "0"}), []) == ["p000"]
    assert sum(pages({"group": "billing", "priorityMin": "41", "priorityMax": "49"}), []) == []
    with counted() as seen:
        r = listing({"group": "billing", "priorityMin": "30", "priorityMax": "40", "limit": "10"})
    assert [t["id"] for t in r.body["items"]] == ["p040", "p030"]
    assert seen["items"] <= 2 * 2  # the two entries and their two tasks: nothing outside the range
    # the inbox is in queue order too
    for t in ("p100", "p050", "p010"):
        assert claim(t, "bob").status == 200
    assert sum(pages({"assignee": "me", "status": "open", "priorityMin": "20"}), []) == ["p100", "p050"]
    for bad in ({"priorityMin": "60", "priorityMax": "30"}, {"priorityMin": "101"}, {"priorityMax": "-1"},
                {"priorityMin": "x"}):
        assert listing({"candidate": "me", **bad}).status == 400, bad
    # newest-first lists are not ordered by priority: refused, not scanned
    assert listing({"assignee": "me", "priorityMin": "10"}).status == 400
    assert listing({"priorityMin": "10"}, user="root", roles=ADMIN).status == 400


def test_a_cursor_belongs_to_its_range() -> None:
    for i in range(5):
        create(f"r{i}", priority=80, candidateGroups=["billing"])
    r = listing({"group": "billing", "priorityMin": "80", "limit": "2"})
    assert r.status == 200 and r.body["cursor"]
    other = listing({"group": "billing", "priorityMin": "70", "limit": "2", "cursor": r.body["cursor"]})
    assert other.status == 400


def test_q_finds_a_task_by_id_in_the_listing_it_belongs_to() -> None:
    create("b1", candidateGroups=["billing"])
    with counted() as seen:
        r = listing({"candidate": "me", "q": "b1"})
    assert [t["id"] for t in r.body["items"]] == ["b1"] and r.body["cursor"] is None
    assert seen["calls"] <= 2  # the caller's groups and the task
    assert listing({"candidate": "me", "q": "b1"}, user="alice").body["items"] == []  # not in her queue
    assert listing({"candidate": "me", "q": "nope"}).body["items"] == []
    assert listing({"group": "ops", "q": "b1"}).body["items"] == []
    assert listing({"q": "b1"}, user="carol").body["items"][0]["id"] == "b1"  # the tenant's tasks
    assert claim("b1", "bob").status == 200
    assert listing({"candidate": "me", "q": "b1"}).body["items"] == []
    assert [t["id"] for t in listing({"assignee": "me", "status": "open", "q": "b1"}).body["items"]] == ["b1"]
    assert listing({"assignee": "me", "status": "completed", "q": "b1"}).body["items"] == []


@pytest.mark.parametrize("query", [{"candidate": "me", "order": "due"}, {"text": "x"}, {"dueAfter": "2026"},
                                   {"candidate": "me", "Group": "ops"}])
def test_unknown_parameters_are_refused(query: dict[str, str]) -> None:
    r = listing(query)
    assert r.status == 400, r
    assert "Unknown query parameter" in r.body["message"]


def test_search_finds_words_of_the_id_name_or_description_in_any_case() -> None:
    create("inv-1", name="Pay the ACME invoice", candidateGroups=["billing"], priority=80)
    create("inv-2", name="Check a contract", description="The acme contract, page 3", candidateUsers=["bob"])
    create("inv-3", name="Order paper", candidateGroups=["billing"], description="x" * 500 + " acme")  # too deep
    create("other", name="Other", candidateGroups=["billing"])
    assert sum(pages({"candidate": "me", "search": "Acme"}), []) == ["inv-1", "inv-2"]
    assert sum(pages({"group": "billing", "search": "acme"}), []) == ["inv-1"]
    assert sum(pages({"candidate": "me", "search": "INV-"}, limit=1), []) == ["inv-1", "inv-2", "inv-3"]
    assert claim("inv-2", "bob").status == 200  # the inbox, and the tenant's open tasks
    assert sum(pages({"assignee": "me", "status": "open", "search": "contract"}), []) == ["inv-2"]
    assert sum(pages({"status": "open", "search": "acme"}, user="root"), []) == ["inv-2", "inv-1"]
    assert sum(pages({"candidate": "me", "search": "acme"}), []) == ["inv-1"]  # claimed: out of the queue
    assert [t["id"] for t in listing({"candidate": "me", "q": "inv-1", "search": "paper"}).body["items"]] == []
    assert [t["id"] for t in listing({"candidate": "me", "q": "inv-1", "search": "pay"}).body["items"]] == ["inv-1"]
    for bad in ({"status": "completed", "search": "acme"}, {"assignee": "me", "search": "acme"},
                {"search": "acme"}, {"caseId": "c", "search": "acme"}, {"candidate": "me", "search": ""}):
        assert listing(bad).status == 400, bad


def test_due_before_lists_open_tasks_due_by_then() -> None:
    create("d1", dueDate="2026-03-01T00:00:00Z", candidateGroups=["billing"])
    create("d2", dueDate="2026-03-02T12:00:00+02:00", candidateUsers=["bob"])  # 10:00 UTC
    create("d3", dueDate="2026-04-01T00:00:00Z", candidateGroups=["billing"])
    create("none", candidateGroups=["billing"])
    assert sum(pages({"candidate": "me", "dueBefore": "2026-03-02T10:00:00Z"}), []) == ["d1", "d2"]
    assert sum(pages({"candidate": "me", "dueBefore": "2026-03-02T09:59:59Z"}), []) == ["d1"]
    assert sum(pages({"group": "billing", "dueBefore": "2030-01-01T00:00:00Z", "search": "d"}), []) == ["d1", "d3"]
    assert claim("d3", "bob").status == 200
    assert sum(pages({"assignee": "me", "status": "open", "dueBefore": "2026-05-01T00:00:00Z"}), []) == ["d3"]
    for bad in ("2026-03-01", "tomorrow", "2026-03-01T00:00:00"):
        assert listing({"candidate": "me", "dueBefore": bad}).status == 400, bad


def test_a_queue_or_inbox_sorted_by_due_date_or_age() -> None:
    create("s1", priority=90, candidateGroups=["billing"])  # created first, due last
    create("s2", priority=10, dueDate="2026-01-05T00:00:00Z", candidateUsers=["bob"])
    create("s3", priority=50, dueDate="2026-01-01T00:00:00Z", candidateGroups=["billing"])
    assert sum(pages({"candidate": "me"}), []) == ["s1", "s3", "t1", "s2"]  # queue order: priority first
    assert sum(pages({"candidate": "me", "sort": "queue"}), []) == ["s1", "s3", "t1", "s2"]
    assert sum(pages({"candidate": "me", "sort": "due"}), []) == ["s3", "s2", "s1", "t1"]  # none last
    assert sum(pages({"candidate": "me", "sort": "age"}), []) == ["t1", "s1", "s2", "s3"]
    assert sum(pages({"candidate": "me", "sort": "newest"}), []) == ["s3", "s2", "s1", "t1"]
    assert sum(pages({"group": "billing", "sort": "due", "search": "s"}, limit=1), []) == ["s3", "s1"]
    for t in ("s1", "s2", "s3"):
        assert claim(t, "bob").status == 200
    assert sum(pages({"assignee": "me", "status": "open", "sort": "due"}), []) == ["s3", "s2", "s1"]
    assert sum(pages({"assignee": "me", "status": "open", "sort": "newest"}), []) == ["s3", "s2", "s1"]
    assert sum(pages({"assignee": "me", "status": "open", "sort": "age"}), []) == ["s1", "s2", "s3"]
    first = listing({"assignee": "me", "status": "open", "sort": "due", "limit": "1"}).body["cursor"]
    r = listing({"assignee": "me", "status": "open", "sort": "age", "cursor": first})
    assert r.status == 400, r  # a cursor belongs to its order
    for bad in ({"status": "open", "sort": "due"}, {"assignee": "me", "sort": "age"},
                {"candidate": "me", "sort": "due", "priorityMin": "10"}, {"caseId": "c", "sort": "due"},
                {"candidate": "me", "sort": "priority"}):
        assert listing(bad).status == 400, bad
