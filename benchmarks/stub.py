"""DynamoDB answered at the HTTP layer: responses recorded from a real run, replayed by operation.

`Recorder` hooks a client's `after-call` event and keeps each operation's response as DynamoDB
sends it (JSON); `install_replay` hooks `before-send`, so botocore still builds, signs and
serializes every request and parses every answer, and only the network is skipped."""

from __future__ import annotations

import json
from collections import defaultdict
from itertools import cycle
from typing import Any

Cassette = dict[str, list[str]]  # operation name -> response bodies, in call order


class Recorder:
    """Each operation's responses (`cassette`) and every request's operation and parameters in call
    order (`requests`: what a bare baseline replays to make the very same calls)."""

    def __init__(self, client: Any) -> None:
        self.cassette: Cassette = defaultdict(list)
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.client = client
        client.meta.events.register("after-call.dynamodb", self._record)
        client.meta.events.register("provide-client-params.dynamodb", self._request)

    def close(self) -> None:
        """Stop recording: a recorder left on the client copies every later call's parameters and
        answer through JSON (some 10 ms of CPU for a bulk request of 100 tasks)."""
        self.client.meta.events.unregister("after-call.dynamodb", self._record)
        self.client.meta.events.unregister("provide-client-params.dynamodb", self._request)

    def clear(self) -> None:
        self.cassette.clear()
        self.requests.clear()

    def _request(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        self.requests.append((model.name, json.loads(json.dumps(params))))

    def _record(self, http_response: Any, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        body = {k: v for k, v in parsed.items() if k != "ResponseMetadata"}
        self.cassette[model.name].append(json.dumps(body))


class _Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Any:
        yield self.body


def install_replay(client: Any, cassette: Cassette) -> None:
    """Answer every call of `client` from the cassette (each operation's answers in a loop)."""
    from botocore.awsrequest import AWSResponse

    answers = {op: cycle([b.encode() for b in bodies]) for op, bodies in cassette.items()}

    def send(request: Any, **_: Any) -> AWSResponse:
        target = request.headers["X-Amz-Target"]
        op = (target.decode() if isinstance(target, bytes) else target).rsplit(".", 1)[-1]
        body = next(answers[op])
        headers = {"Content-Type": "application/x-amz-json-1.0", "Content-Length": str(len(body)),
                   "x-amzn-RequestId": "stub"}
        return AWSResponse(request.url, 200, headers, _Raw(body))  # type: ignore[arg-type]

    client.meta.events.register("before-send.dynamodb", send)
