"""Request plumbing shared by the functions: body checks before parsing, the request's caller and
headers, If-Match and ETag, and the sanitized summary of a validation error."""

from __future__ import annotations

import base64
import json
import re
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from pydantic import ConfigDict

from baton.domain import Caller
from baton.edge.auth import caller_from_claims, claims_of
from baton.errors import BadRequest, BatonError, PayloadTooLarge
from baton.settings import MAX_BODY_BYTES
from baton.text import DOT_SEGMENTS, all_text, is_text

JSON = "application/json"
VERSION = re.compile(r"[0-9]{1,18}")
# Request bodies: unknown fields refused, and no coercion (`0` is not `false`, `"1"` is not `1`).
if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.common import BaseProxyEvent

INPUT = ConfigDict(extra="forbid", strict=True, defer_build=True)

def validation_message(exc: RequestValidationError) -> str:
    """A sanitized summary: where and what, never the submitted values."""
    parts = []
    for e in exc.errors()[:5]:
        if e.get("type") == "json_invalid":
            return "Invalid request: malformed JSON body"
        loc = ".".join(str(p) for p in e.get("loc", ()) if p != "body") or "body"
        parts.append(f"{loc}: {e.get('msg', 'invalid')}")
    return "Invalid request: " + "; ".join(parts)


def current_caller(request: BaseProxyEvent) -> Caller:
    """The caller of the request being handled (a router's `current_event`), from the claims
    API Gateway's authorizer verified."""
    return caller_from_claims(claims_of(request.raw_event))


def etag(version: int) -> dict[str, str]:
    """The header every task response carries, in every dialect: the version, as If-Match takes it."""
    return {"ETag": f'"{version}"'}


def request_header(request: BaseProxyEvent, name: str) -> str | None:
    """A header of the request (API Gateway lower-cases them; the local server too)."""
    headers = {k.lower(): v for k, v in (request.raw_event.get("headers") or {}).items()}
    return headers.get(name.lower())


def if_match(request: BaseProxyEvent) -> int | None:
    raw = request_header(request, "if-match")
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
    if b"\\u" in raw and not all_text(parsed):  # only an escape can make a lone surrogate of UTF-8
        return BadRequest("Invalid request: the body holds text that is not valid Unicode", reason="invalidRequest")
    return None


def parameter_error(event: dict[str, Any]) -> BatonError | None:
    """Refuse path parameters and query values that are no text (a lone surrogate) and path ids
    that are path segments themselves (`.`, `..`: a URL built from them points elsewhere)."""
    path = event.get("pathParameters") or {}
    query = event.get("queryStringParameters") or {}
    for value in [*path.values(), *query.values()]:
        if isinstance(value, str) and not is_text(value):
            return BadRequest("Invalid request: a parameter is not valid Unicode text", reason="invalidRequest")
    if any(value in DOT_SEGMENTS for value in path.values()):
        return BadRequest("Invalid request: '.' and '..' are not ids", reason="invalidRequest")
    return None


def plain_id(value: str) -> str:
    """A pydantic validator for ids in bodies: valid text, and not `.` or `..`."""
    if value in DOT_SEGMENTS:
        raise ValueError("'.' and '..' are not ids")
    if not is_text(value):
        raise ValueError("not valid Unicode text")
    return value


