"""moto's DynamoDB made cheaper for the tests, answering exactly as before (test support only).

Profiled on the unit tier, most of a moto call was moto itself, in two places:

- Its response serializer walks every AttributeValue of a response member by member, asking a
  name-guessing value picker for each of the ten type keys (`S`, `N`, `M`, ...): about half of
  every call. `_attribute_value` writes the same JSON directly; anything it does not recognize
  (not a one-key dict, a value that is not what moto stores) goes the generic way.
- TransactWriteItems deep-copies the whole table once per item of the transaction (its backup
  for a rollback): a test's cost grew with its table. `_cheap_backup` copies the table's item
  index (the Item objects shared, as a write replaces them) and deep-copies only the items the
  transaction touches (an update changes its Item in place), and the stream's records.
- Building an Item checks the 400 KB limit after each attribute by sizing every attribute
  before it again (quadratic in the attributes, for every item written or read back from a
  write). `_item_init` keeps a running total: the same check, the same error.

`BATON_FASTMOTO=check` runs moto's own code beside each shortcut and fails on any difference;
`BATON_FASTMOTO=off` leaves moto as it is. A moto other than the version these shortcuts were
written against is left as it is."""

from __future__ import annotations

import contextvars
import copy
import os
from collections import defaultdict
from typing import Any

TESTED_WITH = "5.2."
_SCALARS = ("S", "N")
_SETS = ("SS", "NS")
_TXN: contextvars.ContextVar[list[dict[str, Any]] | None] = contextvars.ContextVar("fastmoto_txn", default=None)


class _Generic(Exception):
    """This value goes through moto's generic serializer."""


def _text(value: Any) -> str:
    if type(value) is not str:
        raise _Generic
    return value


def _attribute_value(serializer: Any, value: Any) -> dict[str, Any]:
    """An AttributeValue as moto's JSON serializer writes it (strings as they are, blobs in
    base64, maps and lists member by member)."""
    if type(value) is not dict or len(value) != 1:
        raise _Generic
    ((kind, inner),) = value.items()
    if kind in _SCALARS:
        return {kind: _text(inner)}
    if kind == "M":
        if type(inner) is not dict:
            raise _Generic
        return {"M": {_text(k): _attribute_value(serializer, v) for k, v in inner.items()}}
    if kind == "L":
        if type(inner) is not list:
            raise _Generic
        return {"L": [_attribute_value(serializer, v) for v in inner]}
    if kind in _SETS:
        if type(inner) is not list:
            raise _Generic
        return {kind: [_text(v) for v in inner]}
    if kind in ("BOOL", "NULL"):
        if type(inner) is not bool:
            raise _Generic
        return {kind: inner}
    if kind == "B" and isinstance(inner, (str, bytes)):
        return {"B": serializer._base64(inner)}
    if kind == "BS" and type(inner) is list and all(isinstance(v, (str, bytes)) for v in inner):
        return {"BS": [serializer._base64(v) for v in inner]}
    raise _Generic


def _patch_serializer(check: bool) -> None:
    from moto.core import serialize

    generic = serialize.BaseJSONSerializer._serialize_type_structure

    def structure(self: Any, serialized: Any, value: Any, shape: Any, key: str) -> None:
        if key and value is not None and shape.name == "AttributeValue" and "name" not in shape.serialization:
            try:
                fast = _attribute_value(self, value)
            except _Generic:
                pass
            else:
                if check:
                    slow: dict[str, Any] = {}
                    generic(self, slow, value, shape, key)
                    assert slow == {key: fast}, ("fastmoto: the serializer differs", value, slow, fast)
                serialized[key] = fast
                return
        generic(self, serialized, value, shape, key)

    serialize.BaseJSONSerializer._serialize_type_structure = structure  # type: ignore[method-assign]


