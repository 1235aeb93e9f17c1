"""A large TransactWriteItems's JSON body without botocore's walk of the input shape.

botocore serializes a request by walking its parameters against the operation's input shape,
one method call per value (a bulk request's chunk of 34 tasks is some 3,000 attribute values: a
fifth of the request's CPU). For the JSON protocol that walk changes nothing but blobs, timestamps
and floats (base64, epoch seconds); every other value is written as it is, and the body is
`json.dumps` of the result. So where the parameters hold none of those (checked against the shape:
`plain`), `json.dumps` of the parameters themselves is the same bytes.

Two documented botocore events do it (boto3's "Extensibility guide"), on TransactWriteItems of at
least FAST_ITEMS items only (a bulk request's chunks; smaller ones save nothing worth it):
- `before-parameter-build` (after botocore's own handler adds the idempotency token): when
  `plain`, the body is made from the parameters and kept in the call's `context`, and the
  parameters are left with each action's `TableName` only, which is all endpoint resolution reads
  of them (its `ResourceArnList`), so the walk that follows is short;
- `before-call`: the body botocore made from what was left is replaced by the one kept.
Anything else (a blob, a timestamp, a float, a member the shape does not know, which botocore
refuses, a host prefix) is left to botocore's own path. tests/unit/test_wire.py compares the
bodies with botocore's own, byte for byte."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

FAST_ITEMS = 16
OPERATION = "TransactWriteItems"
_KEPT = "baton.wire.body"
# The shapes botocore's JSON serializer writes as they are (its `_default_serialize`).
_AS_IS = frozenset({"string", "integer", "long", "boolean"})


def plain(value: Any, shape: Any) -> bool:
    """Whether botocore's JSON serializer would write `value` (of `shape`) as it is."""
    kind = shape.type_name
    if kind in _AS_IS:
        return True
    if kind == "structure":
        if type(value) is not dict:
            return False
        members = _members(shape)
        for name, member in value.items():
            found = members.get(name, False)
            if found is False or found is not None and not plain(member, found):
                return False
        return True
    if kind == "list":
        if type(value) is not list and type(value) is not tuple:
            return False
        inner = shape.member
        return inner.type_name in _AS_IS or all(plain(v, inner) for v in value)
    if kind == "map":
        if type(value) is not dict:
            return False
        inner = shape.value
        return inner.type_name in _AS_IS or all(plain(v, inner) for v in value.values())
    return False  # blob, timestamp, float, double, anything new: botocore's own path


@lru_cache(maxsize=256)
def _members(shape: Any) -> dict[str, Any]:
    """A structure's members by name: None for one written as it is, its shape otherwise; a renamed
    member left out (botocore's path), and every member of a document (written whole) too."""
    if shape.metadata.get("document"):
        return {}
    return {name: None if member.type_name in _AS_IS else member
            for name, member in shape.members.items() if "name" not in member.serialization}


def _keep_body(params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
    actions = params.get("TransactItems")
    if (model.name != OPERATION or not isinstance(actions, list) or len(actions) < FAST_ITEMS or model.endpoint
            or not plain(params, model.input_shape)):
        return
    context[_KEPT] = json.dumps(params).encode("utf-8")
    params["TransactItems"] = [{kind: {"TableName": body["TableName"]} if "TableName" in body else {}
                                for kind, body in action.items()} for action in actions]


def _put_body(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    body = context.pop(_KEPT, None)
    if body is not None:
        params["body"] = body


def register(client: Any) -> Any:
    """Make `client`'s large TransactWriteItems bodies without the walk; returns the client, which
    must be made without parameter validation (as storage.dynamo makes it: validating, botocore
    would validate what is left of the parameters, and refuse it). Both
    handlers are the events' last, on their least specific names (botocore runs a more specific
    name's handlers first): the body is made after every other handler changed the parameters
    (botocore's idempotency token), and put in after every other handler saw the request."""
    events = client.meta.events
    events.register_last("before-parameter-build", _keep_body)
    events.register_last("before-call", _put_body)
    return client
