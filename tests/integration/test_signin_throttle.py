"""Sign-in resists guessing (issue 23, item 6), on the local server in this process (its sign-in
function a stand-in that counts the passwords it checks; time by baton's clock, moved by the test,
never slept; no wall-clock timing asserted: the work done is compared instead).

Before: 300 wrong passwords for one user were all answered at full speed and the right one then
worked; an unknown user skipped scrypt (so existence leaked by timing); 320 concurrent wrong
passwords took every worker (an unrelated GET went from 8 ms to 2.5 s); and HTTP Basic client
credentials on /oauth/token were dropped by the local server."""

from __future__ import annotations

import base64
import json
import socket
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from baton import clock
from baton.routes import FAMILIES
from baton_local import credentials, signin_guard, tokens
from baton_local.server import running

pytestmark = pytest.mark.usefixtures("controlled_clock")


class FakeSignIn:
    """The sign-in function's stand-in: `right` is the one good password; `slow` waits for `go`."""

    def __init__(self) -> None:
        self.checked = 0  # passwords checked (each an scrypt hash in the real one)
        self.inside = 0
        self.most_inside = 0
        self.changed = threading.Condition()
        self.go = threading.Event()
        self.events: list[dict[str, Any]] = []

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        body = json.loads(event.get("body") or "{}")
        with self.changed:
            self.checked += 1
            self.inside += 1
            self.most_inside = max(self.most_inside, self.inside)
            self.events.append(event)
            self.changed.notify_all()
        try:
            if body.get("password") == "slow":
                assert self.go.wait(60)
            good = body.get("password") == "right"
            return {"statusCode": 200 if good else 401, "headers": {"Content-Type": "application/json"},
                    "body": json.dumps({"access_token": "t"} if good else {"error": "invalid_grant"})}
        finally:
            with self.changed:
                self.inside -= 1


OTHERS: list[dict[str, Any]] = []


def other(event: dict[str, Any], context: Any) -> dict[str, Any]:
    OTHERS.append(event)
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": "{}"}


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[int, FakeSignIn]]:
    fake = FakeSignIn()
    handlers = {family: fake if family == "signin" else other for family in FAMILIES}
    with running("127.0.0.1", 0, tokens.load_key(tmp_path), False, handlers=handlers, signin_slots=2) as server:
        yield server.server_address[1], fake
    fake.go.set()


def send(port: int, method: str, path: str, body: Any = None, headers: str = "") -> tuple[int, dict[str, str], bytes]:
    data = json.dumps(body).encode() if body is not None else b""
    head = (f"{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nConnection: close\r\n"
            f"{headers}Content-Length: {len(data)}\r\n\r\n").encode()
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.sendall(head + data)
        out = b""
        while chunk := sock.recv(65536):
            out += chunk
    top, _, payload = out.partition(b"\r\n\r\n")
    lines = top.decode().split("\r\n")
    fields = dict(line.lower().split(": ", 1) for line in lines[1:] if ": " in line)
    return int(lines[0].split()[1]), fields, payload


def login(port: int, user: str, password: str) -> tuple[int, dict[str, str], bytes]:
    return send(port, "POST", "/login", {"username": user, "password": password})


def test_wrong_passwords_for_one_user_back_off_and_cost_no_hashing(served: tuple[int, FakeSignIn]) -> None:
    port, fake = served
    for _ in range(signin_guard.CREDENTIAL_FREE):
        assert login(port, "alice", "wrong")[0] == 401
    assert fake.checked == signin_guard.CREDENTIAL_FREE
    status, headers, body = login(port, "alice", "wrong")
    assert status == 429 and headers["retry-after"] == "1", (status, headers)
    assert json.loads(body)["error"] == "slow_down"
    assert login(port, "alice", "right")[0] == 429  # even the right one waits: guessing gains nothing
    assert fake.checked == signin_guard.CREDENTIAL_FREE  # refused before any password was checked
    assert login(port, "bob", "wrong")[0] == 401  # another credential is not slowed down
    clock.advance(1.01)
    assert login(port, "alice", "wrong")[0] == 401
    assert login(port, "alice", "wrong")[1]["retry-after"] == "2"  # backoff doubles
    clock.advance(2.01)
    assert login(port, "alice", "right")[0] == 200  # and a success clears the count
    assert login(port, "alice", "wrong")[0] == 401


