"""storage.wire: a large TransactWriteItems's body made without botocore's walk is the very body
botocore's own serializer makes from the same parameters, byte for byte (generated transactions
of every action kind, and every kind of bulk write Baton sends, on moto and DynamoDB Local); the
endpoint is the same; anything the shortcut does not handle takes botocore's own path. A large
read's items taken without botocore's walk are the very answer botocore's parser gives (generated
BatchGetItem and Query answers); a binary attribute, an error or a small answer is botocore's."""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from botocore.serialize import create_serializer
from botocore.session import Session
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from baton.storage import wire
from baton.storage.dynamo import get_dynamo
from tests.support import ADMIN, bulk, call, seed
from tests.support import create_task as create

_REFERENCE = "test.reference"


class _Sent:
    """What a client sent: each TransactWriteItems's URL and body, and the body botocore's own
    serializer makes from the parameters as they were when the shortcut took them."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, bytes, bytes]] = []
        self.shortcuts = 0  # the requests whose body the shortcut made

    def called(self, context: dict[str, Any], **_: Any) -> None:
        self.shortcuts += wire._KEPT in context

    def keep(self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        if model.name == wire.OPERATION:
            context[_REFERENCE] = (copy.deepcopy(params), model)

    def created(self, request: Any, **_: Any) -> None:
        kept = request.context.pop(_REFERENCE, None)
        if kept is not None:
            body = create_serializer("json", include_validation=False).serialize_to_request(*kept)["body"]
            self.requests.append((request.url, bytes(request.body), body))


@contextmanager
def watched(client: Any) -> Iterator[_Sent]:
    sent = _Sent()
    client.meta.events.register("before-parameter-build", sent.keep)  # after botocore's token, before wire's
    client.meta.events.register("request-created.dynamodb.TransactWriteItems", sent.created)
    client.meta.events.register("before-call", sent.called)  # before wire's
    try:
        yield sent
    finally:
        client.meta.events.unregister("before-call", sent.called)
        client.meta.events.unregister("before-parameter-build", sent.keep)
        client.meta.events.unregister("request-created.dynamodb.TransactWriteItems", sent.created)


_ANSWER = [b"{}"]  # what the offline clients answer (a test may set another body)


class _Raw:
    def stream(self, **_: Any) -> Iterator[bytes]:
        yield _ANSWER[0]


def _answer(**_: Any) -> AWSResponse:
    return AWSResponse("https://dynamodb", 200, {"Content-Type": "application/x-amz-json-1.0"}, _Raw())  # type: ignore[arg-type]


@functools.cache  # one of each per test process: making a client costs more than a generated example
def offline(fast: bool) -> Any:
    """A DynamoDB client with AWS's own endpoint resolution that sends nothing (each call answered {})."""
    client = Session().create_client("dynamodb", region_name="eu-west-1", aws_access_key_id="x",
                                     aws_secret_access_key="x", config=Config(parameter_validation=False))
    client.meta.events.register_first("before-send.dynamodb", _answer)  # type: ignore[arg-type]
    return wire.register(client) if fast else client


# ---- generated transactions ---------------------------------------------------------------------
_text = st.text(max_size=12)  # any Unicode: json.dumps escapes it as botocore's does
_scalar = st.one_of(st.builds(lambda s: {"S": s}, _text), st.builds(lambda n: {"N": str(n)}, st.integers()),
                    st.builds(lambda b: {"BOOL": b}, st.booleans()), st.just({"NULL": True}),
                    st.builds(lambda ss: {"SS": ss}, st.lists(_text, min_size=1, max_size=3, unique=True)),
                    st.builds(lambda ns: {"NS": [str(n) for n in ns]}, st.lists(st.integers(), min_size=1, max_size=3)))
_value = st.recursive(_scalar, lambda inner: st.one_of(
    st.builds(lambda v: {"L": v}, st.lists(inner, max_size=3)),
    st.builds(lambda v: {"M": v}, st.dictionaries(_text, inner, max_size=3))), max_leaves=8)
_item = st.dictionaries(_text, _value, min_size=1, max_size=6)
_condition = st.fixed_dictionaries({"ConditionExpression": st.just("attribute_not_exists(#a) OR #a = :v"),
                                    "ExpressionAttributeNames": st.just({"#a": "pk"}),
                                    "ExpressionAttributeValues": st.builds(lambda v: {":v": v}, _value)})


