"""A bounded schemathesis pass against `baton serve` (the long one is `make fuzz`), and a byte-level
pass with what schemathesis does not send: lone surrogates in every text position and duplicate
headers (issue 23)."""

from __future__ import annotations

import base64
import contextlib
import json
import re
import socket
import time
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from baton.edge.auth import ROLES_CLAIM
from baton.routes import ROUTES
from baton_local import tokens
from baton_local.ddblocal import DynamoDBLocal
from tests.fuzz import CHECKS, run
from tests.support.localserver import Server, on_engine, request, token

pytestmark = [pytest.mark.ddblocal, pytest.mark.xdist_group("fuzz")]


def test_schemathesis_finds_nothing(tmp_path: Path, ddb_local: DynamoDBLocal) -> None:
    # One worker thread: hypothesis describes filter lambdas with ast.parse, which Python 3.11.7
    # can fail from two threads at once ("AST constructor recursion depth mismatch", CPython
    # gh-106905), a failure of the tool, not of Baton.
    result = run(max_examples=6, seed=20261123, state=tmp_path, serve=on_engine(ddb_local), workers=1)
    report = result.stdout + result.stderr
    assert result.returncode == 0, report[-20000:]
    # It really ran: every operation of the document, with every check.
    documented = sum(1 for r in ROUTES if not r.page)
    selected = re.search(r"Selected: (\d+)/(\d+)", report)
    assert selected and selected[1] == selected[2] and f"Tested: {selected[1]}" in report, report[-3000:]
    # every operation of the document but the one serving the document itself
    assert int(selected[1]) >= documented - 1, (selected[0], documented)
    assert "generated" in report
    assert "not_a_server_error" in CHECKS and "response_schema_conformance" in CHECKS


# ---- byte level: lone surrogates in every text position, duplicate headers (issue 23) ----------------

SURROGATES = st.sampled_from(["\ud800", "\udfff", "\udbff", "\udc00", "\ud83d"])
TEXT = st.one_of(st.text(max_size=6), st.builds(lambda a, s, b: a + s + b, st.text(max_size=3), SURROGATES,
                                                 st.text(max_size=3)), st.sampled_from([".", "..", " ", "workflow"]))
DUPLICATES = {  # header lines sent twice (or clashing), as a hostile client or a confused proxy would
    "content-length": lambda n: [f"Content-Length: {n}", f"Content-Length: {n + 1}"],
    "same-length": lambda n: [f"Content-Length: {n}", f"Content-Length: {n}"],
    "chunked-too": lambda n: [f"Content-Length: {n}", "Transfer-Encoding: chunked"],
    "authorization": lambda n: ["Authorization: Bearer x.y.z"],
    "content-type": lambda n: ["Content-Type: text/plain"],
    "host": lambda n: ["Host: evil.example"],
    "if-match": lambda n: ['If-Match: "1"', 'If-Match: "2"'],
}


def _signed(key: Any, claims: dict[str, Any]) -> str:
    """A token signed by the server's key whose JSON is ASCII: a lone surrogate written `\\ud800`."""
    from joserfc import jws

    return jws.serialize_compact({"alg": "RS256", "kid": key.kid}, json.dumps(claims).encode(), key,
                                 algorithms=["RS256"])


