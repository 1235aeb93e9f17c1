"""API Gateway HTTP API (payload 2.0) events, as API Gateway would hand them to a function."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any
from urllib.parse import urlencode

from baton.routes import Route


def http_event(method: str, path: str, *, route: Route | None = None, body: Any = None,
               query: dict[str, str] | None = None, headers: dict[str, str] | None = None,
               claims: dict[str, Any] | None = None, path_params: dict[str, str] | None = None,
               raw_query: str | None = None) -> dict[str, Any]:
    """`path` as API Gateway delivers it (percent-decoded, as are the path parameters); `query`
    with repeated names already joined by commas; `raw_query` the query string as sent."""
    if body is not None and not isinstance(body, str | bytes):
        body = json.dumps(body)
    if isinstance(body, bytes):
        body = body.decode("utf-8", errors="replace")
    hdrs = {k.lower(): v for k, v in (headers or {}).items()}
    if body is not None:
        hdrs.setdefault("content-type", "application/json")
    request_context: dict[str, Any] = {
        "accountId": "000000000000", "apiId": "local", "domainName": "localhost", "domainPrefix": "localhost",
        "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1",
                 "userAgent": hdrs.get("user-agent", "baton")},
        "requestId": str(uuid.uuid4()), "routeKey": f"{method} {route.path if route else path}",
        "stage": "$default", "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime()),
        "timeEpoch": int(time.time() * 1000),
    }
    if claims is not None:
        request_context["authorizer"] = {"jwt": {"claims": claims, "scopes": None}}
    if path_params is None and route is not None:
        found = route.pattern.match(path)
        path_params = found.groupdict() if found else {}
    event: dict[str, Any] = {
        "version": "2.0", "routeKey": request_context["routeKey"], "rawPath": path,
        "rawQueryString": urlencode(query or {}) if raw_query is None else raw_query, "headers": hdrs,
        "requestContext": request_context,
        "isBase64Encoded": False,
    }
    if query:
        event["queryStringParameters"] = dict(query)
    if path_params:
        event["pathParameters"] = path_params
    if body is not None:
        event["body"] = body
    return event


def claims_for(user: str, tenant: str, roles: list[str] | tuple[str, ...], username: str | None = None
               ) -> dict[str, Any]:
    """Claims of a token for these groups (with `baton:roles`, as the Cognito trigger and the
    local issuer write it) as the HTTP API JWT authorizer passes them (arrays flattened)."""
    from baton.edge.auth import ROLES_CLAIM, roles_claim
    from baton_local.tokens import authorizer_claims

    return authorizer_claims({"sub": user, "username": username or user, "custom:tenant": tenant,
                              "cognito:groups": list(roles), ROLES_CLAIM: roles_claim(roles)})


class LambdaContext:
    """Enough of a Lambda context for Powertools' logger."""

    function_name = "baton-local"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:local:000000000000:function:baton-local"

    def __init__(self) -> None:
        self.aws_request_id = str(uuid.uuid4())

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 30_000
