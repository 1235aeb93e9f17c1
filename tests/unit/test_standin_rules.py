"""Absence chains and separation of duties, as pure rules (baton.directory.absence,
baton.tasks.separation)."""

from __future__ import annotations

from baton.directory.absence import Absence, refuses_cycle, stand_in
from baton.tasks.separation import Held, Separation, ledger_entry, refusal

NOW = "2026-12-06T12:00:00.000000Z"
NOBODY: dict[str, Absence] = {}
PAST, FUTURE = "2026-12-01T00:00:00.000000Z", "2026-12-31T00:00:00.000000Z"


def away(delegate: str | None, mode: str = "redirect", start: str = PAST, until: str = FUTURE) -> Absence:
    return Absence.model_validate({"from": start, "until": until, "delegateTo": delegate, "mode": mode})


def test_a_present_user_takes_their_own_work() -> None:
    got = stand_in("ann", NOBODY.get, NOW)
    assert got.users == ("ann",) and got.on_behalf_of is None and got.reason is None


def test_redirect_goes_to_the_delegate_on_behalf_of_the_absent_user() -> None:
    got = stand_in("ann", {"ann": away("bob")}.get, NOW)
    assert got.users == ("bob",) and got.on_behalf_of == "ann" and got.reason == "absence:redirect"


def test_share_gives_it_to_both() -> None:
    got = stand_in("ann", {"ann": away("bob", "share")}.get, NOW)
    assert got.users == ("ann", "bob") and got.reason == "absence:share"


def test_an_absence_ends_by_itself_at_until_and_starts_at_from() -> None:
    ended = {"ann": away("bob", until=NOW)}
    assert stand_in("ann", ended.get, NOW).users == ("ann",)
    later = {"ann": away("bob", start="2026-12-07T00:00:00.000000Z")}
    assert stand_in("ann", later.get, NOW).users == ("ann",)


def test_chains_are_followed_up_to_three_hops() -> None:
    three = {"a": away("b"), "b": away("c"), "c": away("d")}
    assert stand_in("a", three.get, NOW).users == ("d",)
    four = {**three, "d": away("e")}
    assert stand_in("a", four.get, NOW).users == ()  # too long: it stays in the queue


def test_a_chain_ending_at_an_absent_user_without_delegate_leaves_the_work_in_the_queue() -> None:
    got = stand_in("a", {"a": away("b"), "b": away(None)}.get, NOW)
    assert got.users == () and got.on_behalf_of == "a"


def test_a_cycle_is_refused_when_set_and_harmless_when_met() -> None:
    chain = {"b": away("c"), "c": away("a")}
    assert refuses_cycle("a", "b", chain.get) == "Delegation cycle: a -> b -> c -> a"
    assert refuses_cycle("a", "a", NOBODY.get) is not None
    assert refuses_cycle("a", "b", {"b": away("c")}.get) is None
    assert refuses_cycle("a", None, chain.get) is None
    assert stand_in("a", {**chain, "a": away("b")}.get, NOW).users == ()


def test_separation_names_the_rule_never_the_person() -> None:
    sep = Separation(excludeCreator=True, tasks=["prepare"], activities=["review"])
    assert refusal(sep, "ann", "bob", Held()) is None
    assert "excludeCreator" in (refusal(sep, "bob", "bob", Held()) or "")
    why = refusal(sep, "ann", "bob", Held(tasks=frozenset({"prepare"})))
    assert why is not None and "(tasks)" in why and "ann" not in why
    assert "(activities)" in (refusal(sep, "ann", "bob", Held(activities=frozenset({"review"}))) or "")
    assert refusal(None, "bob", "bob", Held(tasks=frozenset({"x"}))) is None


def test_the_ledger_write_is_made_for_tasks_of_a_case_only() -> None:
    sep = Separation(tasks=["prepare"])
    assert ledger_entry("approve", None, None, sep, "bob") is None
    entry = ledger_entry("approve", "case-1", "act", sep, "bob")
    assert entry is not None and entry.forbid_tasks == ("prepare",)
    assert entry.refused_by(Held(tasks=frozenset({"prepare"})))
    assert not entry.refused_by(Held(tasks=frozenset({"other"})))
