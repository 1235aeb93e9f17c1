"""The opaque cursors the listings hand out, and their checks: a cursor that points outside the
listing it is given to is a 400, never a read of someone else's data.

- a page cursor is a Query's LastEvaluatedKey (base64 JSON), checked against the partition and
  sort-key region it is used on;
- a merged listing's position is the last sort key returned and a fingerprint of the listing
  (tenant, kind, user, status), so it resumes only the listing that made it. The fingerprint
  is an HMAC keyed by the deployment's secret (settings.cursor_key), so no caller can compute
  the fingerprint of a listing that did not hand the cursor out.

Every string a cursor decodes to must be text (a lone surrogate, `"\\ud800"` in its JSON, is a 400).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from typing import Any, cast

from baton.errors import BadRequest
from baton.settings import get_settings
from baton.table import PK, SK
from baton.text import all_text


def encode_cursor(key: dict[str, Any] | None) -> str | None:
    if not key:
        return None
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode()


def decode_cursor(cursor: str | None, partition_attr: str, partition: str, sort_prefix: str = ""
                  ) -> dict[str, Any] | None:
    """Decode a cursor, and refuse one that points outside the partition being listed, lacks a
    key of the table or index listed, or names a sort key outside the listed range."""
    if not cursor:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, binascii.Error, UnicodeDecodeError, RecursionError):
        raise BadRequest("Invalid cursor") from None
    # The table's keys, plus the index's own when an index is listed (gsiNpk / gsiNsk).
    expected = {PK, SK} if partition_attr == PK else {PK, SK, partition_attr,
                                                      partition_attr.removesuffix("pk") + "sk"}
    ok = (
        isinstance(key, dict)
        and set(key) == expected
        and all(isinstance(v, dict) and set(v) == {"S"} and isinstance(v["S"], str) and v["S"] for v in key.values())
        and all_text(key)
        and key[partition_attr]["S"] == partition
        and (partition_attr != PK or key[SK]["S"].startswith(sort_prefix))
    )
    if not ok:
        raise BadRequest("Invalid cursor")
    return key


def cursor_after(item: dict[str, Any]) -> str | None:
    """The page cursor that resumes right after this (table) item."""
    return encode_cursor({k: item[k] for k in (PK, SK)})


def sort_key_of(cursor: str | None) -> str | None:
    """The table sort key a page cursor resumes after, unchecked (None if it has none); the
    page read refuses a bad cursor, this only peeks."""
    if not cursor:
        return None
    try:
        sk = json.loads(base64.urlsafe_b64decode(cursor.encode()))[SK]["S"]
    except (ValueError, KeyError, TypeError, binascii.Error, RecursionError):
        return None
    return sk if isinstance(sk, str) and all_text(sk) else None


def fingerprint(*parts: str | None) -> str:
    """Which listing a position belongs to: an HMAC of its parts under the deployment's key."""
    key = get_settings().cursor_key
    if not key:
        raise RuntimeError("BATON_CURSOR_KEY is not set: cursors are keyed by a per-deployment secret")
    return hmac.new(key.encode(), json.dumps(parts).encode(), hashlib.sha256).hexdigest()[:32]


def encode_position(sort_key: str | None, fingerprint: str) -> str | None:
    """A merged listing's cursor: the last sort key returned, and which listing it belongs to."""
    if sort_key is None:
        return None
    return base64.urlsafe_b64encode(json.dumps({"a": sort_key, "h": fingerprint}, separators=(",", ":"))
                                    .encode()).decode()


def decode_position(cursor: str | None, fingerprint: str, region: str | None) -> str | None:
    """The sort key a merged listing's cursor resumes after; a cursor of another listing (or
    tenant, or user), or one outside the listing's key region, is a 400."""
    if not cursor:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, binascii.Error, UnicodeDecodeError, RecursionError):
        raise BadRequest("Invalid cursor") from None
    ok = (isinstance(data, dict) and set(data) == {"a", "h"} and isinstance(data["h"], str)
          and hmac.compare_digest(data["h"].encode("utf-8", "replace"), fingerprint.encode())
          and isinstance(data["a"], str) and all_text(data["a"]) and 0 < len(data["a"].encode()) <= 1024
          and (region is None or data["a"].startswith(region)))
    if not ok:
        raise BadRequest("Invalid cursor")
    return cast(str, data["a"])
