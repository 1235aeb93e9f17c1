"""Separation of duties under races, on DynamoDB Local: the same user claiming two mutually
separated tasks of one case at the same moment, 200 times over, never ends up having held both
(the case ledger's condition is part of each claim's transaction: tasks.separation)."""

from __future__ import annotations

from collections import Counter
from functools import partial

import pytest

from tests.support import ADMIN, call, claim, concurrently

pytestmark = pytest.mark.usefixtures("functions_in_processes")
ROUNDS = 200


@pytest.fixture
def people(local_table: str) -> None:
    assert call("PUT", "/api/v1/users/sam", {"username": "sam"}, user="root", roles=ADMIN).status == 201


@pytest.mark.usefixtures("people")
def test_never_both_of_two_separated_tasks() -> None:
    outcomes: Counter[tuple[int, ...]] = Counter()
    for n in range(ROUNDS):
        case, a, b = f"case-{n}", f"a-{n}", f"b-{n}"
        for task, other in ((a, b), (b, a)):
            r = call("POST", "/api/v1/tasks", {"id": task, "name": task, "candidateUsers": ["sam"], "caseId": case,
                                               "separation": {"tasks": [other]}}, user="root", roles=ADMIN)
            assert r.status == 201, r
        results = concurrently([partial(claim, a, "sam"), partial(claim, b, "sam")])
        statuses = tuple(sorted(r.status for r in results))
        outcomes[statuses] += 1
        assert statuses.count(200) == 1, (n, results)  # one wins, never both (and never neither)
        assert any(r.status == 409 and "Separation of duties" in r.body["message"] for r in results)
    assert outcomes == {(200, 409): ROUNDS}
