"""A large TransactWriteItems's JSON body without botocore's walk of the input shape, and a large
read's items without botocore's walk of the output shape.

botocore serializes a request by walking its parameters against the operation's input shape,
one method call per value (a bulk request's chunk of 42 tasks is some 3,500 attribute values: a
fifth of the request's CPU). For the JSON protocol that walk changes nothing but blobs, timestamps
and floats (base64, epoch seconds); every other value is written as it is, and the body is
`json.dumps` of the result. So where the parameters hold none of those (checked against the shape:
`plain`), `json.dumps` of the parameters themselves is the same bytes.

Two documented botocore events do it (boto3's "Extensibility guide"), on TransactWriteItems of at
least FAST_ITEMS items only (a bulk request's chunks; smaller ones save nothing worth it):
- `before-parameter-build` (after botocore's own handler adds the idempotency token): when
  `plain`, the body is made from the parameters and kept in the call's `context`, and the
  parameters are left with the first action of each table, its `TableName` only, which is all
  endpoint resolution reads of them (its `ResourceArnList`: whether set, and its first), so the
  walk that follows is short;
- `before-call`: the body botocore made from what was left is replaced by the one kept.
Anything else (a blob, a timestamp, a float, a member the shape does not know, which botocore
refuses, a host prefix) is left to botocore's own path. tests/unit/test_wire.py compares the
bodies with botocore's own, byte for byte.

The answers go the other way the same: botocore parses a JSON answer by walking it against the
output shape (a bulk request's BatchGetItem of 100 tasks is some 3,000 attribute values, 8-10 ms
of a 50 ms request), and for DynamoDB's items that walk changes nothing but binary attributes
(`B`, `BS`: base64 decoded). So on `before-parse` (botocore's documented hook, whose
`customized_response_dict` is merged into the parsed answer) a successful BatchGetItem or Query
answer of at least FAST_BYTES whose body holds no `"B"` or `"BS"` token anywhere has its items
(`Responses`, `Items`) taken by `json.loads` and left out of the body botocore goes on to parse
(the rest: unprocessed keys, the last key, capacity, counts). A `"B"` anywhere (a binary attribute,
or merely a name or a string "B") leaves the whole answer to botocore. tests/unit/test_wire.py
compares the parsed answers with botocore's own."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

FAST_ITEMS = 16
OPERATION = "TransactWriteItems"
FAST_BYTES = 4096
ITEMS = {"BatchGetItem": "Responses", "Query": "Items"}  # a read's answer -> the member holding its items
_BINARY = (b'"B"', b'"BS"')
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
        if _attribute_value(shape):
            return _plain_value(value)
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
        if _attribute_value(inner):  # an item, a key, expression values: most of a chunk's values
            return all(map(_plain_value, value.values()))
        return inner.type_name in _AS_IS or all(plain(v, inner) for v in value.values())
    return False  # blob, timestamp, float, double, anything new: botocore's own path


# DynamoDB's AttributeValue as botocore's model spells it: member -> (type, its element's type). The
# walk of an attribute value is `_plain_value`, written for this layout (and used only where the
# model has it exactly): what `plain` decides for such a value, with one call a value, not one a member.
_ATTRIBUTE_VALUE = {"S": ("string", None), "N": ("string", None), "B": ("blob", None), "SS": ("list", "string"),
                    "NS": ("list", "string"), "BS": ("list", "blob"), "M": ("map", "self"), "L": ("list", "self"),
                    "NULL": ("boolean", None), "BOOL": ("boolean", None)}
_SCALARS = frozenset({"S", "N", "NULL", "BOOL"})
_STRING_LISTS = frozenset({"SS", "NS"})


@lru_cache(maxsize=256)
def _attribute_value(shape: Any) -> bool:
    """Whether `shape` is DynamoDB's AttributeValue laid out as `_plain_value` knows it."""
    if shape.type_name != "structure" or shape.metadata.get("document"):
        return False

    def layout(member: Any) -> tuple[str, str | None]:
        inner = member.value if member.type_name == "map" else getattr(member, "member", None)
        if inner is None or member.type_name not in ("map", "list"):
            return member.type_name, None
        return member.type_name, "self" if inner.name == shape.name else inner.type_name

    members = shape.members
    return (members.keys() == _ATTRIBUTE_VALUE.keys()
            and all(layout(m) == _ATTRIBUTE_VALUE[n] and not m.serialization for n, m in members.items()))


