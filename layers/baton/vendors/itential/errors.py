"""Itential's error body: the message, and the holder of a task someone else holds."""

from __future__ import annotations

from typing import Any

from baton.edge.dialects import STRING, Dialect, object_schema
from baton.errors import BatonError


def _render(err: BatonError) -> tuple[int, dict[str, Any]]:
    body: dict[str, Any] = {"message": err.message}
    if "holder" in err.details:
        body["holder"] = err.details["holder"]
    return err.status, body


ITENTIAL = Dialect("itential", _render, object_schema(("message",), message=STRING, holder=STRING))
