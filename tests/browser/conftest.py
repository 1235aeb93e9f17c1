"""The page tests' server and browser: `baton serve` with the demo data, one per module (each
module changes the demo data its own way), on a fresh table of the test process's DynamoDB Local;
one headless chromium per test process, which `fresh` gives each test as a clean page."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from selenium.webdriver import Chrome as WebDriver

from baton_local.ddblocal import DynamoDBLocal
from tests.support.browser import fresh, one_browser
from tests.support.localserver import Server, on_engine


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, ddb_local: DynamoDBLocal) -> Iterator[Server]:
    srv = Server(tmp_path_factory.mktemp("baton-state"), *on_engine(ddb_local)).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def shared() -> Iterator[WebDriver]:
    with one_browser() as driver:
        yield driver


@pytest.fixture
def browser(shared: WebDriver, server: Server) -> WebDriver:
    return fresh(shared, server.base)