def _plain_value(value: Any) -> bool:
    """`plain` for one attribute value (a dict): anything but a binary (`B`, `BS`) or a member the
    model does not know, with `SS`/`NS`/`L` lists, `M` a dict, and so on down."""
    if type(value) is not dict:
        return False
    for kind, inner in value.items():
        if kind in _SCALARS:
            continue
        if kind in _STRING_LISTS:
            if type(inner) is not list and type(inner) is not tuple:
                return False
        elif kind == "M":
            if type(inner) is not dict or not all(map(_plain_value, inner.values())):
                return False
        elif kind == "L":
            if type(inner) is not list and type(inner) is not tuple or not all(map(_plain_value, inner)):
                return False
        elif kind != "BS" or type(inner) is not list and type(inner) is not tuple or inner:
            return False  # a binary (an empty set of them has nothing to encode), a member not known
    return True


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
    # what endpoint resolution reads: the tables, each once, in order (its rules read whether the
    # list is set and its first table; the path's walk over every action was ~0.5 ms a chunk)
    left: list[dict[str, Any]] = []
    tables: set[str | None] = set()
    for action in actions:
        bodies: list[dict[str, Any]] = list(action.values())
        table = bodies[0].get("TableName") if len(bodies) == 1 else None
        if table is None or table not in tables:
            tables.add(table)
            left.append({kind: {"TableName": body["TableName"]} if "TableName" in body else {}
                         for kind, body in action.items()})
    params["TransactItems"] = left


def _put_body(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    body = context.pop(_KEPT, None)
    if body is not None:
        params["body"] = body


def _take_items(operation_model: Any, response_dict: dict[str, Any], customized_response_dict: dict[str, Any],
                **_: Any) -> None:
    member = ITEMS.get(operation_model.name)
    body = response_dict.get("body")
    if (member is None or response_dict.get("status_code") != 200 or type(body) is not bytes
            or len(body) < FAST_BYTES or any(token in body for token in _BINARY)):
        return
    answer = json.loads(body)
    if type(answer) is not dict or member not in answer:
        return
    customized_response_dict[member] = answer.pop(member)
    response_dict["body"] = json.dumps(answer).encode("utf-8")


_signed = threading.local()  # this thread's call to make when its request is made and signed


@contextmanager
def when_signed(callback: Callable[[], None]) -> Iterator[None]:
    """Call `callback` once each request this thread makes inside the block is made and signed, just
    before it is sent: its CPU work done, the rest is waiting for the answer."""
    _signed.callback = callback
    try:
        yield
    finally:
        _signed.callback = None


def _signed_now(**_: Any) -> None:
    callback = getattr(_signed, "callback", None)
    if callback is not None:
        callback()


def register(client: Any) -> Any:
    """Make `client`'s large TransactWriteItems bodies, and take its large reads' items, without the
    walks; returns the client, which
    must be made without parameter validation (as storage.dynamo makes it: validating, botocore
    would validate what is left of the parameters, and refuse it). Both
    handlers are the events' last, on their least specific names (botocore runs a more specific
    name's handlers first): the body is made after every other handler changed the parameters
    (botocore's idempotency token), and put in after every other handler saw the request."""
    events = client.meta.events
    events.register_last("before-parameter-build", _keep_body)
    events.register_last("before-call", _put_body)
    events.register_last("before-parse.dynamodb", _take_items)
    events.register_last("request-created.dynamodb", _signed_now)  # after botocore's signer
    return client
