"""ProcessMaker's error body: `{"error": {"code", "message"}}`, the message prefixed with the
status's reason phrase; an oversized body is its 400."""

from __future__ import annotations

from typing import Any

from baton.edge.dialects import INTEGER, STRING, Dialect, object_schema
from baton.errors import BatonError

PREFIXES = {400: "Bad Request", 403: "Forbidden", 404: "Not Found", 409: "Conflict", 412: "Precondition Failed",
            503: "Service Unavailable"}


def _render(err: BatonError) -> tuple[int, dict[str, Any]]:
    status = 400 if err.status == 413 else err.status
    prefix = PREFIXES.get(status, "Error")
    return status, {"error": {"code": status, "message": f"{prefix}: {err.message}"}}


PROCESSMAKER = Dialect("processmaker", _render, object_schema(
    ("error",), error=object_schema(("code", "message"), code=INTEGER, message=STRING)))
