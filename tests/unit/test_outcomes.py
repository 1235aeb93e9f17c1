"""How a task ended: complete's `outcome` and `variables`, ConductorOne's approve and deny, and a
task's Step Functions callback token (kept, never shown in full) (issue 28)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from baton.tasks.callbacks import callback_of
from tests.support import ADMIN, call, create_task, get_task, history, native, seed, table_items

pytestmark = pytest.mark.usefixtures("backend")
TOKEN = "AAAAKgAAAAIAAAAAAAAAAf-very-secret-token-Xyz123"


@pytest.fixture(autouse=True)
def _seeded(backend: str) -> None:
    seed()


def test_complete_records_its_outcome_and_variables() -> None:
    assert native("claim", "t2", "carol").status == 200
    variables = {"amount": 12.5, "approved": True, "items": [{"sku": "a", "n": 2}], "note": "ünïcödé"}
    r = native("complete", "t2", "carol", {"outcome": "approved", "variables": variables, "comment": "ok"})
    assert r.status == 200, r
    assert (r.body["outcome"], r.body["variables"], r.body["completedBy"]) == ("approved", variables, "carol")
    assert r.body["completedAt"] and r.body["status"] == "completed"
    shown = get_task("t2").body
    assert shown["outcome"] == "approved" and shown["variables"] == variables
    assert history("t2")[-1]["action"] == "complete"


def test_a_completion_without_an_outcome_still_says_who_and_when() -> None:
    native("claim", "t2", "carol")
    r = native("complete", "t2", "carol")
    assert r.status == 200 and r.body["outcome"] is None and r.body["variables"] is None
    assert r.body["completedBy"] == "carol"


@pytest.mark.parametrize("body", [
    {"outcome": ""}, {"outcome": "x" * 65}, {"outcome": 3}, {"variables": [1, 2]}, {"variables": "x"},
    {"variables": {"big": "x" * (32 * 1024)}},
])
def test_bad_outcomes_and_variables_are_400_and_change_nothing(body: dict[str, Any]) -> None:
    native("claim", "t2", "carol")
    r = native("complete", "t2", "carol", body)
    assert r.status == 400, r
    assert get_task("t2").body["status"] == "open"


def test_not_a_number_is_400() -> None:
    native("claim", "t2", "carol")
    r = call("POST", "/api/v1/tasks/t2/action/complete", '{"variables": {"x": NaN}}', user="carol")
    assert r.status == 400, r


def test_the_callback_token_is_kept_but_never_shown_in_full() -> None:
    create_task("wf", candidateUsers=["carol"], callback={"stepFunctionsTaskToken": TOKEN})
    shown = get_task("wf").body
    assert shown["callback"] == {"stepFunctionsTaskToken": "…Xyz123"}
    listed = call("GET", "/api/v1/tasks", query={"candidate": "me", "status": "open"}, user="carol").body
    for where in (shown, listed, history("wf")):
        assert TOKEN not in json.dumps(where)
    stored = [i for i in table_items() if i["sk"]["S"] == "TASK" and i["pk"]["S"].endswith("#wf")]
    assert stored[0]["callbackToken"] == {"S": TOKEN}


def test_a_completion_is_the_record_of_its_success_callback() -> None:
    create_task("wf", candidateUsers=["carol"], callback={"stepFunctionsTaskToken": TOKEN})
    native("claim", "wf", "carol")
    before = next(i for i in table_items() if i["sk"]["S"] == "TASK" and i["pk"]["S"].endswith("#wf"))
    native("complete", "wf", "carol", {"outcome": "rejected", "variables": {"why": "budget"}})
    after = next(i for i in table_items() if i["sk"]["S"] == "TASK" and i["pk"]["S"].endswith("#wf"))
    cb = callback_of({"eventName": "MODIFY", "dynamodb": {"Keys": {"pk": after["pk"], "sk": after["sk"]},
                                                          "OldImage": before, "NewImage": after}})
    assert cb is not None and cb.kind == "success" and cb.token == TOKEN
    assert cb.output is not None and cb.output["outcome"] == "rejected"
    assert cb.output["variables"] == {"why": "budget"} and cb.output["completedBy"] == "carol"


@pytest.mark.parametrize(("action", "outcome"), [("approve", "approved"), ("deny", "denied")])
def test_conductorone_approve_and_deny_complete_with_their_outcome(action: str, outcome: str) -> None:
    native("claim", "t2", "carol")
    r = call("POST", f"/api/v1/tasks/t2/action/{action}", {"policyStepId": "step", "comment": "fine"}, user="carol")
    assert r.status == 200, r
    assert r.body["taskView"]["task"]["state"] == "TASK_STATE_CLOSED" and r.body["ticketActionId"]
    assert get_task("t2").body["outcome"] == outcome
    again = call("POST", f"/api/v1/tasks/t2/action/{action}", {"policyStepId": "step"}, user="carol")
    assert again.status == 400 and again.body["code"] == 9  # already finished: FAILED_PRECONDITION


def test_conductorone_approve_by_someone_else_is_403() -> None:
    native("claim", "t2", "carol")
    r = call("POST", "/api/v1/tasks/t2/action/approve", {"policyStepId": "step"}, user="bob")
    assert r.status == 403 and r.body["code"] == 7
    assert call("POST", "/api/v1/tasks/t2/action/approve", {}, user="root", roles=ADMIN).status == 200
