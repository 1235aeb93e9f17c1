"""Roles are exact over real HTTP too: the local issuer's token with a lookalike group, through
the local server (in-process, moto), grants nothing (tests/unit/test_roles.py has the rest)."""

from __future__ import annotations

from pathlib import Path

from baton.edge.auth import ROLES_CLAIM
from baton_local import tokens
from baton_local.server import running
from tests.support import TENANT
from tests.support.localserver import request


def test_lookalike_cannot_act_as_admin_over_the_local_server(moto_table: str, tmp_path: Path) -> None:
    key = tokens.load_key(tmp_path)
    with running("127.0.0.1", 0, key, serialize=True, idle_timeout=5) as server:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        for group in ("Domain admin", "[admin]", "x,admin", "not-admin,admin", "helpdesk apiwrite"):
            tok = tokens.issue(key, user="eve", tenant=TENANT, roles=[group])
            assert tokens.verify(key, tok)[ROLES_CLAIM] == f'["{group}"]'
            status, body = request(base, "POST", "/api/v1/tasks", tok, {"id": "t-http", "name": "Odd"})
            assert status == 403, (group, body)
        admin = tokens.issue(key, user="root", tenant=TENANT, roles=["admin"])
        assert request(base, "GET", "/api/v1/tasks/t-http", admin)[0] == 404
        assert request(base, "POST", "/api/v1/tasks", admin, {"id": "t-http", "name": "Ok"})[0] == 201
