"""baton.attrs speaks DynamoDB's attribute values exactly as boto3's serializer does."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from baton.attrs import from_attr, to_attr

SAMPLES: list[Any] = [
    None, True, False, 0, -7, 2**62, Decimal("1.5"), "", "tâche #1", b"\x00\xff", {"a", "b"}, {1, 2},
    {b"x", b"y"}, [], [1, "a", None, [True, {"k": "v"}]], {"nested": {"list": [1, 2], "set": {"s"}}},
    ("tuple", 1),
]
# Stable ids: a set's repr changes with hash randomization, and xdist workers must agree.
IDS = [f"{i}-{type(v).__name__}" for i, v in enumerate(SAMPLES)]


@pytest.mark.parametrize("value", SAMPLES, ids=IDS)
def test_serializes_like_boto3(value: Any) -> None:
    ours, theirs = to_attr(value), TypeSerializer().serialize(value)
    for kind in ("SS", "NS", "BS"):  # set order is arbitrary
        if kind in theirs:
            assert sorted(ours[kind]) == sorted(theirs[kind])
            return
    assert ours == theirs


@pytest.mark.parametrize("value", SAMPLES, ids=IDS)
def test_round_trips_like_boto3(value: Any) -> None:
    attr = TypeSerializer().serialize(value)
    expected = TypeDeserializer().deserialize(attr)
    got = from_attr(attr)
    assert got == expected  # ints come back as int, which equals boto3's Decimal
    if isinstance(expected, Decimal) and expected == expected.to_integral_value() and "." not in str(expected):
        assert type(got) is int


def test_refuses_what_boto3_refuses() -> None:
    for bad in (1.5, object(), {1, "mixed"}):
        with pytest.raises(TypeError):
            to_attr(bad)
        with pytest.raises(TypeError):
            TypeSerializer().serialize(bad)
    with pytest.raises(TypeError):
        from_attr({"X": "unknown type"})
