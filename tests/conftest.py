"""Fixtures: a fresh table per test, on moto or on Amazon DynamoDB Local; and the tiers.

Every test gets its own table (a random name), so nothing is ever wiped or shared; on DynamoDB
Local it is deleted after the test. DynamoDB Local runs once per test process, in memory, with
the machine's Java.

A test's tier is its folder (tests/unit, tests/integration, tests/browser, tests/infra), given
to it as a marker of that name; `make unit` runs `-m unit`, and so on. The one exception: a unit
test taking `backend` runs on moto in the unit tier and again on DynamoDB Local in the
integration tier (`backend[ddblocal]` is marked `integration`), so a divergence shows."""

from __future__ import annotations

import contextlib
import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# moto first: its stubber joins botocore's built-in handlers at import, so every DynamoDB client
# created after it (one per endpoint, kept for the session) answers from moto inside mock_aws().
from moto import mock_aws

ROOT = Path(__file__).resolve().parents[1]
TIERS = ("unit", "integration", "browser", "infra")
sys.path.insert(0, str(ROOT))

os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "1")
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "CRITICAL")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "Baton")

from baton.settings import get_settings  # noqa: E402
from baton.table import ensure_table  # noqa: E402
from baton_local.ddblocal import DynamoDBLocal  # noqa: E402
from tests.support import fastmoto  # noqa: E402

fastmoto.install()  # moto's DynamoDB answering as before, for a fraction of the cost (tests/support/fastmoto.py)


def _use(monkeypatch: pytest.MonkeyPatch, table: str, endpoint: str | None) -> None:
    monkeypatch.setenv("TABLE_NAME", table)
    if endpoint:
        monkeypatch.setenv("DYNAMODB_ENDPOINT", endpoint)
    else:
        monkeypatch.delenv("DYNAMODB_ENDPOINT", raising=False)
        monkeypatch.setenv("BATON_BULK_WORKERS", "1")  # moto is not thread-safe: a bulk's writes in turn
        monkeypatch.setenv("BATON_ROUTE_WORKERS", "1")  # ... and a routing batch's
        monkeypatch.setenv("BATON_SWEEP_WORKERS", "1")  # ... and a sweep's firings
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def ddb_local() -> Iterator[DynamoDBLocal]:
    engine = DynamoDBLocal().start()
    yield engine
    engine.stop()


@pytest.fixture(scope="session")
def ddb_admin(ddb_local: DynamoDBLocal) -> Any:
    """A client of the test process's DynamoDB Local for the fixtures' own housekeeping."""
    return ddb_local.client()


@pytest.fixture
def moto_table(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with mock_aws():
        table = f"baton-{uuid.uuid4().hex[:10]}"
        _use(monkeypatch, table, None)
        from baton.storage.dynamo import get_dynamo

        ensure_table(get_dynamo().client, table)
        yield "moto"
    get_settings.cache_clear()


@pytest.fixture
def local_table(monkeypatch: pytest.MonkeyPatch, ddb_local: DynamoDBLocal, ddb_admin: Any) -> Iterator[str]:
    """A new table on the test process's DynamoDB Local, deleted after the test: an engine
    holding every table of the run would make each next CreateTable (and every request after a
    schema change) slower, as SQLite reads its whole schema again (docs/decisions.md)."""
    table = f"baton-{uuid.uuid4().hex[:10]}"
    _use(monkeypatch, table, ddb_local.endpoint)
    from baton.storage.dynamo import get_dynamo

    ensure_table(get_dynamo().client, table)
    yield "ddblocal"
    get_settings.cache_clear()
    with contextlib.suppress(ddb_admin.exceptions.ResourceNotFoundException):
        ddb_admin.delete_table(TableName=table)


@pytest.fixture(params=["moto", "ddblocal"])
def backend(request: pytest.FixtureRequest) -> str:
    """The same test on moto and on DynamoDB Local, so a divergence shows."""
    name: str = request.getfixturevalue("moto_table" if request.param == "moto" else "local_table")
    return name


@pytest.fixture
def functions_in_processes(local_table: str) -> Iterator[None]:
    """The functions in worker processes for the test (forked once the table is set), so that
    concurrent calls are concurrent requests: a function handles one request at a time."""
    from tests.support import in_processes

    with in_processes():
        yield


@pytest.fixture
def controlled_clock() -> Iterator[None]:
    """baton.clock stopped at now, moved only by `clock.advance` in the test (no sleeps,
    and a slow machine can't let a lease run out between two steps), reset after."""
    from baton import clock

    clock.reset()
    clock.freeze()
    yield
    clock.reset()


@pytest.hookimpl(tryfirst=True)  # before `-m` selects by the markers given here
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        tier = item.path.relative_to(ROOT / "tests").parts[0]
        assert tier in TIERS, f"{item.nodeid}: a test lives in one of tests/{{{','.join(TIERS)}}}"
        callspec = getattr(item, "callspec", None)
        if tier == "unit" and callspec is not None and callspec.params.get("backend") == "ddblocal":
            tier = "integration"
        if tier == "unit":
            engine = {"ddb_local", "local_table"} & set(getattr(item, "fixturenames", ()))
            assert not engine, f"{item.nodeid} needs DynamoDB Local ({engine}): it belongs in tests/integration"
        item.add_marker(tier)
