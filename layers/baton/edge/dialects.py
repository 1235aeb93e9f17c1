"""The dialect table: how each product family spells an error, and the response that carries it."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.event_handler import Response

from baton.edge.http import JSON
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


def object_schema(required: tuple[str, ...], **properties: Any) -> dict[str, Any]:
    return {"type": "object", "required": list(required), "properties": properties}


STRING, INTEGER = {"type": "string"}, {"type": "integer"}
ERROR_CLASSES = (BadRequest, Forbidden, NotFound, Conflict, PreconditionFailed, PayloadTooLarge, Unavailable, Internal)
UNAUTHORIZED_SCHEMA = object_schema(("message",), message=STRING)

NATIVE = Dialect("native", _native, object_schema(("message", "code"), message=STRING, code=STRING, holder=STRING))
ITENTIAL = Dialect("itential", _itential, object_schema(("message",), message=STRING, holder=STRING))
PROCESSMAKER = Dialect("processmaker", _processmaker, object_schema(
    ("error",), error=object_schema(("code", "message"), code=INTEGER, message=STRING)))
JOURNEY = Dialect("journey", _journey, object_schema(("errorKey",), errorKey=STRING, message=STRING))
CONDUCTORONE = Dialect("conductorone", _conductorone,
                       object_schema(("code", "message", "details"), code=INTEGER, message=STRING,
                                     details={"type": "array", "items": {"type": "object"}}))


def error_response(dialect: Dialect, err: BatonError) -> Response:
    if isinstance(err, Unauthorized):  # API Gateway's own answer, whatever the dialect
        why = str(err.details.get("description") or "the token was refused").replace('"', "'")
        return Response(401, JSON, json.dumps({"message": "Unauthorized"}), headers={
            "WWW-Authenticate": f'Bearer error="invalid_token", error_description="{why}"'})
    status, body = dialect.render(err)
    headers = {"Retry-After": str(err.retry_after)} if isinstance(err, Unavailable) else None
    return Response(status, JSON, json.dumps(body), headers=headers)