def _action(kind: str, item: dict[str, Any], condition: dict[str, Any] | None) -> dict[str, Any]:
    body: dict[str, Any] = {"TableName": "baton", ("Item" if kind == "Put" else "Key"): item}
    if kind == "Update":
        body.update(UpdateExpression="SET #n = if_not_exists(#n, :z) + :d",
                    ExpressionAttributeNames={"#n": "load"},
                    ExpressionAttributeValues={":z": {"N": "0"}, ":d": {"N": "1"}})
    if condition is not None:
        body.update({**condition, "ExpressionAttributeNames": {**body.get("ExpressionAttributeNames", {}),
                                                               **condition["ExpressionAttributeNames"]},
                     "ExpressionAttributeValues": {**body.get("ExpressionAttributeValues", {}),
                                                   **condition["ExpressionAttributeValues"]},
                     "ReturnValuesOnConditionCheckFailure": "ALL_OLD"})
    if kind == "ConditionCheck" and condition is None:
        body.update(ConditionExpression="attribute_exists(pk)")
    return {kind: body}


_actions = st.lists(st.builds(_action, st.sampled_from(["Put", "Delete", "ConditionCheck", "Update"]), _item,
                              st.none() | _condition), min_size=1, max_size=wire.FAST_ITEMS + 8)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(actions=_actions, token=st.none() | st.just("a-token"))
def test_generated_transactions_are_the_bodies_botocore_makes(actions: list[dict[str, Any]], token: str | None) -> None:
    client = offline(fast=True)
    extra = {"ClientRequestToken": token} if token else {}  # else botocore adds one (after which the body is made)
    with watched(client) as sent:
        client.transact_write_items(TransactItems=actions, ReturnConsumedCapacity="TOTAL", **extra)
    ((_, body, reference),) = sent.requests
    assert body == reference
    assert sent.shortcuts == (len(actions) >= wire.FAST_ITEMS)
    assert wire.plain({"TransactItems": actions}, client.meta.service_model.operation_model(wire.OPERATION).input_shape)


def test_the_endpoint_and_body_are_those_without_the_shortcut() -> None:
    actions = [_action("Put", {"pk": {"S": f"T#{i}"}, "n": {"N": str(i)}, "é": {"L": [{"S": "ü\n\""}]}}, None)
               for i in range(wire.FAST_ITEMS + 1)]
    seen = []
    for fast in (True, False):
        client = offline(fast)
        with watched(client) as sent:
            client.transact_write_items(TransactItems=actions, ClientRequestToken="t")
        seen.append((*sent.requests[0][:2], sent.shortcuts))
    assert seen[0][:2] == seen[1][:2] and (seen[0][2], seen[1][2]) == (1, 0)
    assert seen[0][0].startswith("https://dynamodb.eu-west-1.amazonaws.com")


def test_a_binary_attribute_takes_botocores_own_path() -> None:
    actions = [_action("Put", {"pk": {"S": f"T#{i}"}, "b": {"B": b"\x00\xff"}}, None) for i in range(wire.FAST_ITEMS)]
    client = offline(fast=True)
    with watched(client) as sent:
        client.transact_write_items(TransactItems=actions, ClientRequestToken="t")
    ((_, body, reference),) = sent.requests
    assert body == reference and b'"B": "AP8="' in body and not sent.shortcuts


def test_a_member_the_shape_does_not_know_fails_as_botocore_fails() -> None:
    actions = [{"Put": {"TableName": "baton", "Itme": {"pk": {"S": str(i)}}}} for i in range(wire.FAST_ITEMS)]
    for fast in (True, False):
        with pytest.raises(KeyError, match="Itme"):
            offline(fast).transact_write_items(TransactItems=actions)


def test_small_transactions_and_other_operations_are_left_alone() -> None:
    client = offline(fast=True)
    shape = client.meta.service_model.operation_model(wire.OPERATION).input_shape
    assert wire.plain({"TransactItems": [_action("Put", {"pk": {"S": "x"}}, None)]}, shape)
    with watched(client) as sent:
        client.transact_write_items(TransactItems=[_action("Put", {"pk": {"S": "x"}}, None)], ClientRequestToken="t")
        client.put_item(TableName="baton", Item={"pk": {"S": "x"}})
    assert [r[1] == r[2] for r in sent.requests] == [True]


