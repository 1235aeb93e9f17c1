"""Fixtures: a fresh table per test, on moto or on Amazon DynamoDB Local.

Every test gets its own table (a random name), so nothing is ever wiped or shared. DynamoDB
Local runs once per test process, in memory, with the machine's Java."""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "1")
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "CRITICAL")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "Baton")

from baton.platform.dynamo import _client  # noqa: E402
from baton.platform.settings import get_settings  # noqa: E402
from baton.table import ensure_table  # noqa: E402
from baton_local.ddblocal import DynamoDBLocal  # noqa: E402


def _use(monkeypatch: pytest.MonkeyPatch, table: str, endpoint: str | None) -> None:
    monkeypatch.setenv("TABLE_NAME", table)
    if endpoint:
        monkeypatch.setenv("DYNAMODB_ENDPOINT", endpoint)
    else:
        monkeypatch.delenv("DYNAMODB_ENDPOINT", raising=False)
    get_settings.cache_clear()
    _client.cache_clear()


@pytest.fixture(scope="session")
def ddb_local() -> Iterator[DynamoDBLocal]:
    engine = DynamoDBLocal().start()
    yield engine
    engine.stop()


@pytest.fixture
def moto_table(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    from moto import mock_aws

    with mock_aws():
        table = f"baton-{uuid.uuid4().hex[:10]}"
        _use(monkeypatch, table, None)
        from baton.platform.dynamo import get_dynamo

        ensure_table(get_dynamo().client, table)
        yield "moto"
    get_settings.cache_clear()
    _client.cache_clear()


@pytest.fixture
def local_table(monkeypatch: pytest.MonkeyPatch, ddb_local: DynamoDBLocal) -> Iterator[str]:
    table = f"baton-{uuid.uuid4().hex[:10]}"
    _use(monkeypatch, table, ddb_local.endpoint)
    from baton.platform.dynamo import get_dynamo

    ensure_table(get_dynamo().client, table)
    yield "ddblocal"
    get_settings.cache_clear()
    _client.cache_clear()


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
