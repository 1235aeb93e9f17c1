"""The routing strategies (baton.directory.routing), pure: who is eligible, and fairness measured
over many tasks (API.md: round-robin over 5 equal members and 100 tasks gives each 20 ± 1;
least-loaded keeps the spread of loads at most 1 among equal members at every moment)."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from baton.directory.domain import User
from baton.directory.routing import has_room, pick, routable, spread


def member(uid: str, **fields: object) -> User:
    return User.model_validate({"id": uid, "username": uid, **fields})


def give(members: list[User], uid: str, at: str) -> list[User]:
    """The members after `uid` got a task at `at` (its load + 1, its last assignment then)."""
    return [m.model_copy(update={"load": m.load + 1, "lastAssignedAt": at}) if m.id == uid else m for m in members]


def finish(members: list[User], uid: str) -> list[User]:
    return [m.model_copy(update={"load": m.load - 1}) if m.id == uid else m for m in members]


def stamp(i: int) -> str:
    return f"2026-01-01T00:00:00.{i:06d}Z"


def test_eligible_means_active_available_under_capacity_skilled_and_not_excluded() -> None:
    assert routable(member("a"))
    assert not routable(member("a", presence="away")) and not routable(member("a", presence="offline"))
    assert not routable(member("a", active=False))
    assert routable(member("a", capacity=2, load=1)) and not routable(member("a", capacity=2, load=2))
    assert not routable(member("a", capacity=0))
    assert routable(member("a", skills=["de", "fr"]), ["de"]) and not routable(member("a", skills=["fr"]), ["de"])
    assert not routable(member("a"), excluded={"a"})
    assert has_room(member("a", capacity=3, load=2)) and not has_room(member("a", capacity=3), load=3)


@pytest.mark.parametrize("strategy", ["round-robin", "least-loaded", "longest-idle"])
def test_nobody_eligible_is_none_and_pull_never_picks(strategy: str) -> None:
    members = [member("a", presence="away"), member("b", capacity=1, load=1), member("c", skills=["x"])]
    assert pick(strategy, members, ["y"]) is None  # type: ignore[arg-type]
    assert pick(strategy, [], []) is None  # type: ignore[arg-type]
    assert pick("pull", [member("a")]) is None


def test_round_robin_over_5_members_and_100_tasks_gives_each_20() -> None:
    members = [member(f"m{i}") for i in range(5)]
    last = None
    got: Counter[str] = Counter()
    for i in range(100):
        chosen = pick("round-robin", members, last=last)
        assert chosen is not None
        got[chosen.id] += 1
        members, last = give(members, chosen.id, stamp(i)), chosen.id
    assert all(abs(n - 20) <= 1 for n in got.values()) and len(got) == 5, got
    assert sorted(got.values()) == [20] * 5


def test_round_robin_skips_who_is_not_eligible_and_goes_round() -> None:
    members = [member("a"), member("b", presence="away"), member("c", skills=["x"]), member("d")]
    order: list[str] = []
    last = "c"
    for _ in range(4):
        chosen = pick("round-robin", members, ["x"] if len(order) == 3 else [], last=last)
        assert chosen is not None
        order.append(chosen.id)
        last = chosen.id
    assert order == ["d", "a", "c", "c"]  # b is away; the last task needs x, only c has it
    assert pick("round-robin", members, last="gone").id == "a"  # type: ignore[union-attr]


def test_least_loaded_keeps_the_spread_at_most_1_at_every_moment() -> None:
    rng = random.Random(7)
    members = [member(f"m{i}") for i in range(5)]
    for i in range(100):
        chosen = pick("least-loaded", members)
        assert chosen is not None
        members = give(members, chosen.id, stamp(i))
        assert spread(members) <= 1, [m.load for m in members]
    assert sorted(m.load for m in members) == [20] * 5
    # with work finishing at random and new work routed as it comes, still at most 1 apart after
    # each routing round (a finished task frees a slot; the next one goes to the least loaded)
    for i in range(100, 400):
        busiest = [m for m in members if m.load == max(x.load for x in members)]
        members = finish(members, rng.choice(busiest).id)
        chosen = pick("least-loaded", members)
        assert chosen is not None
        members = give(members, chosen.id, stamp(i))
        assert spread(members) <= 1, [m.load for m in members]


def test_least_loaded_breaks_ties_by_the_oldest_assignment_and_respects_capacity() -> None:
    members = [member("a", load=1, lastAssignedAt=stamp(5)), member("b", load=1, lastAssignedAt=stamp(2)),
               member("c", load=0, capacity=0)]
    assert pick("least-loaded", members).id == "b"  # type: ignore[union-attr]


def test_longest_idle_gives_to_whom_waited_longest() -> None:
    members = [member("a", lastAssignedAt=stamp(3)), member("b", lastAssignedAt=stamp(1)), member("c")]
    order: list[str] = []
    for i in range(10, 16):
        chosen = pick("longest-idle", members)
        assert chosen is not None
        order.append(chosen.id)
        members = give(members, chosen.id, stamp(i))
    assert order == ["c", "b", "a", "c", "b", "a"]  # never assigned first, then the oldest assignment