def test_wrong_passwords_from_one_source_back_off(served: tuple[int, FakeSignIn]) -> None:
    port, fake = served
    for n in range(signin_guard.SOURCE_FREE):
        assert login(port, f"user{n}", "wrong")[0] == 401
    status, headers, _ = login(port, "someone-else", "right")
    assert status == 429 and headers["retry-after"] == "1"
    assert fake.checked == signin_guard.SOURCE_FREE
    for path, body in (("/oauth/token", {"grant_type": "client_credentials", "client_id": "c", "client_secret": "x"}),
                       ("/workflow/oauth2/token", {"grant_type": "password", "username": "u", "password": "x"})):
        assert send(port, "POST", path, body)[0] == 429, path


def test_concurrent_sign_ins_take_bounded_slots_and_other_requests_go_on(served: tuple[int, FakeSignIn]) -> None:
    port, fake = served
    with ThreadPoolExecutor(8) as pool:
        pending = [pool.submit(login, port, f"slow{n}", "slow") for n in range(8)]
        with fake.changed:
            assert fake.changed.wait_for(lambda: fake.inside == 2, 60)
        # Every sign-in slot is busy hashing: the API's other requests are still answered.
        assert send(port, "GET", "/health")[0] == 200
        with fake.changed:
            assert fake.inside == 2 and fake.checked == 2  # the others wait for a slot
        fake.go.set()
        assert [p.result(60)[0] for p in pending] == [401] * 8
    assert fake.most_inside == 2 and fake.checked == 8


def test_http_basic_client_credentials_reach_the_sign_in_function(served: tuple[int, FakeSignIn], tmp_path: Path
                                                                   ) -> None:
    port, fake = served
    basic = base64.b64encode(b"itential-demo:secret").decode()
    send(port, "POST", "/oauth/token", {"grant_type": "client_credentials"}, f"Authorization: Basic {basic}\r\n")
    assert fake.events[-1]["headers"]["authorization"] == f"Basic {basic}"
    # a bearer token never reaches a function behind the authorizer (it took it)
    key = tokens.load_key(tmp_path)
    token = tokens.issue(key, user="alice", tenant="acme", roles=[])
    assert send(port, "GET", "/api/v1/tasks", headers=f"Authorization: Bearer {token}\r\n")[0] == 200
    assert "authorization" not in OTHERS[-1]["headers"]


def test_http_basic_on_oauth_token_signs_in_end_to_end(tmp_path: Path) -> None:
    """The real sign-in function and the local issuer's credentials: Basic works as the form does."""
    from baton.signin import backend as grants

    shown = credentials.ensure_demo(tmp_path)
    grants.use_backend(credentials.LocalBackend(tmp_path))
    try:
        with running("127.0.0.1", 0, tokens.load_key(tmp_path), False) as server:
            port = server.server_address[1]
            basic = base64.b64encode(f"itential-demo:{shown['itential-demo']}".encode()).decode()
            status, _, body = send(port, "POST", "/oauth/token", {"grant_type": "client_credentials"},
                                   f"Authorization: Basic {basic}\r\n")
            assert status == 200, body
            claims = tokens.verify(tokens.load_key(tmp_path), json.loads(body)["access_token"])
            assert claims["sub"] == "itential-demo" and claims["custom:tenant"] == "workflow"
            wrong = base64.b64encode(b"itential-demo:wrong").decode()
            assert send(port, "POST", "/oauth/token", {"grant_type": "client_credentials"},
                        f"Authorization: Basic {wrong}\r\n")[0] == 401
    finally:
        grants.use_backend(None)


def test_unknown_names_cost_the_same_scrypt_work_as_known_ones(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                               ) -> None:
    """No existence leak by timing: an unknown username or client id is hashed too (a dummy)."""
    credentials.ensure_demo(tmp_path)
    backend = credentials.LocalBackend(tmp_path)
    hashed: list[str] = []
    real = credentials._hash

    def counted(secret: str, salt: bytes | None = None) -> str:
        hashed.append(secret)
        return real(secret, salt)

    monkeypatch.setattr(credentials, "_hash", counted)
    attempts = [lambda: backend.password("alice", "wrong", None), lambda: backend.password("nobody", "wrong", None),
                lambda: backend.client_credentials("itential-demo", "wrong"),
                lambda: backend.client_credentials("nobody", "wrong")]
    work = []
    for attempt in attempts:
        hashed.clear()
        with pytest.raises(credentials.SignInFailed):
            attempt()
        work.append(len(hashed))
    assert work == [1, 1, 1, 1], work
