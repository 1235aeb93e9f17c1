"""ConductorOne's error body: a gRPC status (`code`, `message`, `details`) over the HTTP status."""

from __future__ import annotations

from typing import Any

from baton.edge.dialects import INTEGER, STRING, Dialect, object_schema
from baton.errors import BatonError

GRPC_CODES = {400: 3, 401: 16, 403: 7, 404: 5, 409: 10, 412: 9, 413: 3, 503: 14, 500: 13}


def _render(err: BatonError) -> tuple[int, dict[str, Any]]:
    failed_precondition = err.reason in ("preconditionFailed", "txnAlreadyFinished")
    code = 9 if failed_precondition else GRPC_CODES.get(err.status, 13)
    return err.status, {"code": code, "message": err.message, "details": []}


CONDUCTORONE = Dialect("conductorone", _render,
                       object_schema(("code", "message", "details"), code=INTEGER, message=STRING,
                                     details={"type": "array", "items": {"type": "object"}}))
