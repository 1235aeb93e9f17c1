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
