"""Schemathesis against the OpenAPI document that `baton serve` publishes, every route, valid tokens.

`make test` runs a bounded pass (tests/integration/test_fuzz.py); `make fuzz` runs `python -m tests.fuzz`,
a long one. Both start their own server on DynamoDB Local with the demo tenant, so the fuzzer
meets real tasks, users and activities as well as ids that do not exist.

Checks: no 5xx; every status, content type, header and body conforms to the document; schema-invalid
input and a missing or ignored token are refused. Left out on purpose: `positive_data_acceptance`
(a schema-valid request may still be refused by a rule: the task is already completed, the cursor
was not issued by Baton) and the checks that need object-level ownership links the document does
not describe.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.support.localserver import Server, token

CHECKS = ",".join((
    "not_a_server_error", "status_code_conformance", "content_type_conformance", "response_headers_conformance",
    "response_schema_conformance", "negative_data_rejection", "missing_required_header", "ignored_auth",
))
ST = str(Path(sys.executable).parent / "st")
CONFIG = Path(__file__).with_name("schemathesis.toml")


def run(max_examples: int, seed: int | None = None, max_time: int | None = None, workers: int = 2,
        state: Path | None = None, serve: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    """Start a server (`baton serve` with the arguments `serve`), fuzz it, stop it; the completed
    `st run` (exit code 0 means no failure)."""
    state = state or Path(tempfile.mkdtemp(prefix="baton-fuzz-"))
    server = Server(state, *serve).start()
    try:
        admin = token(server.state, "root", "admin", ttl=3600)
        args = [ST, "--config-file", str(CONFIG), "run", f"{server.base}/openapi.json", "--checks", CHECKS,
                "--max-examples", str(max_examples),
                "--header", f"Authorization: Bearer {admin}", "--workers", str(workers),
                "--suppress-health-check", "too_slow,filter_too_much", "--request-timeout", "30"]
        if seed is not None:
            args += ["--seed", str(seed)]
        if max_time is not None:
            args += ["--max-time", str(max_time)]
        return subprocess.run(args, capture_output=True, text=True, cwd=state)
    finally:
        server.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=400)
    parser.add_argument("--seed", type=int)
    parser.add_argument("--max-time", type=int, help="seconds; fuzzing and stateful phases repeat until spent")
    args = parser.parse_args()
    result = run(args.max_examples, args.seed, args.max_time)
    print(result.stdout, result.stderr, sep="\n")
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
