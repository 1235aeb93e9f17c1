"""Run `baton serve` as a subprocess for tests, tokens from `baton token`, plain HTTP requests."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from baton_local.ddblocal import free_port

BATON = str(Path(sys.executable).parent / "baton")


def token(state: Path, user: str, roles: str, tenant: str = "workflow", ttl: int = 600) -> str:
    out = subprocess.run([BATON, "token", "--user", user, "--roles", roles, "--tenant", tenant,
                          "--ttl", str(ttl), "--state-dir", str(state)],
                         check=True, capture_output=True, text=True).stdout
    return out.strip().splitlines()[-1]


def request(base: str, method: str, path: str, tok: str | None = None, body: Any = None, timeout: float = 30
            ) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method)
    if tok:
        req.add_header("Authorization", f"Bearer {tok}")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            raw = resp.read()
            status = resp.status
    except urllib.error.HTTPError as err:
        raw, status = err.read(), err.code
    try:
        return status, json.loads(raw)
    except json.JSONDecodeError:
        return status, raw.decode()


class Server:
    def __init__(self, state: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.state = state
        self.args = list(args)
        self.extra_env = env or {}
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[str] | None = None
        self.banner: list[str] = []

    def start(self) -> Server:
        env = {**os.environ, "PORT": str(self.port), **self.extra_env}
        env.pop("DYNAMODB_ENDPOINT", None)
        self.proc = subprocess.Popen([BATON, "serve", "--state-dir", str(self.state), *self.args], env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        assert self.proc.stdout is not None
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line and self.proc.poll() is not None:
                raise RuntimeError("baton serve exited: " + "".join(self.banner))
            self.banner.append(line)
            if "Get a token" in line:
                return self
        raise RuntimeError("baton serve did not start: " + "".join(self.banner))

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
