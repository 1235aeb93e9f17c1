"""Dialects: how a product family spells an error (`Dialect`), Baton's own (`NATIVE`), and the
response that carries one. Each vendor's dialect is in its package (`baton.vendors.<vendor>.errors`)."""

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


def object_schema(required: tuple[str, ...], **properties: Any) -> dict[str, Any]:
    return {"type": "object", "required": list(required), "properties": properties}


STRING, INTEGER = {"type": "string"}, {"type": "integer"}
ERROR_CLASSES = (BadRequest, Forbidden, NotFound, Conflict, PreconditionFailed, PayloadTooLarge, Unavailable, Internal)
UNAUTHORIZED_SCHEMA = object_schema(("message",), message=STRING)

NATIVE = Dialect("native", _native, object_schema(("message", "code"), message=STRING, code=STRING, holder=STRING))


def error_response(dialect: Dialect, err: BatonError) -> Response:
    if isinstance(err, Unauthorized):  # API Gateway's own answer, whatever the dialect
        why = str(err.details.get("description") or "the token was refused").replace('"', "'")
        return Response(401, JSON, json.dumps({"message": "Unauthorized"}), headers={
            "WWW-Authenticate": f'Bearer error="invalid_token", error_description="{why}"'})
    status, body = dialect.render(err)
    retry = err.details.get("retry_after", getattr(err, "retry_after", None))  # Unavailable, TooManySignIns
    headers = {"Retry-After": str(retry)} if retry is not None else None
    return Response(status, JSON, json.dumps(body), headers=headers)

