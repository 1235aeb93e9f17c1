"""Vendor sign-in: Itential's `POST /oauth/token` (client credentials) and `POST /login`, and
ProcessMaker's `POST /{workspace}/oauth2/token` (password grant). Public routes (no authorizer):
they hand out the tokens the authorizer then accepts. See `baton.signin` for where tokens come
from (Cognito in AWS, the local issuer locally)."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Annotated, Any
from urllib.parse import parse_qsl

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path

from baton.edge import coldstart
from baton.edge.entry import FamilyRouter, lambda_entry
from baton.edge.http import JSON
from baton.edge.paths import SEGMENT
from baton.errors import BadRequest
from baton.settings import MAX_ID_LENGTH
from baton.signin import trigger
from baton.signin.backend import backend
from baton.signin.errors import SIGNIN
from baton.signin.grants import Grant, SignInFailed
from baton.text import is_text
from baton.vendors.itential import signin as itential
from baton.vendors.processmaker import signin as processmaker

router = FamilyRouter("signin", SIGNIN)
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _fields() -> dict[str, Any]:
    """The request's fields: an OAuth form or a JSON object (ProcessMaker clients send either)."""
    event = router.current_event.raw_event
    body = event.get("body") or ""
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    if "application/x-www-form-urlencoded" in headers.get("content-type", ""):
        return dict(reversed(parse_qsl(body, keep_blank_values=True)))  # the first of repeated keys
    if not body.strip():
        return {}
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):  # deep nesting, over-long integers too
        raise BadRequest("Invalid request: malformed body") from None
    if not isinstance(data, dict):
        raise BadRequest("Invalid request: the body is not an object")
    return data


def _text(fields: dict[str, Any], name: str) -> str:
    value = fields.get(name)
    if not isinstance(value, str) or not value or len(value) > 1024:
        raise BadRequest(f"Invalid request: {name} is required", reason="invalid_request")
    if not is_text(value):  # a lone surrogate ("\ud800" in JSON): no credential holds one
        raise BadRequest(f"Invalid request: {name} is not valid text", reason="invalid_request")
    return value


def _basic_auth() -> tuple[str, str] | None:
    """Client credentials in an HTTP Basic header (OAuth's preferred way to send them)."""
    headers = {k.lower(): v for k, v in (router.current_event.raw_event.get("headers") or {}).items()}
    scheme, _, value = headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        client_id, sep, secret = base64.b64decode(value, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise SignInFailed("Invalid client credentials", reason="invalid_client") from None
    return (client_id, secret) if sep and client_id else None


def _client(fields: dict[str, Any], required: bool) -> tuple[str, str] | None:
    basic = _basic_auth()
    if basic:
        return basic
    if not required and "client_id" not in fields:
        return None
    return _text(fields, "client_id"), _text(fields, "client_secret")


def _grant_type(fields: dict[str, Any], expected: str) -> None:
    given = _text(fields, "grant_type")
    if given != expected:
        raise BadRequest(f"Unsupported grant_type: only {expected}", reason="unsupported_grant_type")


def _token(grant: Grant, token_type: str) -> Response[dict[str, Any]]:
    body: dict[str, Any] = {"access_token": grant.access_token, "token_type": token_type,
                            "expires_in": grant.expires_in}
    if grant.refresh_token:
        body["refresh_token"] = grant.refresh_token
    return Response(200, JSON, body, headers=NO_STORE)


@router.handles("oauth_token", summary="Itential: sign in with client credentials", tags=["Sign-in"], security=[])
def oauth_token() -> Response[dict[str, Any]]:
    fields = _fields()
    _grant_type(fields, "client_credentials")
    client = _client(fields, required=True)
    assert client is not None
    return _token(backend().client_credentials(*client), itential.TOKEN_TYPE)


@router.handles("login", summary="Itential: sign in with username and password (the token as text)",
             tags=["Sign-in"], security=[], responses={200: {"description": "The token", "content": {
                 "text/plain": {"schema": {"type": "string"}}}}})
def login() -> Response[str]:
    fields = _fields()
    user = itential.login_user(fields)
    username, password = _text(user, "username"), _text(user, "password")
    grant = backend().password(username, password, None)
    return Response(200, "text/plain", grant.access_token, headers=NO_STORE)


@router.handles("processmaker_token", summary="ProcessMaker: sign in with the password grant",
             tags=["Sign-in"], security=[])
def processmaker_token(workspace: Annotated[str, SEGMENT, Path(min_length=1, max_length=MAX_ID_LENGTH)]
                       ) -> Response[dict[str, Any]]:
    fields = _fields()
    _grant_type(fields, "password")
    client = _client(fields, required=True)
    username, password = _text(fields, "username"), _text(fields, "password")
    grant = processmaker.for_workspace(backend().password(username, password, client), workspace)
    return _token(grant, processmaker.TOKEN_TYPE)


lambda_handler = lambda_entry(router, json_only=False)


def pre_token_generation(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The user pool's trigger (infra/signin.py)."""
    try:
        return trigger.pre_token_generation(event, context)
    finally:
        coldstart.resume()  # as after any function's first answer (see baton/edge/coldstart.py)
