"""Bearer tokens for the local server: HS256 JWTs signed with a key kept under `.baton/`.

The local server verifies them as API Gateway's JWT authorizer verifies Cognito's tokens:
signature, issuer, audience, expiry; then it hands the claims to the function."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from pathlib import Path
from typing import Any

ISSUER = "https://baton.local"
AUDIENCE = "baton"


class InvalidToken(Exception):
    pass


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def load_key(state_dir: Path) -> bytes:
    state_dir.mkdir(parents=True, exist_ok=True)
    path = state_dir / "token.key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return bytes.fromhex(path.read_text().strip())


def issue(key: bytes, *, user: str, tenant: str, roles: list[str], username: str | None = None,
          ttl: int = 3600, now: float | None = None) -> str:
    issued = int(now if now is not None else time.time())
    claims: dict[str, Any] = {
        "iss": ISSUER, "aud": AUDIENCE, "sub": user, "username": username or user, "custom:tenant": tenant,
        "cognito:groups": roles, "iat": issued, "exp": issued + ttl, "token_use": "id",
    }
    return sign(key, claims)


def sign(key: bytes, claims: dict[str, Any]) -> str:
    head = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = _b64(json.dumps(claims, separators=(",", ":")).encode())
    sig = _b64(hmac.new(key, f"{head}.{body}".encode(), hashlib.sha256).digest())
    return f"{head}.{body}.{sig}"


def verify(key: bytes, token: str, now: float | None = None) -> dict[str, Any]:
    """Return the claims of a valid token; raise InvalidToken otherwise."""
    try:
        head, body, sig = token.split(".")
        header = json.loads(_unb64(head))
        claims = json.loads(_unb64(body))
        given = _unb64(sig)
    except (ValueError, TypeError):
        raise InvalidToken("malformed") from None
    if not isinstance(header, dict) or header.get("alg") != "HS256" or not isinstance(claims, dict):
        raise InvalidToken("algorithm")
    expected = hmac.new(key, f"{head}.{body}".encode(), hashlib.sha256).digest()
    if not hmac.compare_digest(expected, given):
        raise InvalidToken("signature")
    t = now if now is not None else time.time()
    exp = claims.get("exp")
    if not isinstance(exp, int | float) or exp <= t:
        raise InvalidToken("expired")
    if claims.get("iss") != ISSUER or claims.get("aud") != AUDIENCE:
        raise InvalidToken("issuer or audience")
    if not claims.get("sub") or not claims.get("custom:tenant"):
        raise InvalidToken("claims")
    return claims


def authorizer_claims(claims: dict[str, Any]) -> dict[str, Any]:
    """Claims as the HTTP API authorizer forwards them: arrays flattened to "[a b]", all strings."""
    out: dict[str, Any] = {}
    for k, v in claims.items():
        out[k] = "[" + " ".join(map(str, v)) + "]" if isinstance(v, list) else str(v)
    return out
