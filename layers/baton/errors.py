"""Domain errors. Each carries a stable `reason` the dialects map to their own shapes.

Handlers never catch broad exceptions: every dialect registers one handler per class here.
"""

from __future__ import annotations


class BatonError(Exception):
    """Base of every domain error. `status` is the HTTP status the native API uses."""

    status = 500
    reason = "internal"

    def __init__(self, message: str, reason: str | None = None, **details: object) -> None:
        super().__init__(message)
        self.message = message
        if reason is not None:
            self.reason = reason
        self.details = details


class BadRequest(BatonError):
    status = 400
    reason = "badRequest"


class Forbidden(BatonError):
    status = 403
    reason = "forbidden"


class NotFound(BatonError):
    status = 404
    reason = "notFound"


class Conflict(BatonError):
    status = 409
    reason = "conflict"


class PreconditionFailed(BatonError):
    status = 412
    reason = "preconditionFailed"


class PayloadTooLarge(BatonError):
    status = 413
    reason = "payloadTooLarge"


class Unauthorized(BatonError):
    status = 401
    reason = "unauthorized"


class Internal(BatonError):
    """A fault of ours (for example a response that breaks its own schema): 500, nothing leaked."""

    status = 500
    reason = "internalServerError"


class Unavailable(BatonError):
    """DynamoDB throttled us after the SDK's retries: the client should come back later."""

    status = 503
    reason = "unavailable"
    retry_after = 1
