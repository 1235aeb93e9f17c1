"""`baton serve` for tests (baton_local.harness runs it), and tokens from the `baton token` command."""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path

from baton_local import tokens
from baton_local.ddblocal import DynamoDBLocal
from baton_local.harness import BATON, Server, request

__all__ = ["BATON", "Server", "cli_token", "on_engine", "request", "token"]


def on_engine(ddb_local: DynamoDBLocal) -> tuple[str, ...]:
    """`baton serve` arguments for a fresh table on the test process's DynamoDB Local: one JVM
    (compiled and warm) for a test process's servers, instead of one started per server. Tests
    of the server's own engine (restarts, crash safety, no Java) start it without these."""
    return ("--dynamodb-endpoint", ddb_local.endpoint, "--table", f"baton-{uuid.uuid4().hex[:10]}")


def token(state: Path, user: str, roles: str, tenant: str = "workflow", ttl: int = 600) -> str:
    """A token as `baton token` mints it, minted in this process from the server's key (the
    command itself is run by `cli_token`, in tests/integration/test_local_server.py)."""
    return tokens.issue(tokens.load_key(state), user=user, tenant=tenant, roles=[r for r in roles.split(",") if r],
                        ttl=ttl)


def cli_token(state: Path, user: str, roles: str, tenant: str = "workflow", ttl: int = 600) -> str:
    """A token from the `baton token` command."""
    out = subprocess.run([BATON, "token", "--user", user, "--roles", roles, "--tenant", tenant,
                          "--ttl", str(ttl), "--state-dir", str(state)],
                         check=True, capture_output=True, text=True).stdout
    return out.strip().splitlines()[-1]
