"""The local server: HTTP on 127.0.0.1 → API Gateway HTTP API v2 events → the real handlers.

HTTP itself is werkzeug's (its threaded WSGI server and Request/Response; see
docs/decisions.md for why werkzeug). What is Baton's here is what API Gateway does in front
of the functions: it reads the body (400 for a bad `Content-Length`, 408 when a body stops
short, 413 over 10 MB; chunked bodies are de-chunked), verifies bearer tokens as the JWT
authorizer does (401 with `WWW-Authenticate` saying why, the reason logged at INFO), builds
the v2 event (path parameters percent-decoded, repeated query parameters joined with
commas, headers lower-cased) and answers with the function's result. Idle connections
close after `idle_timeout` seconds. With the moto fallback every request is serialized by a
lock, because moto is not thread-safe.

Local-only endpoints (not in the route table, never deployed) are registered in ONE place,
`LOCAL_ROUTES` below: a werkzeug `Rule` whose endpoint takes the `LocalApi` and the
`Request` and returns a `Response` (a generator body streams, chunk by chunk)."""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import re
import threading
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qsl

from joserfc.jwk import RSAKey
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from baton.routes import FAMILIES, match
from baton.signin.errors import SIGNIN
from baton.signin.grants import TooManySignIns
from baton_local import demo_signin, tokens
from baton_local.eventfeed import EventFeed, events_endpoint
from baton_local.events import LambdaContext, http_event
from baton_local.signin_guard import Busy, SignInGuard, credential_of

MAX_REQUEST_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit
IDLE_TIMEOUT = 30.0  # seconds a connection may stay silent (before or inside a request)
Handler = Callable[[dict[str, Any], Any], dict[str, Any]]
LocalEndpoint = Callable[["LocalApi", Request], Response]
log = logging.getLogger("baton.local.server")  # a child of the functions' logger: same JSON lines
_DIGITS = re.compile(r"[0-9]{1,15}")


def load_handlers() -> dict[str, Handler]:
    """Each family's Lambda handler, by the route table's family name."""
    from baton_functions import conductorone, directory, docs, itential, journey, processmaker, signin, tasks

    modules = (conductorone, directory, docs, itential, journey, processmaker, signin, tasks)
    found = {module.__name__.rpartition(".")[2]: module.lambda_handler for module in modules}
    return {family: found[family] for family in FAMILIES}


# On every answer of the server's own, as the functions put them on theirs (baton.edge.entry).
ANSWER_HEADERS = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}


def json_response(status: int, payload: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(payload), status, headers={**ANSWER_HEADERS, **(headers or {})},
                    content_type="application/json")


def unauthorized(reason: str | None) -> Response:
    """API Gateway's 401: the body never says why; `WWW-Authenticate` does (RFC 6750)."""
    challenge = "Bearer" if reason is None else \
        f'Bearer error="invalid_token", error_description="{reason.replace(chr(34), chr(39))}"'
    return json_response(401, {"message": "Unauthorized"}, {"WWW-Authenticate": challenge})


# ---- local-only endpoints: add them here ------------------------------------------------------

def jwks_document(api: LocalApi, request: Request) -> Response:
    """The local issuer's public keys, where Cognito publishes a pool's."""
    return json_response(200, tokens.jwks(api.key))


LOCAL_ROUTES = Map([
    Rule("/.well-known/jwks.json", methods=["GET"], endpoint=jwks_document),
    # the inbox's demo sign-in (local/demo_signin.py)
    Rule(demo_signin.USERS_PATH, methods=["GET"], endpoint=demo_signin.users_endpoint),
    Rule(demo_signin.TOKEN_PATH, methods=["POST"], endpoint=demo_signin.token_endpoint),
    Rule("/local/events", methods=["GET"], endpoint=events_endpoint),  # task events as SSE (docs/events.md)
], strict_slashes=False, merge_slashes=False)


class FunctionCrashed(RuntimeError):
    """The process running a function died before it answered (baton_local.workers raises it)."""


