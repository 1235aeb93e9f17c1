"""The Cognito backend's client-credentials grant over HTTP, against a loopback stand-in for the
pool's token endpoint (tests/unit/test_signin.py has the trigger and the password grant)."""

from __future__ import annotations

import base64
import json
import threading
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest

from baton.signin.cognito import CognitoBackend
from baton.signin.grants import SignInFailed
from tests.support.cognito import cognito, jwt


@pytest.fixture
def token_endpoint() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A loopback stand-in for the pool domain's /oauth2/token (client credentials)."""
    seen: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            return

        def do_POST(self) -> None:  # noqa: N802
            form = dict(urllib.parse.parse_qsl(self.rfile.read(int(self.headers["Content-Length"])).decode()))
            seen.append({"path": self.path, "form": form, "auth": self.headers.get("Authorization")})
            good = self.headers.get("Authorization") == "Basic " + base64.b64encode(b"m2m:secret").decode()
            body = json.dumps({"access_token": jwt({"custom:tenant": "acme", "sub": "m2m"}), "expires_in": 3600,
                               "token_type": "Bearer"} if good else {"error": "invalid_client"}).encode()
            self.send_response(200 if good else 400)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", seen
    server.shutdown()
    server.server_close()


def test_client_credentials_through_the_pools_token_endpoint(token_endpoint: tuple[str, list[dict[str, Any]]]
                                                             ) -> None:
    url, seen = token_endpoint
    backend = CognitoBackend(cognito(), url, "pool", "pw-client")
    grant = backend.client_credentials("m2m", "secret")
    assert grant.tenant == "acme" and grant.expires_in == 3600
    assert seen[0]["path"] == "/oauth2/token"
    assert seen[0]["form"] == {"grant_type": "client_credentials", "scope": "baton/api"}
    with pytest.raises(SignInFailed) as failed:
        backend.client_credentials("m2m", "wrong")
    assert failed.value.reason == "invalid_client"