def _cheap_backup(table: Any, transact_items: list[dict[str, Any]]) -> Any:
    """What a rollback puts back: the table as it is now, sharing what the transaction cannot
    change (the Item objects it does not touch, the table's settings)."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    backup = copy.copy(table)
    ranged = table.range_key_attr is not None
    backup.items = defaultdict(dict, {h: dict(r) if ranged else r for h, r in table.items.items()})
    for entry in transact_items:
        ((_, op),) = entry.items()
        if op.get("TableName") != table.name:
            continue
        attrs = op["Item"] if "Item" in op else op["Key"]
        h = DynamoType(attrs[table.hash_key_attr])
        r = DynamoType(attrs[table.range_key_attr]) if ranged else None
        item = table.get_item(h, r)
        if item is None:
            continue
        if ranged:
            backup.items[h][r] = copy.deepcopy(item)
        else:
            backup.items[h] = copy.deepcopy(item)
    shard = getattr(table, "stream_shard", None)
    if shard is not None:
        backup.stream_shard = copy.copy(shard)
        backup.stream_shard.items = list(shard.items)
        backup.stream_shard.table = backup
    return backup


def _state(table: Any) -> tuple[Any, ...]:
    items = sorted(repr(sorted(i.to_json()["Attributes"].items())) for i in table.all_items())
    shard = getattr(table, "stream_shard", None)
    return table.name, items, len(shard.items) if shard is not None else None


def _patch_transactions(check: bool) -> None:
    from moto.dynamodb import models
    from moto.dynamodb.models.table import Table

    real_copy = models.copy

    class _Copy:
        """`copy` as moto.dynamodb.models sees it: a table copied for a transaction's rollback
        is copied cheaply; anything else as before."""

        copy = staticmethod(real_copy.copy)

        @staticmethod
        def deepcopy(obj: Any, memo: Any = None) -> Any:
            items = _TXN.get()
            if items is not None and type(obj) is Table:
                backups: dict[int, Any] = _BACKUPS.get()
                if id(obj) not in backups:
                    backups[id(obj)] = _cheap_backup(obj, items)
                return backups[id(obj)]
            return real_copy.deepcopy(obj, memo)

    _BACKUPS: contextvars.ContextVar[dict[int, Any]] = contextvars.ContextVar("fastmoto_backups")
    original = models.DynamoDBBackend.transact_write_items

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        before = None
        if check:
            names = {next(iter(i.values())).get("TableName") for i in transact_items}
            before = {n: _state(self.tables[n]) for n in names if n in self.tables}
        txn, backups = _TXN.set(transact_items), _BACKUPS.set({})
        try:
            original(self, transact_items)
        except Exception:
            if before is not None:  # rolled back: every table as it was
                for name, state in before.items():
                    assert _state(self.tables[name]) == state, ("fastmoto: a rollback differs", name)
            raise
        finally:
            _TXN.reset(txn)
            _BACKUPS.reset(backups)

    models.copy = _Copy  # type: ignore[assignment]
    models.DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


def _patch_items(check: bool) -> None:
    from moto.dynamodb.exceptions import ItemSizeTooLarge
    from moto.dynamodb.models import dynamo_type
    from moto.dynamodb.models.utilities import bytesize

    Item, DynamoType, LimitedSizeDict = dynamo_type.Item, dynamo_type.DynamoType, dynamo_type.LimitedSizeDict
    original = Item.__init__

    def _item_init(self: Any, hash_key: Any, range_key: Any, attrs: dict[str, Any]) -> None:
        self.hash_key = hash_key
        self.range_key = range_key
        self.attrs = LimitedSizeDict()
        total = 0
        for key, value in attrs.items():
            typed = DynamoType(value)
            size = bytesize(key) + typed.size()
            if total + size > 405000:  # LimitedSizeDict.__setitem__'s limit, on the same sums
                raise ItemSizeTooLarge
            dict.__setitem__(self.attrs, key, typed)
            total += size
        if check:
            slow: Any = Item.__new__(Item)
            original(slow, hash_key, range_key, attrs)
            assert slow.attrs == self.attrs and list(slow.attrs) == list(self.attrs), "fastmoto: an Item differs"

    def init(self: Any, hash_key: Any, range_key: Any, attrs: dict[str, Any]) -> None:
        if type(attrs) is not dict or not all(type(k) is str for k in attrs):
            original(self, hash_key, range_key, attrs)
            return
        _item_init(self, hash_key, range_key, attrs)

    Item.__init__ = init  # type: ignore[method-assign]


def install() -> bool:
    """Patch moto (once per process); False when left as it is."""
    mode = os.environ.get("BATON_FASTMOTO", "on")
    from importlib.metadata import version

    if mode == "off" or not version("moto").startswith(TESTED_WITH) or getattr(install, "done", False):
        return False
    _patch_serializer(check=mode == "check")
    _patch_transactions(check=mode == "check")
    _patch_items(check=mode == "check")
    install.done = True  # type: ignore[attr-defined]
    return True
