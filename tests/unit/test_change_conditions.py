"""What a change asserts is declared once (tasks.change, through storage.conditions): the Python
check of `Change.task_rule` and of `Membership.rule`, and the ConditionExpression the write
renders from them, agree on every state of the fields they read, as DynamoDB (moto) evaluates
them on the items stored as the repository stores them (the claim rule's own agreement is
tests/unit/test_claim_rule.py)."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from baton.storage.conditions import Param, absent, contains, either, eq, rule
from baton.storage.dynamo import ConditionFailed, get_dynamo, serialize
from baton.storage.keys import Keys
from baton.tasks.change import Change, Membership
from baton.tasks.domain import HistoryEvent, Task
from baton.tasks.layout import task_item
from baton.tasks.rules import fields
from baton.tasks.unit_of_work import Op

pytestmark = pytest.mark.usefixtures("moto_table")
T0, NOW, LATER = "2026-01-01T00:00:00.000000Z", "2026-01-01T00:10:00.000000Z", "2026-01-01T00:20:00.000000Z"


def task(i: int, **values: Any) -> Task:
    return Task.model_validate({"id": f"t{i}", "name": "T", "createdAt": T0, "updatedAt": T0, **values})


def states() -> list[Task]:
    return [task(i, version=v, status=s, assignee=a, leaseExpiresAt=lease if a else None)
            for i, (v, s, a, lease) in enumerate(itertools.product(
                (1, 2), ("open", "completed"), (None, "me", "other"), (None, T0, LATER)))]


def event(at: str, version: int = 2) -> HistoryEvent:
    return HistoryEvent(id="e", taskId="t", version=version, at=at, actor="me", action="x")


def changes() -> list[Change]:
    """A change of each kind: plain, a takeover of a passed lease, a holder's action on a lease."""
    out: list[Change] = []
    for before in (task(0, version=1), task(0, version=2, assignee="me"),
                   task(0, version=2, assignee="me", leaseExpiresAt=LATER)):
        out.append(Change(before, before, event(NOW)))
        out.append(Change(before, before, event(NOW), by_holder=True))
    out.append(Change(task(0, version=2, assignee="other", leaseExpiresAt=T0), task(0), event(NOW, 4),
                      expired=event(NOW, 3)))
    return out


def dynamodb_says(keys: list[dict[str, Any]], op: Op) -> list[bool]:
    """DynamoDB's verdict on the op's condition for each stored item (a probe update under it)."""
    db = get_dynamo()
    rendered = op.render()[op.kind]
    values = {**rendered.get("ExpressionAttributeValues", {}), **serialize({":probe": 1})}
    verdicts: list[bool] = []
    for key in keys:
        try:
            db.call("update_item", TableName=db.table, Key=serialize(key), UpdateExpression="SET probe = :probe",
                    ConditionExpression=rendered["ConditionExpression"],
                    ExpressionAttributeNames=rendered["ExpressionAttributeNames"], ExpressionAttributeValues=values)
        except ConditionFailed:
            verdicts.append(False)
        else:
            verdicts.append(True)
    return verdicts


def test_a_changes_task_condition_and_its_python_check_agree_on_every_state() -> None:
    db = get_dynamo()
    stored = states()
    for t in stored:
        db.call("put_item", TableName=db.table, Item=task_item("acme", t))
    keys = [Keys.task("acme", t.id) for t in stored]
    seen = {True: 0, False: 0}
    for change in changes():
        rule = change.task_rule()
        for t, dynamodb in zip(stored, dynamodb_says(keys, Op("Put", {}, rule)), strict=True):
            python = rule.holds(fields(t))
            assert dynamodb == python, (change, t)
            seen[python] += 1
    assert seen[True] >= len(changes()) and seen[False] > seen[True]


def test_a_membership_condition_and_its_python_check_agree() -> None:
    db = get_dynamo()
    memberships = {"u0": [], "u1": ["a"], "u2": ["b"], "u3": ["a", "b"], "u4": ["c", "a"]}
    for user, groups in memberships.items():
        item = serialize({**Keys.user("acme", user), "userId": user})
        if groups:  # a string set, as the directory stores it
            item["groups"] = {"SS": groups}
        db.call("put_item", TableName=db.table, Item=item)
    keys = [Keys.user("acme", u) for u in memberships]
    for wanted in (("a",), ("a", "b"), ("c",), ("d", "e")):
        rule = Membership("x", wanted).rule
        verdicts = dynamodb_says(keys, Op("ConditionCheck", {}, rule))
        assert verdicts == [rule.holds({"groups": g}) for g in memberships.values()], wanted
        assert verdicts == [bool(set(g) & set(wanted)) for g in memberships.values()], wanted


def test_a_clause_anded_twice_is_written_once_and_means_the_same() -> None:
    """A bulk chunk ANDs each task's checks of one user item: a clause already there adds nothing,
    so 60 group tasks' checks stay as short as one (an expression holds 4 KB), and hold alike."""
    member = rule(contains("groups", "ops"), either(absent("active"), eq("active", True)))
    joined = member
    for _ in range(60):
        joined = joined & member & contains("groups", Param("g"))
    assert joined.clauses == (*member.clauses, contains("groups", Param("g")))
    assert len(joined.condition(g="ops").expression) < 200
    for groups, active in itertools.product(([], ["ops"], ["ops", "x"]), (None, True, False)):
        item = {"groups": groups, **({"active": active} if active is not None else {})}
        assert joined.holds(item, g="ops") == (member.holds(item) and "ops" in groups)
