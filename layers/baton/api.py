"""What every function shares: the resolver factory, the dialects' error shapes, the caller,
If-Match, and the Lambda entry point (body-size guard, logging context)."""

from __future__ import annotations

import base64
import json
import logging
import re
import threading
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestValidationError,
    ResponseValidationError,
)
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter as Router
from pydantic import ConfigDict

from baton import coldstart
from baton.auth import caller_from_claims, claims_of
from baton.domain import Caller
from baton.errors import (
    BadRequest,
    BatonError,
    Conflict,
    Forbidden,
    Internal,
    NotFound,
    PayloadTooLarge,
    PreconditionFailed,
    Unauthorized,
    Unavailable,
)
from baton.observability import logger, request_logging, traced
from baton.platform.dynamo import Dynamo, get_dynamo
from baton.settings import MAX_BODY_BYTES

JSON = "application/json"
VERSION = re.compile(r"[0-9]{1,18}")
# Request bodies: unknown fields refused, and no coercion (`0` is not `false`, `"1"` is not `1`).
INPUT = ConfigDict(extra="forbid", strict=True, defer_build=True)
GRPC_CODES = {400: 3, 401: 16, 403: 7, 404: 5, 409: 10, 412: 9, 413: 3, 503: 14, 500: 13}


@dataclass(frozen=True)
class Dialect:
    """How one product family spells an error."""

    name: str
    render: Callable[[BatonError], tuple[int, dict[str, Any]]]
    schema: dict[str, Any]  # JSON schema of the error body, for the OpenAPI document
    errors: tuple[type[BatonError], ...] = ()  # its own errors besides the shared ones

    def statuses(self) -> set[int]:
        """Every status this dialect can answer with for a domain error."""
        classes: tuple[type[BatonError], ...] = (*ERROR_CLASSES, *self.errors)
        return {self.render(cls("sample"))[0] for cls in classes}


def _native(err: BatonError) -> tuple[int, dict[str, Any]]:
    body: dict[str, Any] = {"message": err.message, "code": err.reason}
    if "holder" in err.details:
        body["holder"] = err.details["holder"]
    return err.status, body


def _itential(err: BatonError) -> tuple[int, dict[str, Any]]:
    body: dict[str, Any] = {"message": err.message}
    if "holder" in err.details:
        body["holder"] = err.details["holder"]
    return err.status, body


def _processmaker(err: BatonError) -> tuple[int, dict[str, Any]]:
    status = 400 if err.status == 413 else err.status
    prefix = {400: "Bad Request", 403: "Forbidden", 404: "Not Found", 409: "Conflict",
              412: "Precondition Failed", 503: "Service Unavailable"}.get(status, "Error")
    return status, {"error": {"code": status, "message": f"{prefix}: {err.message}"}}


def _journey(err: BatonError) -> tuple[int, dict[str, Any]]:
    # Journey Manager answers every refusal with 400 and an errorKey; 412/500/503 keep theirs.
    if err.status == 500:
        return 500, {"errorKey": "internalServerError"}
    status = err.status if err.status in (412, 503) else 400
    key = "accessDenied" if err.status == 403 else err.reason
    return status, {"errorKey": key, "message": err.message}


def _conductorone(err: BatonError) -> tuple[int, dict[str, Any]]:
    failed_precondition = err.reason in ("preconditionFailed", "txnAlreadyFinished")
    code = 9 if failed_precondition else GRPC_CODES.get(err.status, 13)
    return err.status, {"code": code, "message": err.message, "details": []}


def _object(required: tuple[str, ...], **properties: Any) -> dict[str, Any]:
    return {"type": "object", "required": list(required), "properties": properties}


STRING, INTEGER = {"type": "string"}, {"type": "integer"}
ERROR_CLASSES = (BadRequest, Forbidden, NotFound, Conflict, PreconditionFailed, PayloadTooLarge, Unavailable, Internal)
UNAUTHORIZED_SCHEMA = _object(("message",), message=STRING)

NATIVE = Dialect("native", _native, _object(("message", "code"), message=STRING, code=STRING, holder=STRING))
ITENTIAL = Dialect("itential", _itential, _object(("message",), message=STRING, holder=STRING))
PROCESSMAKER = Dialect("processmaker", _processmaker,
                       _object(("error",), error=_object(("code", "message"), code=INTEGER, message=STRING)))
JOURNEY = Dialect("journey", _journey, _object(("errorKey",), errorKey=STRING, message=STRING))
CONDUCTORONE = Dialect("conductorone", _conductorone,
                       _object(("code", "message", "details"), code=INTEGER, message=STRING,
                               details={"type": "array", "items": {"type": "object"}}))


