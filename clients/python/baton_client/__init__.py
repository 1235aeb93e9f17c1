"""A small typed client for Baton's native API: `BatonClient`, its models and errors."""

from baton_client.client import OPERATIONS, BatonClient, Operation
from baton_client.errors import (
    BadRequest,
    BatonError,
    ClientError,
    Conflict,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    PreconditionFailed,
    ServerError,
    Unauthorized,
)
from baton_client.models import HistoryEvent, Page, Task, Token

__all__ = [
    "OPERATIONS", "BadRequest", "BatonClient", "BatonError", "ClientError", "Conflict", "Forbidden", "HistoryEvent",
    "NotFound", "Operation", "Page", "PayloadTooLarge", "PreconditionFailed", "ServerError", "Task", "Token",
    "Unauthorized",
]