class RequestRefused(Exception):
    """Refused before any function runs (framing, size): the status and API Gateway's message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class LocalApi:
    """The WSGI application: API Gateway in front of the real handlers."""

    def __init__(self, key: RSAKey, serialize: bool = False, handlers: dict[str, Handler] | None = None,
                 signin_slots: int = 2) -> None:
        self.key = key
        self.guard = SignInGuard(signin_slots)  # sign-in throttling and its bounded hashing slots
        self.handlers = handlers if handlers is not None else load_handlers()
        self.lock: contextlib.AbstractContextManager[Any] = threading.Lock() if serialize \
            else contextlib.nullcontext()
        self.feed: EventFeed | None = None  # set by `baton serve`

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        try:
            response = self.respond(Request(environ))
        except Exception:  # a fault of the server's own (a function's faults are its answers)
            log.exception("request failed")
            response = json_response(500, {"message": "Internal Server Error"})
        return response(environ, start_response)

    def respond(self, request: Request) -> Response:
        try:
            raw = read_body(request)
        except RequestRefused as refused:
            # The rest of the body was not read: this connection can carry nothing more.
            return json_response(refused.status, {"message": refused.message}, {"Connection": "close"})
        route, _ = match(request.method, request.path)
        if route is None:
            request.environ["baton.body"] = raw  # the body, already read, for local endpoints
            return self.local(request)
        claims = None
        if route.auth:
            try:
                claims = self.authorize(request)
            except tokens.InvalidToken as err:
                reason = str(err) or None
                log.info("token refused", extra={"reason": reason or "no bearer token", "path": request.path,
                                                 "method": request.method})
                return unauthorized(reason)
        return self.invoke(route, request, raw, claims)

    def authorize(self, request: Request) -> dict[str, Any]:
        """The claims of the request's bearer token, as the authorizer forwards them; InvalidToken
        otherwise (an empty message: there was no token at all). Local endpoints may use it too."""
        scheme, _, token = (request.headers.get("Authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise tokens.InvalidToken("")
        return tokens.authorizer_claims(tokens.verify(self.key, token.strip()))

    def local(self, request: Request) -> Response:
        adapter = LOCAL_ROUTES.bind_to_environ(request.environ)
        try:
            endpoint, args = adapter.match()
        except HTTPException:  # like API Gateway: an unrouted method or path is a 404
            return json_response(404, {"message": "Not Found"})
        result: Response = endpoint(self, request, **args)
        return result

    def invoke(self, route: Any, request: Request, raw: bytes, claims: dict[str, Any] | None) -> Response:
        try:
            body: str | None = raw.decode("utf-8") if raw else None
            b64 = False
        except UnicodeDecodeError:
            body, b64 = base64.b64encode(raw).decode(), True
        query: dict[str, str] = {}
        raw_query = request.environ.get("QUERY_STRING", "")
        for name, value in parse_qsl(raw_query, keep_blank_values=True):
            query[name] = f"{query[name]},{value}" if name in query else value  # as API Gateway joins them
        headers: dict[str, str] = {}
        for name, value in request.headers.items():
            # A bearer token stays with the authorizer; a public route gets the header as sent
            # (as API Gateway forwards it): HTTP Basic client credentials on /oauth/token.
            if name.lower() != "authorization" or not route.auth:
                low = name.lower()
                headers[low] = f"{headers[low]},{value}" if low in headers else value
        event = http_event(request.method, request.path, route=route, body=body, query=query or None,
                           raw_query=raw_query, headers=headers, claims=claims)
        event["isBase64Encoded"] = b64
        try:
            if route.family == "signin":
                result = self.sign_in(route, request, raw, headers, event)
            else:
                with self.lock:
                    result = self.handlers[route.family](event, LambdaContext())
        except FunctionCrashed:  # as API Gateway answers a function that crashed; the worker is replaced
            log.error("the worker handling the request died", extra={"path": request.path})
            return json_response(500, {"message": "Internal Server Error"})
        out = result.get("body") or ""
        data = base64.b64decode(out) if result.get("isBase64Encoded") else out.encode()
        response = Response(data, int(result.get("statusCode", 200)), content_type="application/json")
        for name, values in (result.get("multiValueHeaders") or {}).items():
            response.headers[name] = ",".join(values)
        for name, value in (result.get("headers") or {}).items():
            response.headers[name] = value
        for cookie in result.get("cookies") or ():
            response.headers.add("Set-Cookie", cookie)
        return response


    def sign_in(self, route: Any, request: Request, raw: bytes, headers: dict[str, str],
                event: dict[str, Any]) -> dict[str, Any]:
        """A sign-in, throttled per credential and per source (429 with Retry-After, no hashing),
        in one of the bounded sign-in slots (local/signin_guard.py)."""
        keys = self.guard.keys(credential_of(route.name, raw, headers), request.remote_addr)
        wait = self.guard.retry_after(keys)
        if wait is None:
            try:
                with self.guard.slot(), self.lock:
                    result = self.handlers[route.family](event, LambdaContext())
            except Busy:
                wait = 1
            else:
                status = int(result.get("statusCode", 200))
                if status in (200, 401):
                    self.guard.record(keys, succeeded=status == 200)
                return result
        status, body = SIGNIN.render(TooManySignIns(f"Too many failed sign-ins; retry after {wait} seconds"))
        log.info("sign-in throttled", extra={"path": request.path, "retry_after": wait})
        return {"statusCode": status, "body": json.dumps(body),
                "headers": {"Content-Type": "application/json", "Retry-After": str(wait), **ANSWER_HEADERS}}


def read_body(request: Request) -> bytes:
    """The request body as API Gateway reads it; RequestRefused for bad framing."""
    environ = request.environ
    declared = environ.get("CONTENT_LENGTH")
    chunked = "chunked" in (environ.get("HTTP_TRANSFER_ENCODING") or "").lower()
    if environ.get("baton.content_lengths", 0) > 1:  # which one frames the body? (RFC 9112, 6.3)
        raise RequestRefused(400, "Bad Request")
    if declared not in (None, ""):
        if chunked or not _DIGITS.fullmatch(declared):
            raise RequestRefused(400, "Bad Request")
        length: int | None = int(declared)
    else:
        length = None if chunked else 0
    if length is not None and length > MAX_REQUEST_BYTES:
        raise RequestRefused(413, "Request Entity Too Large")
    stream = environ["wsgi.input"]
    chunks: list[bytes] = []
    size = 0
    try:
        while length is None or size < length:
            want = 65536 if length is None else min(65536, length - size)
            chunk = stream.read(want)
            if not chunk:
                if length is None:
                    break
                raise RequestRefused(400, "Bad Request")  # the client closed before the body ended
            chunks.append(chunk)
            size += len(chunk)
            if size > MAX_REQUEST_BYTES:
                raise RequestRefused(413, "Request Entity Too Large")
    except TimeoutError:
        raise RequestRefused(408, "Request Timeout") from None
    except OSError:  # a broken chunked encoding
        raise RequestRefused(400, "Bad Request") from None
    return b"".join(chunks)


class QuietHandler(WSGIRequestHandler):
    """werkzeug's request handler without its access log (the functions log for themselves) and
    without announcing its versions in `Server`."""

    server_version = "baton-local"  # type: ignore[assignment]
    sys_version = ""

    def make_environ(self) -> dict[str, Any]:
        environ: dict[str, Any] = super().make_environ()
        # werkzeug keeps the last of repeated Content-Length headers: count them (read_body refuses two)
        environ["baton.content_lengths"] = len(self.headers.get_all("Content-Length") or [])
        return environ

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return

    def log_error(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        return


def make(host: str, port: int, api: LocalApi, idle_timeout: float = IDLE_TIMEOUT) -> BaseWSGIServer:
    """A threaded werkzeug server for the app; its sockets time out after `idle_timeout`."""
    handler = type("BatonRequestHandler", (QuietHandler,), {"timeout": idle_timeout})
    return make_server(host, port, api, threaded=True, request_handler=handler)


@contextlib.contextmanager
def running(host: str, port: int, key: RSAKey, serialize: bool, idle_timeout: float = IDLE_TIMEOUT,
            handlers: dict[str, Handler] | None = None, signin_slots: int = 2) -> Iterator[BaseWSGIServer]:
    server = make(host, port, LocalApi(key, serialize, handlers, signin_slots), idle_timeout)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
