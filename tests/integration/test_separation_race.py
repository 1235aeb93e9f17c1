"""Separation of duties under races, on DynamoDB Local: the same user claiming two mutually
separated tasks of one case at the same moment, 100 times over, never ends up having held both
(the case ledger's condition is part of each claim's transaction: tasks.separation). With that
condition left out of the claim's transaction, both claims won in every round tried (30 of 30)."""

from __future__ import annotations

from collections import Counter
from functools import partial

import pytest

from tests.support import ADMIN, call, claim, concurrently

pytestmark = pytest.mark.usefixtures("functions_in_processes")
ROUNDS = 100


@pytest.fixture
def people(local_table: str) -> None:
    assert call("PUT", "/api/v1/users/sam", {"username": "sam"}, user="root", roles=ADMIN).status == 201


@pytest.mark.usefixtures("people")
def test_never_both_of_two_separated_tasks() -> None:
    def create(task: str, other: str, case: str) -> None:
        r = call("POST", "/api/v1/tasks", {"id": task, "name": task, "candidateUsers": ["sam"], "caseId": case,
                                           "separation": {"tasks": [other]}}, user="root", roles=ADMIN)
        assert r.status == 201, r

    # every round's two tasks first, eight at a time (the worker processes): only the claims race
    pairs = [(f"case-{n}", f"a-{n}", f"b-{n}") for n in range(ROUNDS)]
    creates = [partial(create, task, other, case) for case, a, b in pairs for task, other in ((a, b), (b, a))]
    for start in range(0, len(creates), 8):
        concurrently(creates[start:start + 8])
    outcomes: Counter[tuple[int, ...]] = Counter()
    for n, (_case, a, b) in enumerate(pairs):
        results = concurrently([partial(claim, a, "sam"), partial(claim, b, "sam")])
        statuses = tuple(sorted(r.status for r in results))
        outcomes[statuses] += 1
        assert statuses.count(200) == 1, (n, results)  # one wins, never both (and never neither)
        assert any(r.status == 409 and "Separation of duties" in r.body["message"] for r in results)
    assert outcomes == {(200, 409): ROUNDS}
