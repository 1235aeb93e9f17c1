"""A Step Functions endpoint that records calls, at botocore's HTTP layer: a real botocore
client whose requests are answered by a before-send hook, so the SDK's own serialisation, error
parsing and retries all run. `fail_next(code)` makes the next call fail with that error code."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import botocore.session
from botocore.awsrequest import AWSResponse, HTTPHeaders
from botocore.config import Config


def _headers() -> HTTPHeaders:
    headers = HTTPHeaders()
    headers["Content-Type"] = "application/x-amz-json-1.0"
    return headers


class _Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Any:
        yield self.body


@dataclass
class RecordingStates:
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    faults: list[str] = field(default_factory=list)
    client: Any = None

    def __post_init__(self) -> None:
        session = botocore.session.get_session()
        self.client = session.create_client(
            "stepfunctions", region_name="us-east-1", endpoint_url="http://states.invalid",
            aws_access_key_id="x", aws_secret_access_key="x",
            config=Config(retries={"total_max_attempts": 1, "mode": "standard"}))
        self.client.meta.events.register_first("before-send.sfn", self._answer)

    def fail_next(self, code: str) -> None:
        self.faults.append(code)

    def _answer(self, request: Any, **_: Any) -> AWSResponse:
        operation = request.headers["X-Amz-Target"].decode().split(".")[-1]
        body = json.loads(request.body or b"{}")
        if self.faults:
            code = self.faults.pop(0)
            status = 500 if code == "ServiceUnavailable" else 400
            payload = json.dumps({"__type": code, "message": code}).encode()
            return AWSResponse(request.url, status, _headers(), _Raw(payload))
        self.calls.append((operation, body))
        return AWSResponse(request.url, 200, _headers(), _Raw(b"{}"))

    def operations(self) -> list[str]:
        return [op for op, _ in self.calls]


class StatesEndpoint:
    """The same, as a real HTTP endpoint on a free port (for `baton serve --states-endpoint`): it
    records each call (operation, JSON body) and answers `{}`, or the next queued fault."""

    def __init__(self) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.faults: list[str] = []
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                operation = (self.headers.get("X-Amz-Target") or "").split(".")[-1]
                if endpoint.faults:
                    code = endpoint.faults.pop(0)
                    self._answer(500 if code == "ServiceUnavailable" else 400, {"__type": code, "message": code})
                    return
                endpoint.calls.append((operation, body))
                self._answer(200, {})

            def _answer(self, status: int, payload: dict[str, Any]) -> None:
                raw = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/x-amz-json-1.0")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def wait_for(self, count: int, timeout: float = 60) -> list[tuple[str, dict[str, Any]]]:
        """The calls, once there are `count` of them (the server delivers them from its stream)."""
        import time

        deadline = time.monotonic() + timeout
        while len(self.calls) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return list(self.calls)
