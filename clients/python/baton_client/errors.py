"""Typed errors: one class per status Baton answers a refused request with.

Every error carries the status, the machine-readable `code` (the native dialect's `code`, or the
sign-in routes' OAuth `error`), the human `message`, the task's `holder` where Baton says who holds
it (a 409 on a held task), and the parsed body."""

from __future__ import annotations

from typing import Any


class BatonError(Exception):
    """Baton answered with a status of 400 or more."""

    status: int = 0

    def __init__(self, status: int, message: str, *, code: str | None = None, holder: str | None = None,
                 body: Any = None) -> None:
        super().__init__(f"{status}: {message}" + (f" ({code})" if code else ""))
        self.status = status
        self.message = message
        self.code = code
        self.holder = holder
        self.body = body


class ClientError(BatonError):
    """A 4xx: the request was refused; sending it again unchanged will not help."""


class BadRequest(ClientError):
    """400: invalid input (a field out of range, an unknown field, a malformed body)."""


class Unauthorized(ClientError):
    """401: no token, an expired or invalid one, or refused sign-in credentials."""


class Forbidden(ClientError):
    """403: the caller's roles do not allow the action, or the task is not offered to them."""


class NotFound(ClientError):
    """404: no such task (or route)."""


class Conflict(ClientError):
    """409: the task's state forbids the action (held by someone else: see `holder`; not open)."""


class PreconditionFailed(ClientError):
    """412: `If-Match` named a version the task has moved past; read it again and decide."""


class PayloadTooLarge(ClientError):
    """413: the request body is over Baton's limit."""


class ServerError(BatonError):
    """A 5xx: Baton or its table failed; a retry may succeed (a 503 asks for one)."""


BY_STATUS: dict[int, type[BatonError]] = {
    400: BadRequest, 401: Unauthorized, 403: Forbidden, 404: NotFound, 409: Conflict, 412: PreconditionFailed,
    413: PayloadTooLarge,
}


def error_for(status: int, body: Any, fallback: str) -> BatonError:
    """The typed error for a refused response (`body` parsed when it is JSON, else its text)."""
    message, code, holder = fallback, None, None
    if isinstance(body, dict):
        text = body.get("message") or body.get("error_description") or body.get("error")
        message = text if isinstance(text, str) and text else fallback
        raw_code = body.get("code", body.get("error"))
        code = raw_code if isinstance(raw_code, str) else None
        holder = body.get("holder") if isinstance(body.get("holder"), str) else None
    elif isinstance(body, str) and body.strip():
        message = body.strip()[:500]
    kind = BY_STATUS.get(status) or (ServerError if status >= 500 else ClientError)
    return kind(status, message, code=code, holder=holder, body=body)
