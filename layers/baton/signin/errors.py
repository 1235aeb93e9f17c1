"""The sign-in routes' error body: OAuth's (`error`, `error_description`), with Itential's `message`
alongside."""

from __future__ import annotations

from typing import Any

from baton.edge.dialects import STRING, Dialect, object_schema
from baton.errors import BatonError
from baton.signin.grants import SignInFailed, TooManySignIns

OAUTH_ERRORS = {400: "invalid_request", 413: "invalid_request", 429: "slow_down", 500: "server_error",
                503: "temporarily_unavailable"}


def _render(err: BatonError) -> tuple[int, dict[str, Any]]:
    oauth_code = err.status == 401 or err.reason.startswith(("invalid_", "unsupported_"))
    code = err.reason if oauth_code else OAUTH_ERRORS.get(err.status, "invalid_request")
    return err.status, {"error": code, "error_description": err.message, "message": err.message}


SIGNIN = Dialect("signin", _render, object_schema(("error", "error_description", "message"), error=STRING,
                                                  error_description=STRING, message=STRING),
                 errors=(SignInFailed, TooManySignIns))
