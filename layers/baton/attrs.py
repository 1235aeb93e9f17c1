"""DynamoDB's attribute-value format, both ways, without importing boto3.

boto3's `TypeSerializer`/`TypeDeserializer` live in the boto3 package, whose import (session,
resources, s3transfer) costs ~180 ms of every cold start; Baton talks to DynamoDB through a
botocore client and needs only these two functions. Same mapping as boto3's, except that a
whole number comes back as `int` (boto3 gives `Decimal`); floats are refused as boto3 does."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any


def to_attr(value: Any) -> dict[str, Any]:
    """One Python value as a DynamoDB attribute value."""
    kind = type(value)  # the common exact types first (a bulk request writes ~30 attributes a task)
    if kind is str:
        return {"S": value}
    if kind is int:
        return {"N": str(value)}
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, (int, Decimal)):
        return {"N": str(value)}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, (bytes, bytearray)):
        return {"B": bytes(value)}
    if isinstance(value, (set, frozenset)):
        if all(isinstance(v, str) for v in value):
            return {"SS": list(value)}
        if all(isinstance(v, (int, Decimal)) and not isinstance(v, bool) for v in value):
            return {"NS": [str(v) for v in value]}
        if all(isinstance(v, (bytes, bytearray)) for v in value):
            return {"BS": [bytes(v) for v in value]}
    elif isinstance(value, (list, tuple)):
        return {"L": [to_attr(v) for v in value]}
    elif isinstance(value, Mapping):
        return {"M": {str(k): to_attr(v) for k, v in value.items()}}
    raise TypeError(f"Unsupported type {type(value)!r} for value {value!r}")


def _number(text: str) -> int | Decimal:
    try:
        return int(text)
    except ValueError:
        return Decimal(text)


def from_attr(attr: Mapping[str, Any]) -> Any:
    """One DynamoDB attribute value as a Python value."""
    ((kind, value),) = attr.items()
    if kind == "S" or kind == "B" or kind == "BOOL":
        return value
    if kind == "N":
        return _number(value)
    if kind == "NULL":
        return None
    if kind == "L":
        return [from_attr(v) for v in value]
    if kind == "M":
        return {k: from_attr(v) for k, v in value.items()}
    if kind == "SS" or kind == "BS":
        return set(value)
    if kind == "NS":
        return {_number(v) for v in value}
    raise TypeError(f"Unknown DynamoDB type {kind!r}")