def error_response(dialect: Dialect, err: BatonError) -> Response:
    if isinstance(err, Unauthorized):  # API Gateway's own answer, whatever the dialect
        why = str(err.details.get("description") or "the token was refused").replace('"', "'")
        return Response(401, JSON, json.dumps({"message": "Unauthorized"}), headers={
            "WWW-Authenticate": f'Bearer error="invalid_token", error_description="{why}"'})
    status, body = dialect.render(err)
    headers = {"Retry-After": str(err.retry_after)} if isinstance(err, Unavailable) else None
    return Response(status, JSON, json.dumps(body), headers=headers)


def validation_message(exc: RequestValidationError) -> str:
    """A sanitized summary: where and what, never the submitted values."""
    parts = []
    for e in exc.errors()[:5]:
        if e.get("type") == "json_invalid":
            return "Invalid request: malformed JSON body"
        loc = ".".join(str(p) for p in e.get("loc", ()) if p != "body") or "body"
        parts.append(f"{loc}: {e.get('msg', 'invalid')}")
    return "Invalid request: " + "; ".join(parts)


_proxy: ContextVar[Any] = ContextVar("baton_proxy_event")
_context: ContextVar[Any] = ContextVar("baton_lambda_context")


class Resolver(APIGatewayHttpResolver):
    """Powertools keeps the current request on a class attribute (`BaseRouter.current_event`),
    shared by every resolver of the process. In Lambda that is one request at a time; the local
    server and the race tests run many at once, so here the request lives in a context
    variable (one per thread) instead."""

    @property  # type: ignore[override]
    def current_event(self) -> Any:
        return _proxy.get()

    @current_event.setter
    def current_event(self, value: Any) -> None:
        _proxy.set(value)

    @staticmethod
    def _compile_regex(rule: str, base_regex: str = "^{}$") -> re.Pattern[str]:
        """A path parameter is anything but '/': API Gateway hands it over percent-decoded, so
        quotes, backslashes, backticks and control characters arrive as themselves (Powertools'
        own pattern leaves them unrouted, and an unrouted request would fall to the fault
        handler). The route table's patterns (`Route.pattern`) say the same."""
        return re.compile(base_regex.replace("$", r"\Z").format(re.sub(r"(<\w+>)", r"(?P\1[^/]+)", rule)))

    @property  # type: ignore[override]
    def lambda_context(self) -> Any:
        return _context.get(None)

    @lambda_context.setter
    def lambda_context(self, value: Any) -> None:
        _context.set(value)


def make_resolver(dialect: Dialect, *routers: Router) -> APIGatewayHttpResolver:
    app = Resolver(enable_validation=True)
    for router in routers:
        app.include_router(router)

    @app.exception_handler(BatonError)
    def _domain(err: BatonError) -> Response:
        return error_response(dialect, err)

    @app.exception_handler(RequestValidationError)
    def _invalid(exc: RequestValidationError) -> Response:
        return error_response(dialect, BadRequest(validation_message(exc), reason="invalidRequest"))

    @app.exception_handler(NotFoundError)
    def _unrouted(exc: NotFoundError) -> Response:
        return error_response(dialect, NotFound("Not Found", reason="notFound"))

    @app.exception_handler(Exception)
    def _unexpected(exc: Exception) -> Response:
        # Last resort: a fault of ours. Each change is one transaction, so nothing was half-written.
        logger.exception("unexpected fault")
        return error_response(dialect, Internal("Internal server error"))

    @app.exception_handler(ResponseValidationError)
    def _broken(exc: ResponseValidationError) -> Response:
        logger.error("response failed its schema", extra={"errors": str(exc.errors())[:2000]})
        return error_response(dialect, Internal("Internal server error"))

    return app


# The event being handled. Routes read the caller and headers from here, never from a
# resolver's or router's `current_event`: those are shared objects, and the local server runs
# many requests at once (in Lambda there is one per process, so this costs nothing there).
_event: ContextVar[dict[str, Any]] = ContextVar("baton_event")


def request_event() -> dict[str, Any]:
    """The API Gateway event being handled (for the few routes that read the raw body)."""
    return _event.get()


def current_caller() -> Caller:
    return caller_from_claims(claims_of(_event.get()))


def store() -> Dynamo:
    return get_dynamo()


def etag(version: int) -> dict[str, str]:
    """The header every task response carries, in every dialect: the version, as If-Match takes it."""
    return {"ETag": f'"{version}"'}


