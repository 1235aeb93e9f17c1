"""The local server speaks HTTP as API Gateway does: framing, time-outs, the v2 event it builds
(decoded path parameters, joined repeated query parameters) and the JWT authorizer's checks.

The server runs in-process on a real socket; the functions are replaced by a recorder (what
reaches them is the point here), so no table is needed."""

from __future__ import annotations

import json
import logging
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import OctKey, RSAKey

from baton.routes import FAMILIES
from baton_local import tokens
from baton_local.server import running


class Recorder:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        self.events.append(event)
        return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": '{"ok": true}'}


@pytest.fixture(scope="module")
def key(tmp_path_factory: pytest.TempPathFactory) -> RSAKey:
    return tokens.load_key(tmp_path_factory.mktemp("keys"))


@pytest.fixture
def served(key: RSAKey) -> Iterator[tuple[int, Recorder]]:
    recorder = Recorder()
    with running("127.0.0.1", 0, key, False, idle_timeout=0.5,
                 handlers=dict.fromkeys(FAMILIES, recorder)) as server:
        yield server.server_address[1], recorder


def exchange(port: int, raw: bytes, wait: float = 5) -> bytes:
    """Send raw bytes, return everything the server answers until it closes the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as sock:
        sock.sendall(raw)
        out = b""
        while chunk := sock.recv(65536):
            out += chunk
        return out


def status_of(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


def good_token(key: RSAKey, **changes: Any) -> str:
    now = int(time.time())
    claims = {"iss": tokens.ISSUER, "aud": tokens.AUDIENCE, "sub": "alice", "custom:tenant": "acme",
              "iat": now, "exp": now + 600, "baton:roles": '["operations"]', **changes}
    return tokens.sign(key, {k: v for k, v in claims.items() if v is not None})


def get(port: int, path: str, tok: str | None = None, extra: str = "") -> bytes:
    auth = f"Authorization: Bearer {tok}\r\n" if tok else ""
    return exchange(port, f"GET {path} HTTP/1.1\r\nHost: x\r\n{auth}{extra}\r\n".encode())


@pytest.mark.parametrize("length", ["abc", "-1", "1e3", "+5", "0x10", "１２", "99999999999999999999"])
def test_bad_content_length_is_400(served: tuple[int, Recorder], length: str) -> None:
    port, recorder = served
    answer = exchange(port, f"POST /health HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n\r\n{{}}".encode())
    assert status_of(answer) in (400, 413), answer
    assert recorder.events == []


def test_content_length_and_chunked_together_is_400(served: tuple[int, Recorder]) -> None:
    port, recorder = served
    answer = exchange(port, b"POST /health HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
                            b"Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n")
    assert status_of(answer) == 400 and recorder.events == []


def test_a_short_body_times_out_with_408(served: tuple[int, Recorder], key: RSAKey) -> None:
    port, recorder = served
    started = time.monotonic()
    answer = exchange(port, f"POST /api/v1/tasks HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {good_token(key)}\r\n"
                            "Content-Length: 100\r\n\r\n{\"name\":".encode())
    assert status_of(answer) == 408, answer
    assert time.monotonic() - started < 4
    assert recorder.events == []


def test_chunked_bodies_reach_the_function(served: tuple[int, Recorder], key: RSAKey) -> None:
    port, recorder = served
    answer = exchange(port, f"POST /api/v1/tasks HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {good_token(key)}\r\n"
                            "Transfer-Encoding: chunked\r\n\r\n8\r\n{\"name\":\r\n6\r\n\"two\"}\r\n0\r\n\r\n".encode())
    assert status_of(answer) == 200, answer
    assert json.loads(recorder.events[-1]["body"]) == {"name": "two"}


def test_idle_connections_are_closed(served: tuple[int, Recorder]) -> None:
    port, _ = served
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        assert sock.recv(100) == b""  # nothing sent: the server gives up on us
    assert time.monotonic() - started < 4


def test_path_parameters_are_decoded_and_queries_joined(served: tuple[int, Recorder], key: RSAKey) -> None:
    port, recorder = served
    answer = get(port, "/api/v1/tasks/a%20b%22%5C%60%C3%A9/history?limit=5&cursor=x&cursor=y", good_token(key))
    assert status_of(answer) == 200, answer
    event = recorder.events[-1]
    assert event["pathParameters"] == {"taskId": 'a b"\\`é'}
    assert event["rawPath"] == '/api/v1/tasks/a b"\\`é/history'
    assert event["queryStringParameters"] == {"limit": "5", "cursor": "x,y"}
    assert event["rawQueryString"] == "limit=5&cursor=x&cursor=y"


def test_public_and_local_routes(served: tuple[int, Recorder], key: RSAKey) -> None:
    port, _ = served
    assert status_of(get(port, "/health")) == 200
    assert status_of(get(port, "/nowhere")) == 404
    answer = get(port, "/.well-known/jwks.json")
    assert status_of(answer) == 200
    keys = json.loads(answer.split(b"\r\n\r\n", 1)[1])["keys"]
    assert [k["kid"] for k in keys] == [key.kid] and "d" not in keys[0]  # public half only
    assert tokens.verify(json.loads(answer.split(b"\r\n\r\n", 1)[1]), good_token(key))["sub"] == "alice"


def _challenge(answer: bytes) -> str:
    head, body = answer.split(b"\r\n\r\n", 1)
    assert status_of(answer) == 401 and json.loads(body) == {"message": "Unauthorized"}, answer
    lines = {k.lower(): v for k, _, v in (ln.partition(": ") for ln in head.decode().split("\r\n")[1:])}
    return lines["www-authenticate"]


def test_401_says_why_and_logs_it(served: tuple[int, Recorder], key: RSAKey, tmp_path: Path) -> None:
    port, recorder = served
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign,assignment]
    log = logging.getLogger("baton.local.server")
    log.addHandler(handler)
    old_level = log.level
    log.setLevel(logging.INFO)
    try:
        other = tokens.load_key(tmp_path)
        cases = {
            "expired": good_token(key, exp=int(time.time()) - 5),
            "signature": good_token(key)[:-8] + good_token(other).split(".")[2][:8],
            "missing claim": good_token(key, **{"custom:tenant": None}),
        }
        wanted = {"expired": "has expired", "signature": "signature", "missing claim": "no custom:tenant claim"}
        for name, tok in cases.items():
            challenge = _challenge(get(port, "/api/v1/tasks", tok))
            assert challenge.startswith('Bearer error="invalid_token", error_description="'), challenge
            assert wanted[name] in challenge, (name, challenge)
        assert _challenge(get(port, "/api/v1/tasks")) == "Bearer"  # no token: nothing to explain
    finally:
        log.removeHandler(handler)
        log.setLevel(old_level)
    reasons = [getattr(r, "reason", "") for r in records if r.levelno == logging.INFO]
    assert len(reasons) == 4 and "the token has expired" in reasons and "no bearer token" in reasons
    assert recorder.events == []


def test_jwt_checks_match_api_gateway(served: tuple[int, Recorder], key: RSAKey, tmp_path: Path) -> None:
    port, recorder = served
    now = int(time.time())
    accepted = [good_token(key), good_token(key, aud=["other", tokens.AUDIENCE]), good_token(key, nbf=now - 5)]
    for tok in accepted:
        assert status_of(get(port, "/api/v1/tasks", tok)) == 200, tok
    valid = good_token(key)
    head, body, sig = valid.split(".")
    hs256 = jwt.encode({"alg": "HS256", "kid": key.kid}, {"sub": "alice"}, OctKey.import_key("s" * 32),
                       algorithms=["HS256"])
    none_alg = head.replace(head, "eyJhbGciOiJub25lIn0") + "." + body + "."
    refused = [
        good_token(key, nbf=now + 60),  # not yet valid
        good_token(key, aud=["other"]), good_token(key, aud="other"), good_token(key, aud=None),
        good_token(key, iss="https://elsewhere"), good_token(key, exp=None), good_token(key, iat=now + 600),
        f"{head}.{body}.{sig}=", f"{head}.{body}.{sig}==", f"{head}.{body}.{sig}!", f" {valid}x",
        f"{head}.{body}.{sig[:-1]}{chr(ord(sig[-1]) ^ 1)}",  # the same bytes under a non-canonical tail, or others
        f"{head}=.{body}.{sig}", hs256, none_alg, tokens.sign(tokens.load_key(tmp_path), {"sub": "x"}),
        "a.b.c", "", "....",
    ]
    for tok in refused:
        answer = get(port, "/api/v1/tasks", tok) if tok.strip() else get(port, "/api/v1/tasks", extra="")
        assert status_of(answer) == 401, tok
    assert len(recorder.events) == len(accepted)


# ---- issue 23, item 7 (and 5: the demo sign-in) ---------------------------------------------------

def test_two_content_lengths_are_400(served: tuple[int, Recorder], key: RSAKey) -> None:
    """Before: the last one framed the body (or the server waited 30 s for bytes never sent)."""
    port, recorder = served
    tok = good_token(key)
    for first, second in (("2", "10"), ("10", "2"), ("2", "2")):
        answer = exchange(port, (f"POST /api/v1/tasks HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {tok}\r\n"
                                 f"Content-Length: {first}\r\nContent-Length: {second}\r\n\r\n{{}}").encode())
        assert status_of(answer) == 400, answer
    assert recorder.events == []


def test_a_token_without_kid_or_with_a_blank_sub_is_401(served: tuple[int, Recorder], key: RSAKey) -> None:
    port, recorder = served
    now = int(time.time())
    claims = {"iss": tokens.ISSUER, "aud": tokens.AUDIENCE, "sub": "alice", "custom:tenant": "acme",
              "iat": now, "exp": now + 600}
    no_kid = jwt.encode({"alg": "RS256"}, claims, key, algorithms=["RS256"])
    for tok in (no_kid, good_token(key, sub=" "), good_token(key, **{"custom:tenant": " "}),
                ascii_token(key, {**claims, "custom:tenant": "\ud800bad"}),
                ascii_token(key, {**claims, "sub": "\udfff"})):
        assert status_of(get(port, "/api/v1/tasks", tok)) == 401, tok
    assert recorder.events == []


def ascii_token(key: RSAKey, claims: dict[str, Any]) -> str:
    """A signed token whose JSON is ASCII (`\\ud800` escaped), as a forger would write a lone surrogate."""
    from joserfc import jws

    return jws.serialize_compact({"alg": "RS256", "kid": key.kid}, json.dumps(claims).encode(), key,
                                 algorithms=["RS256"])


def test_answers_of_the_server_itself_are_nosniff_and_no_store(served: tuple[int, Recorder], key: RSAKey) -> None:
    """(The functions' own answers: tests/unit/test_hardening_input.py.)"""
    port, _ = served
    for answer in (get(port, "/api/v1/tasks"),
                   get(port, "/nowhere"), get(port, "/.well-known/jwks.json")):
        head = answer.split(b"\r\n\r\n")[0].lower()
        assert b"x-content-type-options: nosniff" in head and b"cache-control: no-store" in head, head


def test_a_deeply_nested_demo_token_request_is_400(served: tuple[int, Recorder]) -> None:
    """Before: RecursionError, werkzeug's HTML 500."""
    port, _ = served
    for body in ("[" * 5000 + "]" * 5000, '{"user": ' + "[" * 5000 + "]" * 5000 + "}"):
        answer = exchange(port, (f"POST /local/demo-token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json"
                                 f"\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n{body}").encode())
        assert status_of(answer) == 400, answer[:200]
