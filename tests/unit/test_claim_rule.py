"""The claim rule has one source: `tasks.eligibility.DIRECT_CLAIM` gives both the Python predicate and
the ConditionExpression of the one-request claim. Over every combination of the fields it reads,
the predicate and DynamoDB (moto) evaluating the rendered condition on the stored item agree, and
the one-request claim never grants what the general claim rule (`check_claim`) refuses."""

from __future__ import annotations

import itertools
from typing import Any

from baton.attrs import to_attr
from baton.domain import Caller
from baton.errors import BatonError
from baton.storage.dynamo import ConditionFailed, get_dynamo, serialize
from baton.storage.keys import Keys
from baton.tasks.domain import Task
from baton.tasks.eligibility import AT_VERSION, DIRECT_CLAIM, check_claim, may_claim_directly
from baton.tasks.layout import task_item
from baton.tasks.rules import fields

ME = "me"
T0 = "2026-01-01T00:00:00.000000Z"


def states() -> list[Task]:
    out: list[Task] = []
    for status, kind, assignee, users, groups, last_event, lease, version in itertools.product(
            ("open", "completed"), ("manual", "automatic"), (None, ME, "other"),
            ([], [ME], ["other"], [ME, "other"]), ([], ["g"]), (None, {"id": "e", "action": "claim"}),
            (None, 60), (1, 2)):
        out.append(Task.model_validate({
            "id": f"t{len(out)}", "name": "T", "status": status, "type": kind, "assignee": assignee,
            "candidateUsers": users, "candidateGroups": groups, "lastEvent": last_event, "leaseSeconds": lease,
            "version": version, "createdAt": T0, "updatedAt": T0}))
    return out


def store(tasks: list[Task]) -> None:
    """Each task stored as the repository stores it (one item per state)."""
    db = get_dynamo()
    items = []
    for task in tasks:
        item = task_item("acme", task)
        if task.lastEvent is not None:
            item["lastEvent"] = to_attr(task.lastEvent)
        items.append({"PutRequest": {"Item": item}})
    for start in range(0, len(items), 25):
        batch: dict[str, Any] = {db.table: items[start:start + 25]}
        while batch:
            batch = db.client.batch_write_item(RequestItems=batch).get("UnprocessedItems") or {}


def dynamodb_says(tasks: list[Task], condition: dict[str, Any]) -> list[bool]:
    """DynamoDB's verdict on the condition for each stored task: an update of a probe attribute
    under the condition (a transaction of ConditionChecks would say it in fewer calls, but moto
    copies the whole table for each transaction)."""
    db = get_dynamo()
    values = {**condition.get("ExpressionAttributeValues", {}), **serialize({":probe": 1})}
    verdicts: list[bool] = []
    for task in tasks:
        try:
            db.call("update_item", TableName=db.table, Key=serialize(Keys.task("acme", task.id)),
                    UpdateExpression="SET probe = :probe", ConditionExpression=condition["ConditionExpression"],
                    ExpressionAttributeNames=condition["ExpressionAttributeNames"], ExpressionAttributeValues=values)
        except ConditionFailed:
            verdicts.append(False)
        else:
            verdicts.append(True)
    return verdicts


def test_the_predicate_and_the_condition_expression_agree_on_every_state(backend: str) -> None:
    """Every state on DynamoDB Local (the integration tier); every fourth on moto, where each
    verdict is a full moto request (~8 ms), so the unit tier stays fast."""
    tasks = states() if backend == "ddblocal" else states()[::4]
    store(tasks)
    seen = {True: 0, False: 0}
    for rule, params in ((DIRECT_CLAIM, {"me": ME}), (DIRECT_CLAIM & AT_VERSION, {"me": ME, "version": 1})):
        verdicts = dynamodb_says(tasks, rule.condition(**params).kwargs())
        for task, dynamodb in zip(tasks, verdicts, strict=True):
            python = rule.holds(fields(task), **params)
            assert dynamodb == python, (task, rule, params)
            seen[python] += 1
    assert seen[True] >= 2 and seen[False] > seen[True]  # both outcomes are exercised


def test_the_one_request_claim_grants_only_what_the_claim_rule_grants() -> None:
    caller = Caller(user_id=ME, username=ME, tenant="acme", roles=frozenset({"operations"}))
    for task in states():
        if may_claim_directly(task, ME):
            assert check_claim(task, caller, []) is True, task
        else:
            try:
                granted = check_claim(task, caller, ["g"])
            except BatonError:
                continue
            # allowed on the general path only: a group, a lease to set or a pending event to write out
            assert not granted or task.candidateGroups or task.leaseSeconds or task.lastEvent \
                or task.candidateUsers != [ME], task