def request_header(name: str) -> str | None:
    """A header of the request being handled (API Gateway lower-cases them; the local server too)."""
    headers = {k.lower(): v for k, v in (_event.get().get("headers") or {}).items()}
    return headers.get(name.lower())


def if_match() -> int | None:
    raw = request_header("if-match")
    if raw is None:
        return None
    text = raw.strip().removeprefix("W/").strip('"')
    if not VERSION.fullmatch(text):  # ASCII digits only (`str.isdigit` takes '²' and '٣' too)
        raise BadRequest("If-Match must be a task version", reason="invalidRequest")
    return int(text)


def body_error(event: dict[str, Any], json_only: bool = True) -> BatonError | None:
    """Refuse, before any parsing, a body that is too large or is not UTF-8 text (JSON is text).
    A base64-encoded body that decodes to UTF-8 is handed on as plain text."""
    body = event.get("body") or ""
    raw = body.encode()
    if event.get("isBase64Encoded"):
        try:
            raw = base64.b64decode(raw, validate=True)
        except ValueError:
            return BadRequest("Invalid request: malformed body encoding", reason="invalidRequest")
    if len(raw) > MAX_BODY_BYTES:
        return PayloadTooLarge(f"Request body over {MAX_BODY_BYTES} bytes", reason="invalidRequest")
    if event.get("isBase64Encoded"):
        try:
            event["body"], event["isBase64Encoded"] = raw.decode(), False
        except UnicodeDecodeError:
            return BadRequest("Invalid request: the body is not UTF-8 JSON", reason="invalidRequest")
    if not raw.strip():
        return None
    # Parsed here first, so that no JSON can get past as a fault: Powertools lets the parser's
    # RecursionError (deep nesting) and ValueError (integers over 4,300 digits) through.
    if not json_only:  # the sign-in routes parse their own bodies (OAuth forms or JSON)
        return None
    try:
        parsed = json.loads(raw)
    except (ValueError, RecursionError):
        return BadRequest("Invalid request: malformed JSON body", reason="invalidRequest")
    if not isinstance(parsed, dict):
        # Every Baton body is an object (or nothing): `null` is not "no body", and Powertools
        # would validate an array by its first item.
        return BadRequest("Invalid request: body: Input should be an object", reason="invalidRequest")
    return None


def lambda_entry(dialect: Dialect, *routers: Router, json_only: bool = True
                 ) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """The Lambda handler of one family: refuse oversized bodies before parsing, then resolve.

    A Powertools resolver keeps the request on itself, so each thread gets its own resolver
    (one in Lambda; one per server thread locally)."""
    local = threading.local()

    def resolver() -> APIGatewayHttpResolver:
        app: APIGatewayHttpResolver | None = getattr(local, "app", None)
        if app is None:
            app = local.app = make_resolver(dialect, *routers)
        return app

    def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
        refused = body_error(event, json_only)
        if refused is not None:
            status, body = dialect.render(refused)
            return {"statusCode": status, "headers": {"Content-Type": JSON}, "body": json.dumps(body),
                    "isBase64Encoded": False}
        if json_only:
            # Baton speaks JSON only: a body is parsed as JSON whatever Content-Type claims (and a
            # request without one is not refused for a Content-Type Powertools does not parse).
            # The sign-in routes read OAuth's forms too, so they keep the Content-Type they got.
            event["headers"] = {**(event.get("headers") or {}), "content-type": JSON}
        app = resolver()
        tokens = (_event.set(event), _proxy.set(app._to_proxy_event(event)), _context.set(context))
        try:
            result = app.resolve(event, context)
            status = result.get("statusCode", 500)
            # Every request is in API Gateway's access log (route, status, latency, request id);
            # here refusals and faults are logged, successes only at DEBUG (a log line costs
            # about a tenth of a warm request).
            level = logging.INFO if status >= 400 else logging.DEBUG
            if logger.log_level <= level:
                claims = claims_of(event)
                (logger.info if level == logging.INFO else logger.debug)("request handled", extra={
                    "route": event.get("routeKey"), "status": status,
                    "tenant": claims.get("custom:tenant"), "user": claims.get("sub")})
            return result
        finally:
            for var, token in zip((_event, _proxy, _context), tokens, strict=True):
                var.reset(token)  # type: ignore[attr-defined]

    @request_logging
    @traced
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        try:
            return handle(event, context)
        finally:
            coldstart.resume()  # after the first answer, whatever it was

    handler.dialect = dialect  # type: ignore[attr-defined]  # read by the OpenAPI document
    return handler
