"""A hostile task id over real HTTP through the local server (in-process, moto): it can neither
inject a header nor drop the response (issue 12, item 4; the handler-level checks are in
tests/unit/test_hardening.py)."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest

from baton_local import tokens
from baton_local.server import running
from tests.support import HOSTILE_IDS, TENANT, seed


@pytest.fixture(autouse=True)
def _seeded(moto_table: str) -> None:
    seed()


def test_an_id_cannot_inject_or_drop_a_response_over_http(tmp_path: Path) -> None:
    key = tokens.load_key(tmp_path)
    admin = tokens.issue(key, user="root", tenant=TENANT, roles=["admin"])
    with running("127.0.0.1", 0, key, serialize=True, idle_timeout=5) as server:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        for task_id in HOSTILE_IDS:
            req = urllib.request.Request(base + "/api/v1/tasks", method="POST",
                                         data=json.dumps({"id": task_id, "name": "Hostile"}).encode(),
                                         headers={"Authorization": f"Bearer {admin}"})
            with urllib.request.urlopen(req, timeout=30) as resp:
                assert resp.status == 201
                assert resp.headers.get("Set-Cookie") is None
                location = resp.headers["Location"]
            with urllib.request.urlopen(urllib.request.Request(
                    base + location, headers={"Authorization": f"Bearer {admin}"}), timeout=30) as resp:
                assert resp.status == 200 and json.loads(resp.read())["id"] == task_id
