"""A bounded schemathesis pass against `baton serve` (the long one is `make fuzz`)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from baton.routes import ROUTES
from baton_local.ddblocal import DynamoDBLocal
from tests.fuzz import CHECKS, run
from tests.support.localserver import on_engine

pytestmark = [pytest.mark.ddblocal, pytest.mark.xdist_group("fuzz")]


def test_schemathesis_finds_nothing(tmp_path: Path, ddb_local: DynamoDBLocal) -> None:
    result = run(max_examples=6, seed=20261123, state=tmp_path, serve=on_engine(ddb_local))
    report = result.stdout + result.stderr
    assert result.returncode == 0, report[-20000:]
    # It really ran: every operation of the document, with every check.
    documented = sum(1 for r in ROUTES if not r.page)
    selected = re.search(r"Selected: (\d+)/(\d+)", report)
    assert selected and selected[1] == selected[2] and f"Tested: {selected[1]}" in report, report[-3000:]
    # every operation of the document but the one serving the document itself
    assert int(selected[1]) >= documented - 1, (selected[0], documented)
    assert "generated" in report
    assert "not_a_server_error" in CHECKS and "response_schema_conformance" in CHECKS
