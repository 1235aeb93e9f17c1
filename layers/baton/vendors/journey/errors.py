"""Journey Manager's error body: every refusal a 400 with an `errorKey` (403 is `accessDenied`);
412, 500 and 503 keep their status."""

from __future__ import annotations

from typing import Any

from baton.edge.dialects import STRING, Dialect, object_schema
from baton.errors import BatonError


def _render(err: BatonError) -> tuple[int, dict[str, Any]]:
    if err.status == 500:
        return 500, {"errorKey": "internalServerError"}
    status = err.status if err.status in (412, 503) else 400
    key = "accessDenied" if err.status == 403 else err.reason
    return status, {"errorKey": key, "message": err.message}


JOURNEY = Dialect("journey", _render, object_schema(("errorKey",), errorKey=STRING, message=STRING))
