"""A case's tasks at tenant scale (issue 24): with 10,000 tasks of the tenant in other cases,
`GET /api/v1/tasks?caseId=X` still costs one DynamoDB round trip per page, on DynamoDB Local."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from baton.storage.dynamo import get_dynamo
from baton.tasks.domain import Task
from baton.tasks.repository import task_item
from baton_local.ddblocal import DynamoDBLocal
from baton_local.harness import ADMIN, call

pytestmark = pytest.mark.xdist_group("cases")
OTHERS, MINE = 10_000, 23
TENANT = "cases"


def test_a_case_page_is_one_round_trip_beside_10000_tasks_of_other_cases(local_table: str,
                                                                         ddb_local: DynamoDBLocal) -> None:
    store = get_dynamo()

    def put(chunk: range) -> None:  # the others, straight into the table in the store's own item shape
        request: dict[str, Any] = {store.table: [{"PutRequest": {"Item": task_item(TENANT, Task(
            id=f"other-{i:05d}", name="Other", caseId=f"case-{i % 500}", candidateGroups=["ops"],
            createdAt=f"2026-01-01T00:00:00.{i:06d}Z", updatedAt="2026-01-01T00:00:00Z"))}} for i in chunk]}
        while request:
            request = store.client.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(put, [range(n, min(n + 25, OTHERS)) for n in range(0, OTHERS, 25)]))
    for n in range(MINE):
        r = call("POST", "/api/v1/tasks", {"id": f"mine-{n:02d}", "name": "Mine", "caseId": "job-42"},
                 user="root", roles=ADMIN, tenant=TENANT)
        assert r.status == 201, r
    calls: list[str] = []

    def after(model: Any, **_: Any) -> None:
        calls.append(model.name)

    store.client.meta.events.register("after-call.dynamodb", after)
    try:
        seen: list[str] = []
        cursor = None
        pages = 0
        while True:
            calls.clear()
            query = {"caseId": "job-42", "limit": "10", **({"cursor": cursor} if cursor else {})}
            r = call("GET", "/api/v1/tasks", query=query, tenant=TENANT)
            assert r.status == 200, r
            assert calls == ["Query"], calls  # one round trip per page
            pages += 1
            seen += [t["id"] for t in r.body["items"]]
            cursor = r.body["cursor"]
            if not cursor:
                break
    finally:
        store.client.meta.events.unregister("after-call.dynamodb", after)
    assert seen == [f"mine-{n:02d}" for n in range(MINE)] and pages == 3
    other = call("GET", "/api/v1/tasks", query={"caseId": "case-7", "limit": "100"}, tenant=TENANT).body
    assert len(other["items"]) == OTHERS // 500 and other["cursor"] is None
