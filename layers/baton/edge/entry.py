"""The Lambda entry of a function: one Powertools resolver per family, whose exception handlers
answer in the family's dialect (its router's), behind the body checks, the logging context and
tracing."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestValidationError,
    ResponseValidationError,
)
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter as Router

from baton import snapshot
from baton.edge import coldstart
from baton.edge.auth import claims_of
from baton.edge.dialects import Dialect, error_response
from baton.edge.http import JSON, body_error, parameter_error, validation_message
from baton.edge.observability import logger, request_logging, traced
from baton.edge.paths import routing_path
from baton.errors import BadRequest, BatonError, Internal, NotFound
from baton.routes import ROUTES

# On every answer: never sniffed into another type, never kept by a cache (they hold a tenant's data).
ANSWER_HEADERS = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}


class FamilyRouter(Router):
    """A family's router, answering in its dialect, whose routes take their method and path from
    the route table, by name: `@router.handles("claim", summary=...)` serves the family's route
    named `claim`. A path parameter is declared `Annotated[str, SEGMENT, Path(...)]` (edge.paths)."""

    def __init__(self, family: str, dialect: Dialect) -> None:
        super().__init__()
        self.family, self.dialect = family, dialect
        self.table = {r.name: r for r in ROUTES if r.family == family}

    def handles(self, name: str, **options: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        route = self.table[name]  # KeyError at import: the table has no such route
        rule = re.sub(r"\{(\w+)\}", r"<\1>", route.path)  # Powertools spells `{id}` as `<id>`
        return self.route(rule, route.method, **options)


def make_resolver(dialect: Dialect, *routers: Router) -> APIGatewayHttpResolver:
    app = APIGatewayHttpResolver(enable_validation=True)
    for router in routers:
        app.include_router(router)

    @app.exception_handler(BatonError)
    def _domain(err: BatonError) -> Response:
        return error_response(dialect, err)

    @app.exception_handler(RequestValidationError)
    def _invalid(exc: RequestValidationError) -> Response:
        return error_response(dialect, BadRequest(validation_message(exc), reason="invalidRequest"))

    @app.exception_handler(NotFoundError)
    def _unrouted(exc: NotFoundError) -> Response:
        return error_response(dialect, NotFound("Not Found", reason="notFound"))

    @app.exception_handler(Exception)
    def _unexpected(exc: Exception) -> Response:
        # Last resort: a fault of ours. Each change is one transaction, so nothing was half-written.
        logger.exception("unexpected fault")
        return error_response(dialect, Internal("Internal server error"))

    @app.exception_handler(ResponseValidationError)
    def _broken(exc: ResponseValidationError) -> Response:
        logger.error("response failed its schema", extra={"errors": str(exc.errors())[:2000]})
        return error_response(dialect, Internal("Internal server error"))

    return app


def lambda_entry(router: FamilyRouter, *more: Router, json_only: bool = True
                 ) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """The Lambda handler of one family (`router`'s, with `more` routers of the same family):
    refuse oversized bodies before parsing, then resolve the path with its segments encoded
    (edge.paths).

    One request at a time, as Lambda runs a function: the resolver (built on the first request)
    holds the request being handled, and routes read it from their router's `current_event`.
    The local server runs requests concurrently in worker processes (baton_local.workers)."""
    apps: list[APIGatewayHttpResolver] = []
    dialect = router.dialect

    def answer(event: dict[str, Any], context: Any) -> dict[str, Any]:
        refused = body_error(event, json_only) or parameter_error(event)
        if refused is not None:
            status, body = dialect.render(refused)
            return {"statusCode": status, "headers": {"Content-Type": JSON}, "body": json.dumps(body),
                    "isBase64Encoded": False}
        if json_only:
            # Baton speaks JSON only: a body is parsed as JSON whatever Content-Type claims (and a
            # request without one is not refused for a Content-Type Powertools does not parse).
            # The sign-in routes read OAuth's forms too, so they keep the Content-Type they got.
            event["headers"] = {**(event.get("headers") or {}), "content-type": JSON}
        if not apps:
            apps.append(make_resolver(dialect, router, *more))
        return apps[0].resolve({**event, "rawPath": routing_path(event.get("rawPath") or "/")}, context)

    def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
        result = answer(event, context)
        headers = result.setdefault("headers", {})
        present = {name.lower() for name in headers}
        for name, value in ANSWER_HEADERS.items():  # a route's own (the pages' caching) wins
            if name.lower() not in present:
                headers[name] = value
        status = result.get("statusCode", 500)
        # Every request is in API Gateway's access log (route, status, latency, request id);
        # here refusals and faults are logged, successes only at DEBUG (a log line costs
        # about a tenth of a warm request).
        level = logging.INFO if status >= 400 else logging.DEBUG
        if logger.log_level <= level:
            claims = claims_of(event)
            (logger.info if level == logging.INFO else logger.debug)("request handled", extra={
                "route": event.get("routeKey"), "status": status,
                "tenant": claims.get("custom:tenant"), "user": claims.get("sub")})
        return result

    @snapshot.before_snapshot
    def prime() -> None:
        """Before a SnapStart snapshot: build the resolver and take one probe request through it
        (`probe_event`: no caller, so it is refused before any table access), so that routing,
        validation, the models and the dialect's error path are in the snapshot. Not logged."""
        answer(probe_event((router, *more)), None)

    @request_logging
    @traced
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        try:
            return handle(event, context)
        finally:
            coldstart.resume()  # after the first answer, whatever it was

    return handler


def probe_event(routers: tuple[Router, ...]) -> dict[str, Any]:
    """An API Gateway request for a route of these routers' family, without an authorizer's claims:
    an authenticated route answers it 401 before reading anything; a public one is taken whose
    answer reads nothing (health; a sign-in without a grant type is a 400)."""
    families = {getattr(r, "family", None) for r in routers}
    routes = sorted((r for r in ROUTES if r.family in families and not r.page), key=lambda r: not r.auth)
    route = next((r for r in routes if r.auth or r.name in ("health", "oauth_token")), routes[0])
    path = re.sub(r"\{\w+\}", "snapshot-probe", route.path)
    params = dict.fromkeys(re.findall(r"\{(\w+)\}", route.path), "snapshot-probe")
    return {
        "version": "2.0", "routeKey": f"{route.method} {route.path}", "rawPath": path, "rawQueryString": "",
        "headers": {"content-type": JSON}, "pathParameters": params, "isBase64Encoded": False,
        "body": "{}" if route.method in ("POST", "PUT") else None,
        "requestContext": {"http": {"method": route.method, "path": path, "protocol": "HTTP/1.1",
                                    "sourceIp": "127.0.0.1", "userAgent": "snapstart-probe"},
                           "requestId": "snapshot-probe", "routeKey": f"{route.method} {route.path}",
                           "stage": "$default", "timeEpoch": 0},
    }
