"""`baton serve` for tests (baton_local.harness runs it), and tokens from the `baton token` command."""

from __future__ import annotations

import subprocess
from pathlib import Path

from baton_local.harness import BATON, Server, request

__all__ = ["BATON", "Server", "request", "token"]


def token(state: Path, user: str, roles: str, tenant: str = "workflow", ttl: int = 600) -> str:
    out = subprocess.run([BATON, "token", "--user", user, "--roles", roles, "--tenant", tenant,
                          "--ttl", str(ttl), "--state-dir", str(state)],
                         check=True, capture_output=True, text=True).stdout
    return out.strip().splitlines()[-1]