def _cursor(data: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode()


@st.composite
def hostile_requests(draw: st.DrawFn, key: Any) -> tuple[bytes, str]:
    route = draw(st.sampled_from([r for r in ROUTES if not r.page]))
    raw_path = b""
    for part in route.path.split("/")[1:]:
        if part.startswith("{"):
            value = draw(TEXT)
            encoded = quote(value, safe="", errors="surrogatepass") if draw(st.booleans()) else \
                value.encode("utf-8", "surrogatepass").replace(b"/", b"%2F").replace(b" ", b"%20").replace(
                    b"?", b"%3F").replace(b"#", b"%23").replace(b"\r", b"").replace(b"\n", b"")
            raw_path += b"/" + (encoded.encode() if isinstance(encoded, str) else encoded)
        else:
            raw_path += b"/" + part.encode()
    cursor = draw(st.one_of(
        st.builds(lambda a, h: _cursor({"a": a, "h": h}), TEXT, TEXT),
        st.builds(lambda pk, sk: _cursor({"pk": {"S": pk}, "sk": {"S": sk}}), TEXT, TEXT), TEXT))
    query = "?" + urlencode({"cursor": cursor.encode("utf-8", "surrogatepass"),
                             "assignee": draw(TEXT).encode("utf-8", "surrogatepass")}) if draw(st.booleans()) else ""
    tenant, sub = draw(st.one_of(st.just("workflow"), TEXT)), draw(st.one_of(st.just("root"), TEXT))
    now = int(time.time())
    token = _signed(key, {"iss": tokens.ISSUER, "aud": tokens.AUDIENCE, "sub": sub, "custom:tenant": tenant,
                          "iat": now, "exp": now + 600, ROLES_CLAIM: '["admin","PM_FACTORY"]'})
    text = {name: draw(TEXT) for name in ("id", "name", "comment", "username", "password", "client_id")}
    body_value: Any = {**text, "candidateUsers": [draw(TEXT)], "newStepUserIds": [draw(TEXT)],
                       "grant_type": draw(st.sampled_from(["password", "client_credentials"])),
                       "members": [draw(TEXT)], "aas_uid": draw(TEXT), "aas_type": "user"}
    body_value = {k: v for k, v in body_value.items() if draw(st.booleans())}
    body = json.dumps(body_value).encode() if route.method in ("POST", "PUT", "PATCH") else b""
    extra = DUPLICATES[draw(st.sampled_from(sorted(DUPLICATES)))](len(body)) if draw(st.booleans()) else []
    lines = [f"{route.method} ".encode() + raw_path + query.encode() + b" HTTP/1.1", b"Host: 127.0.0.1",
             f"Authorization: Bearer {token}".encode(), b"Content-Type: application/json",
             f"Content-Length: {len(body)}".encode(), b"Connection: close", *(e.encode() for e in extra)]
    if any(e.startswith("Content-Length") for e in extra):
        lines.remove(f"Content-Length: {len(body)}".encode())
    return b"\r\n".join(lines) + b"\r\n\r\n" + body, f"{route.method} {route.path} {extra}"


def _exchange(port: int, raw: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.sendall(raw)
        out = b""
        with contextlib.suppress(ConnectionResetError):
            while chunk := sock.recv(65536):
                out += chunk
        return out


def test_lone_surrogates_and_duplicate_headers_are_never_a_5xx(tmp_path: Path, ddb_local: DynamoDBLocal) -> None:
    """Byte-level requests to `baton serve`: lone surrogates in the tenant claim and the user (in
    signed tokens), in path ids (percent-encoded and raw), in cursors (inside their base64 JSON)
    and query values, in every text field of a body; `.` and `..` as ids; headers sent twice or
    clashing. No answer is a 5xx, and afterwards the event feed still delivers (a poison record
    would have stopped it for everyone) and the server still answers."""
    server = Server(tmp_path, *on_engine(ddb_local), "--idle-timeout", "3").start()
    try:
        key = tokens.load_key(server.state)
        port = server.port
        seen: list[tuple[int, str]] = []

        @settings(max_examples=200, derandomize=True, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(hostile_requests(key))
        def probe(request: tuple[bytes, str]) -> None:
            raw, what = request
            answer = _exchange(port, raw)
            status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else 0
            seen.append((status, what))
            assert 100 <= status < 500, (status, what, answer[:300])

        probe()
        assert len({what.split(" [")[0] for _, what in seen}) > 20  # many routes were probed
        assert any(status == 400 for status, _ in seen) and any(status == 401 for status, _ in seen)
        admin = token(server.state, "root", "admin")
        assert request(server.base, "GET", "/health")[0] == 200
        # The feed still delivers: a new task's event reaches a client.
        feed = urllib.request.urlopen(urllib.request.Request(
            server.base + "/local/events", headers={"Authorization": f"Bearer {admin}"}), timeout=60)
        status, _ = request(server.base, "POST", "/api/v1/tasks", admin, {"id": "after-fuzz", "name": "After"})
        assert status == 201
        for line in feed:
            if line.startswith(b"data:") and b'"subject":"after-fuzz"' in line:
                break
        feed.close()
    finally:
        server.stop()
