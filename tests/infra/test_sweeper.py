"""The sweeper function's declared DynamoDB actions (infra/sweeper.py SWEEPER_ACTIONS, from which the
stack grants its policy) cover what a sweep really does: sweeps that fire every kind of step (and
a table's first sweep, which asks when the table was made) are replayed on moto while botocore
reports every call."""

from __future__ import annotations

from typing import Any

import pytest

from baton import clock
from baton.storage.dynamo import get_dynamo
from baton_functions import sweeper
from infra.sweeper import SWEEPER_ACTIONS
from tests.infra.test_least_privilege import iam_actions
from tests.support import ADMIN, call, claim, seed


@pytest.mark.usefixtures("moto_table", "controlled_clock")
def test_a_sweep_uses_only_the_declared_actions() -> None:
    seed()
    steps = [{"id": "n", "after": "PT1M", "action": "notify"},
             {"id": "p", "after": "PT2M", "action": "raise-priority", "priority": 90},
             {"id": "o", "after": "PT3M", "action": "offer", "to": {"users": ["carol"], "groups": ["ops"]}},
             {"id": "r", "after": "PT4M", "action": "reassign", "to": {"users": ["dave"]}},
             {"id": "x", "after": "PT1M", "from": "claimed", "action": "release"}]
    r = call("POST", "/api/v1/tasks", {"id": "all", "name": "all", "candidateGroups": ["ops"], "escalations": steps},
             user="root", roles=ADMIN)
    assert r.status == 201, r
    assert claim("all", "alice").status == 200
    used: set[str] = set()

    def record(model: Any, params: dict[str, Any], **_: Any) -> None:
        used.update(iam_actions(model.name, params))

    get_dynamo().client.meta.events.register("before-parameter-build.dynamodb", record)
    fired = 0
    for _ in range(5):
        clock.advance(60)
        fired += sweeper.lambda_handler({}, None)["fired"]
    assert fired == 6  # the reassign to dave is a new claim: it re-arms the release, which fires again
    assert used <= set(SWEEPER_ACTIONS), sorted(used - set(SWEEPER_ACTIONS))
    assert {"Query", "GetItem", "BatchGetItem", "PutItem", "DescribeTable"} <= used


@pytest.mark.usefixtures("moto_table", "controlled_clock")
def test_a_sweep_that_ends_a_lease_and_an_absence_uses_only_the_declared_actions() -> None:
    seed()
    r = call("POST", "/api/v1/tasks/t1/action/claim", {"leaseSeconds": 60}, user="alice", roles=("operations",))
    assert r.status == 200, r
    away = {"from": clock.stamp(), "until": clock.after(60), "delegateTo": "bob"}
    assert call("PUT", "/api/v1/users/carol/absence", away, user="carol").status == 200
    used: set[str] = set()

    def record(model: Any, params: dict[str, Any], **_: Any) -> None:
        used.update(iam_actions(model.name, params))

    get_dynamo().client.meta.events.register("before-parameter-build.dynamodb", record)
    clock.advance(61)
    assert sweeper.lambda_handler({}, None)["fired"] == 1  # the lease (the absence's end is a user's event)
    assert call("GET", "/api/v1/tasks/t1").body["assignee"] is None
    assert call("GET", "/api/v1/users", query={"filter": "carol"}).body["items"][0]["absence"] is None
    assert used <= set(SWEEPER_ACTIONS), sorted(used - set(SWEEPER_ACTIONS))
