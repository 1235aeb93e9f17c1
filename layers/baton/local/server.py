"""The local server: HTTP on 127.0.0.1 → API Gateway HTTP API v2 events → the real handlers.

It verifies bearer tokens as the JWT authorizer would, puts the claims where API Gateway
puts them, and serves requests concurrently (one thread each). With the moto fallback
every request is serialized by a lock, because moto is not thread-safe."""

from __future__ import annotations

import base64
import contextlib
import importlib
import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from baton.local.eventfeed import PATH as EVENTS_PATH
from baton.local.eventfeed import SSE_HEADERS, EventFeed
from baton.local.events import LambdaContext, http_event
from baton.local.tokens import InvalidToken, authorizer_claims, verify
from baton.routes import ROUTES, match

MAX_REQUEST_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit
Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


def load_handlers() -> dict[str, Handler]:
    families = dict.fromkeys(r.family for r in ROUTES)
    return {f: importlib.import_module(f"baton_functions.{f}").lambda_handler for f in families}


class BatonServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256

    def __init__(self, address: tuple[str, int], key: bytes, serialize: bool) -> None:
        super().__init__(address, RequestHandler)
        self.key = key
        self.feed: EventFeed | None = None  # set by `baton serve` (GET /local/events)
        self.handlers = load_handlers()
        self.lock: contextlib.AbstractContextManager[Any] = threading.Lock() if serialize \
            else contextlib.nullcontext()


class RequestHandler(BaseHTTPRequestHandler):
    server: BatonServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        return  # the functions log structured JSON themselves

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        hdrs = {"Content-Type": "application/json", **(headers or {})}
        for k, v in hdrs.items():
            if k.lower() not in ("content-length", "connection"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, payload: dict[str, Any]) -> None:
        self._send(status, json.dumps(payload).encode())

    def _dispatch(self) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_REQUEST_BYTES:
            self.close_connection = True
            return self._json(413, {"message": "Request Entity Too Large"})
        raw = self.rfile.read(length) if length else b""
        if url.path == EVENTS_PATH and self.command == "GET" and self.server.feed is not None:
            return self._events(self.server.feed)
        route, _ = match(self.command, url.path)
        if route is None:
            return self._json(404, {"message": "Not Found"})
        claims = None
        if route.auth:
            auth = self.headers.get("Authorization") or ""
            scheme, _, token = auth.partition(" ")
            try:
                if scheme.lower() != "bearer" or not token:
                    raise InvalidToken("missing")
                claims = authorizer_claims(verify(self.server.key, token.strip()))
            except InvalidToken:
                return self._json(401, {"message": "Unauthorized"})
        try:
            body: str | None = raw.decode("utf-8") if raw else None
            b64 = False
        except UnicodeDecodeError:
            body, b64 = base64.b64encode(raw).decode(), True
        headers = {k.lower(): v for k, v in self.headers.items() if k.lower() != "authorization"}
        event = http_event(self.command, url.path, route=route, body=body,
                           query=dict(parse_qsl(url.query, keep_blank_values=True)) or None,
                           headers=headers, claims=claims)
        event["isBase64Encoded"] = b64
        with self.server.lock:
            result = self.server.handlers[route.family](event, LambdaContext())
        out = result.get("body") or ""
        data = base64.b64decode(out) if result.get("isBase64Encoded") else out.encode()
        hdrs = {k: ",".join(v) for k, v in (result.get("multiValueHeaders") or {}).items()}
        hdrs.update(result.get("headers") or {})
        self._send(int(result.get("statusCode", 200)), data, hdrs)

    def _events(self, feed: EventFeed) -> None:
        """Server-Sent Events of the caller's tenant (baton.local.eventfeed), until the client goes."""
        try:
            scheme, _, token = (self.headers.get("Authorization") or "").partition(" ")
            tenant = str(verify(self.server.key, token.strip())["custom:tenant"]) if scheme.lower() == "bearer" else ""
        except (InvalidToken, KeyError):
            tenant = ""
        if not tenant:
            return self._json(401, {"message": "Unauthorized"})
        self.close_connection = True  # the body ends when the connection does
        self.send_response(200)
        for k, v in {**SSE_HEADERS, "Connection": "close"}.items():
            self.send_header(k, v)
        self.end_headers()
        with contextlib.suppress(OSError):
            for chunk in feed.stream(tenant, self.headers.get("Last-Event-ID")):
                self.wfile.write(chunk)
                self.wfile.flush()

    def __getattr__(self, name: str) -> Any:
        # Every method (GET or QUERY alike) reaches the route table; like API Gateway, an unrouted
        # one is a 404.
        if name.startswith("do_"):
            return self._dispatch
        raise AttributeError(name)


@contextlib.contextmanager
def running(host: str, port: int, key: bytes, serialize: bool) -> Iterator[BatonServer]:
    server = BatonServer((host, port), key, serialize)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
