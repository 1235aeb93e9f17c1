"""Bearer tokens for the local server: RS256 JWTs, verified against a JWKS, as Cognito's are.

The local issuer keeps one RSA key under `.baton/` and publishes its public half as a JWKS
(the local server serves it at `/.well-known/jwks.json`). `verify` checks a token as API
Gateway's JWT authorizer checks Cognito's: RS256 only, a `kid` found in the JWKS, the
signature, `iss`, `aud` (a string or a list holding the audience), `exp`, `nbf`, `iat`, and
the claims Baton needs. Signing and verification are joserfc's; this module only adds the
canonical-encoding check (a token is accepted in exactly one spelling).

`issue(...)` is the one way tokens are minted locally (the CLI, the sign-in routes, tests).
"""

from __future__ import annotations

import binascii
import json
import re
import time
from pathlib import Path
from typing import Any

from joserfc import jwt
from joserfc.errors import (
    BadSignatureError,
    ExpiredTokenError,
    InvalidClaimError,
    JoseError,
    MissingClaimError,
)
from joserfc.jwk import KeySet, RSAKey
from joserfc.jwt import ClaimsOption

from baton.edge.auth import ROLES_CLAIM, roles_claim
from baton.text import is_text

ISSUER = "https://baton.local"
AUDIENCE = "baton"
ALGORITHM = "RS256"
KEY_FILE = "token-rsa.json"
REQUIRED = ("sub", "custom:tenant")
# A compact JWS in canonical base64url: three segments of the URL-safe alphabet, no padding.
_SEGMENT = re.compile(r"[A-Za-z0-9_-]+")


class InvalidToken(Exception):
    """A token the authorizer refuses; `str(err)` says why (for `WWW-Authenticate` and the log)."""


def load_key(state_dir: Path) -> RSAKey:
    """The local issuer's private key, created on first use (kept 0600 under the state dir)."""
    state_dir.mkdir(parents=True, exist_ok=True)
    path = state_dir / KEY_FILE
    if path.exists():
        key = RSAKey.import_key(json.loads(path.read_text()))
    else:
        key = RSAKey.generate_key(2048, parameters={"use": "sig", "alg": ALGORITHM}, auto_kid=True)
        path.write_text(json.dumps(key.as_dict(private=True)))
        path.chmod(0o600)
    return key


def jwks(key: RSAKey) -> dict[str, Any]:
    """The public JWKS, as Cognito publishes at `<issuer>/.well-known/jwks.json`."""
    return dict(KeySet([key]).as_dict(private=False))


def issue(key: RSAKey, *, user: str, tenant: str, roles: list[str], username: str | None = None,
          ttl: int = 3600, now: float | None = None) -> str:
    """An ID token as the Cognito user pool issues it (with the `baton:roles` claim its
    pre-token-generation trigger adds: see `baton.edge.auth`)."""
    issued = int(now if now is not None else time.time())
    claims: dict[str, Any] = {
        "iss": ISSUER, "aud": AUDIENCE, "sub": user, "username": username or user, "custom:tenant": tenant,
        "cognito:groups": list(roles), ROLES_CLAIM: roles_claim(roles), "iat": issued, "exp": issued + ttl,
        "token_use": "id",
    }
    return sign(key, claims)


def sign(key: RSAKey, claims: dict[str, Any]) -> str:
    """Sign any claims (tests craft tokens lacking a claim with it)."""
    return jwt.encode({"alg": ALGORITHM, "kid": key.kid}, dict(claims), key, algorithms=[ALGORITHM])


def verify(keys: RSAKey | dict[str, Any], token: str, now: float | None = None) -> dict[str, Any]:
    """The claims of a valid token; InvalidToken (saying why) otherwise. `keys` is the issuer's
    key or a JWKS document."""
    key_set = KeySet.import_key_set(keys) if isinstance(keys, dict) else KeySet([keys])  # type: ignore[arg-type]
    parts = token.split(".")
    if len(parts) != 3 or not all(_SEGMENT.fullmatch(p) for p in parts):
        raise InvalidToken("the token is not a compact JWS")
    try:
        decoded = jwt.decode(token, key_set, algorithms=[ALGORITHM])
    except BadSignatureError:
        raise InvalidToken("the token's signature is invalid") from None
    except binascii.Error:  # joserfc's strict base64url: padding, stray bits
        raise InvalidToken("the token is not canonical base64url") from None
    except ValueError:  # joserfc's answer to a kid the JWKS does not hold
        raise InvalidToken("the token's kid is not in the issuer's JWKS") from None
    except (JoseError, TypeError) as err:
        raise InvalidToken(f"the token could not be decoded ({type(err).__name__})") from None
    if decoded.header.get("alg") != ALGORITHM:
        raise InvalidToken(f"signing method {decoded.header.get('alg')} is invalid")
    if not isinstance(decoded.header.get("kid"), str) or not decoded.header["kid"]:
        raise InvalidToken("the token has no kid")  # a known kid, as API Gateway requires
    kids = {k.kid for k in key_set.keys}
    if decoded.header["kid"] not in kids:
        raise InvalidToken("the token's kid is not in the issuer's JWKS")
    claims = decoded.claims
    registry = jwt.JWTClaimsRegistry(
        now=int(now if now is not None else time.time()), leeway=0,
        iss={"essential": True, "value": ISSUER}, aud={"essential": True, "value": AUDIENCE},
        exp={"essential": True}, **{name: ClaimsOption(essential=True) for name in REQUIRED})
    try:
        registry.validate(claims)
    except ExpiredTokenError:
        raise InvalidToken("the token has expired") from None
    except MissingClaimError as err:
        raise InvalidToken(f"the token has no {err.claim} claim") from None
    except InvalidClaimError as err:
        raise InvalidToken(f"the token's {err.claim} claim is invalid") from None
    except (JoseError, ValueError, TypeError) as err:  # nbf in the future, odd types
        raise InvalidToken(f"the token is not valid ({type(err).__name__})") from None
    for name in REQUIRED:  # a blank user or tenant is none; a lone surrogate is no text
        value = claims[name]
        if not isinstance(value, str) or not value.strip():
            raise InvalidToken(f"the token's {name} claim is blank")
        if not is_text(value):
            raise InvalidToken(f"the token's {name} claim is not valid text")
    return claims


def authorizer_claims(claims: dict[str, Any]) -> dict[str, Any]:
    """Claims as the HTTP API authorizer forwards them: arrays flattened to "[a b]", all strings."""
    out: dict[str, Any] = {}
    for k, v in claims.items():
        out[k] = "[" + " ".join(map(str, v)) + "]" if isinstance(v, list) else str(v)
    return out