# ---- Baton's own bulk writes, every kind ----------------------------------------------------------
@pytest.mark.usefixtures("backend", "controlled_clock")
def test_every_kind_of_bulk_write_sends_botocores_body() -> None:
    seed()
    ids = [f"w{i:03d}" for i in range(40)]
    for i, task in enumerate(ids):
        offered: dict[str, Any] = {"candidateGroups": ["ops"]} if i % 2 else {"candidateUsers": ["alice", "bob"]}
        create(task, **offered)
    client = get_dynamo().client
    with watched(client) as sent:
        steps = [("claim", {}, "alice"), ("release", {}, "alice"),
                 ("assign", {"userId": "bob", "comment": "c"}, "root"),
                 ("reassign", {"userId": "alice", "comment": "r"}, "root"), ("complete", {"comment": "done"}, "alice")]
        for action, extra, user in steps:
            r = bulk(action, {"taskIds": ids, **extra}, user=user, roles=ADMIN if user == "root" else ("operations",))
            assert r.status == 200 and {i["status"] for i in r.body["results"]} == {200}, (action, r)
        others = [f"x{i:03d}" for i in range(30)]
        for task in others:
            create(task, candidateGroups=["ops"])
        r = bulk("abandon", {"taskIds": others}, user="root", roles=ADMIN)
        assert r.status == 200, r
        r = bulk("claim", {"taskIds": others[:20], "atomic": True}, user="alice", roles=("operations",))
        assert r.status in (200, 409), r
    assert sent.shortcuts >= 6
    assert all(body == reference for _, body, reference in sent.requests)
    assert call("GET", "/api/v1/tasks/w000").body["status"] == "completed"


# ---- an attribute value's walk ----------------------------------------------------------------------
_any_value = st.recursive(
    st.one_of(_scalar, st.builds(lambda b: {"B": b}, st.binary(max_size=3)),
              st.builds(lambda bs: {"BS": bs}, st.lists(st.binary(max_size=3), max_size=2)),
              st.just({"X": "unknown"}), st.just({"SS": "not a list"}), st.just({"M": ["not", "a", "map"]}),
              st.just({"L": {"not": "a list"}}), st.just("not a value"), st.just({})),
    lambda inner: st.one_of(st.builds(lambda v: {"L": v}, st.lists(inner, max_size=3)),
                            st.builds(lambda v: {"M": v}, st.dictionaries(_text, inner, max_size=3)),
                            st.builds(lambda a, b: {**a, **b} if isinstance(a, dict) and isinstance(b, dict) else a,
                                      inner, inner)), max_leaves=8)


@settings(max_examples=200, deadline=None)
@given(value=_any_value)
def test_an_attribute_values_walk_decides_as_the_shapes_walk(value: Any) -> None:
    shape = offline(fast=True).meta.service_model.shape_for("AttributeValue")
    assert wire._attribute_value(shape)
    fast = wire.plain(value, shape)
    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(wire, "_attribute_value", lambda _: False)  # the shapes' own walk
        assert fast == wire.plain(value, shape)


def test_only_dynamodbs_attribute_value_takes_the_attribute_values_walk() -> None:
    model = offline(fast=True).meta.service_model
    assert wire._attribute_value(model.shape_for("AttributeValue"))
    assert not wire._attribute_value(model.shape_for("Put"))
    assert not wire._attribute_value(model.shape_for("KeysAndAttributes"))


# ---- large reads' answers ---------------------------------------------------------------------------
def _parsed(fast: bool, operation: str, body: bytes, **params: Any) -> dict[str, Any]:
    _ANSWER[0] = body
    try:
        answer: dict[str, Any] = getattr(offline(fast), operation)(**params)
    finally:
        _ANSWER[0] = b"{}"
    answer.pop("ResponseMetadata")
    return answer


_items = st.lists(_item, min_size=1, max_size=40)
_reads: dict[str, dict[str, Any]] = {"batch_get_item": {"RequestItems": {"baton": {"Keys": [{"pk": {"S": "x"}}]}}},
                                     "query": {"TableName": "baton", "KeyConditionExpression": "pk = :p",
                                               "ExpressionAttributeValues": {":p": {"S": "x"}}}}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(items=_items, padding=st.integers(0, wire.FAST_BYTES), operation=st.sampled_from(sorted(_reads)),
       last=st.none() | _item)
