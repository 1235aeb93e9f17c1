"""Sign-in throttling for the local server (in AWS the user pool does it: Cognito's own
throttling and threat protection).

Wrong credentials cost the caller more each time: after `CREDENTIAL_FREE` failures for one
username or client id, and after `SOURCE_FREE` failures from one address, further sign-ins for it
are refused at once with 429 and `Retry-After` (1 s, doubling per further failure, at most
`MAX_BACKOFF`), without any password being hashed; a success clears its credential's count.
Time is baton's clock (tests move it). And sign-ins share a bounded number of slots (`slots`):
a flood of wrong passwords, each an scrypt hash of about 50 ms in a worker, waits for those slots
instead of taking every worker from the API's other requests."""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import math
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from baton import clock

CREDENTIAL_FREE = 5  # failures of one credential before it is slowed down
SOURCE_FREE = 20  # failures from one address before it is slowed down
BASE_BACKOFF = 1.0  # seconds, doubled per failure beyond the free ones
MAX_BACKOFF = 900.0
MAX_TRACKED = 10_000  # entries kept (expired ones are dropped first)
SLOT_WAIT = 30.0  # seconds a sign-in waits for a hashing slot before a 429


@dataclass
class _Record:
    failures: int = 0
    until: float = 0.0  # epoch seconds before which this key is refused


class Busy(Exception):
    """No hashing slot came free in time."""


class SignInGuard:
    def __init__(self, slots: int = 2) -> None:
        self.slots = threading.BoundedSemaphore(max(1, slots))
        self.size = max(1, slots)
        self.lock = threading.Lock()
        self.records: dict[tuple[str, str], _Record] = {}
        self.inside = 0  # sign-ins being handled now (at most `size`)

    @staticmethod
    def keys(credential: str | None, source: str | None) -> list[tuple[str, str]]:
        keys = [("source", source or "-")]
        if credential:
            keys.append(("credential", credential))
        return keys

    def retry_after(self, keys: list[tuple[str, str]]) -> int | None:
        """Seconds to wait before these keys may sign in again, or None: go ahead."""
        now = clock.current().timestamp()
        with self.lock:
            waits = [r.until - now for k in keys if (r := self.records.get(k)) and r.until > now]
        return max(1, math.ceil(max(waits))) if waits else None

    def record(self, keys: list[tuple[str, str]], succeeded: bool) -> None:
        now = clock.current().timestamp()
        with self.lock:
            if succeeded:
                for key in keys:
                    if key[0] == "credential":
                        self.records.pop(key, None)
                return
            if len(self.records) >= MAX_TRACKED:
                for key in [k for k, r in self.records.items() if r.until <= now]:
                    del self.records[key]
                if len(self.records) >= MAX_TRACKED:  # all blocked: forget the oldest half
                    for key in list(self.records)[: MAX_TRACKED // 2]:
                        del self.records[key]
            for key in keys:
                record = self.records.setdefault(key, _Record())
                record.failures += 1
                free = CREDENTIAL_FREE if key[0] == "credential" else SOURCE_FREE
                beyond = record.failures - free
                if beyond >= 0:
                    record.until = now + min(MAX_BACKOFF, BASE_BACKOFF * 2 ** min(beyond, 20))

    @contextlib.contextmanager
    def slot(self) -> Iterator[None]:
        """One of the bounded sign-in slots, for one sign-in; Busy when none frees up in time."""
        if not self.slots.acquire(timeout=SLOT_WAIT):
            raise Busy
        with self.lock:
            self.inside += 1
        try:
            yield
        finally:
            with self.lock:
                self.inside -= 1
            self.slots.release()


def credential_of(route: str, body: bytes, headers: dict[str, str]) -> str | None:
    """The username or client id a sign-in request names (read as the sign-in routes read it:
    an OAuth form or a JSON object, a client in HTTP Basic), or None when it names none."""
    scheme, _, value = (headers.get("authorization") or "").partition(" ")
    if route == "oauth_token" and scheme.lower() == "basic":
        try:
            client, sep, _ = base64.b64decode(value, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return None
        return f"client:{client}" if sep and client else None
    fields: Any
    try:
        text = body.decode()
        if "application/x-www-form-urlencoded" in (headers.get("content-type") or ""):
            fields = dict(reversed(parse_qsl(text, keep_blank_values=True)))
        else:
            fields = json.loads(text) if text.strip() else {}
    except (ValueError, RecursionError):
        return None
    if not isinstance(fields, dict):
        return None
    if route == "oauth_token":
        name, kind = fields.get("client_id"), "client"
    else:
        user = fields.get("user", fields) if route == "login" else fields
        name, kind = (user.get("username") if isinstance(user, dict) else None), "user"
    return f"{kind}:{name}" if isinstance(name, str) and name else None