def test_generated_answers_are_what_botocore_parses(items: list[dict[str, Any]], padding: int, operation: str,
                                                    last: dict[str, Any] | None) -> None:
    items = [{**item, "pad": {"S": "p" * padding}} for item in items]  # small and large answers both
    if operation == "batch_get_item":
        answer: dict[str, Any] = {"Responses": {"baton": items}, "UnprocessedKeys": {},
                                  "ConsumedCapacity": [{"TableName": "baton", "CapacityUnits": 2.5}]}
    else:
        answer = {"Items": items, "Count": len(items), "ScannedCount": len(items),
                  **({"LastEvaluatedKey": last} if last else {})}
    body = json.dumps(answer).encode()
    assert _parsed(True, operation, body, **_reads[operation]) == _parsed(False, operation, body, **_reads[operation])


class _Operation:
    def __init__(self, name: str) -> None:
        self.name = name


def _take(operation: str, body: bytes, status: int = 200) -> tuple[dict[str, Any], bytes]:
    response: dict[str, Any] = {"status_code": status, "headers": {}, "body": body}
    customized: dict[str, Any] = {}
    wire._take_items(operation_model=_Operation(operation), response_dict=response, customized_response_dict=customized)
    return customized, response["body"]


def test_a_large_answer_is_taken_without_botocores_walk_and_a_binary_one_with_it() -> None:
    items = [{"pk": {"S": f"T#{i}"}, "n": {"N": str(i)}, "pad": {"S": "p" * 100}} for i in range(60)]
    body = json.dumps({"Items": items, "Count": 60, "ScannedCount": 60}).encode()
    assert _take("Query", body) == ({"Items": items}, b'{"Count": 60, "ScannedCount": 60}')
    batch = json.dumps({"Responses": {"baton": items}, "UnprocessedKeys": {}}).encode()
    assert _take("BatchGetItem", batch) == ({"Responses": {"baton": items}}, b'{"UnprocessedKeys": {}}')
    for left in (json.dumps({"Items": [{**items[0], "b": {"B": "AP8="}}, *items[1:]], "Count": 60}).encode(),
                 json.dumps({"Items": [{**items[0], "bs": {"BS": ["AP8="]}}, *items[1:]]}).encode(),
                 json.dumps({"Items": items[:2], "Count": 2}).encode()):  # binary, binary, small
        assert _take("Query", left) == ({}, left)
    assert _take("Scan", body) == ({}, body) and _take("Query", body, status=400) == ({}, body)
    answer = _parsed(True, "query", json.dumps({"Items": [{**items[0], "b": {"B": "AP8="}}, *items[1:]]}).encode(),
                     **_reads["query"])
    assert answer["Items"][0]["b"] == {"B": b"\x00\xff"}  # botocore decoded it


@pytest.mark.usefixtures("backend", "controlled_clock")
def test_batons_large_reads_take_the_shortcut() -> None:
    """Baton's own client (storage.dynamo) takes a bulk request's read through it, and answers as
    before."""
    seed()
    ids = [f"r{i:03d}" for i in range(40)]
    for task in ids:
        create(task, candidateGroups=["ops"], description="d" * 100)
    taken: list[str] = []

    def spy(operation_model: Any, customized_response_dict: dict[str, Any], **_: Any) -> None:
        taken.extend(f"{operation_model.name}:{member}" for member in customized_response_dict)

    events = get_dynamo().client.meta.events
    events.register_last("before-parse.dynamodb", spy)  # after wire's (registered when the client was made)
    try:
        r = bulk("claim", {"taskIds": ids}, user="alice", roles=("operations",))
        assert r.status == 200 and {i["status"] for i in r.body["results"]} == {200}, r
    finally:
        events.unregister("before-parse.dynamodb", spy)
    assert taken == ["BatchGetItem:Responses"], taken
    assert call("GET", f"/api/v1/tasks/{ids[-1]}").body["assignee"] == "alice"


# ---- when a request is made ------------------------------------------------------------------------
def test_when_signed_calls_back_once_a_request_is_signed_on_this_thread_only() -> None:
    """A bulk chunk's writer tells the planner its request is made (tasks.bulk_chunks): the callback
    runs inside the call (on `request-created`, after botocore's signer), once for each request the
    thread makes inside the block, and never for another thread's request or outside the block."""
    import threading

    client = offline(fast=True)
    seen: list[str] = []

    def call(key: str) -> None:
        client.get_item(TableName="baton", Key={"pk": {"S": key}})
        seen.append(f"returned {key}")

    with wire.when_signed(lambda: seen.append("signed")):
        call("x")
        other = threading.Thread(target=call, args=("y",))
        other.start()
        other.join()
        call("z")
    call("after")
    assert seen == ["signed", "returned x", "returned y", "signed", "returned z", "returned after"]
