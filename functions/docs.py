"""Public routes: the OpenAPI document of every route in the route table, health, and the browser
pages (the inbox at `/`, Swagger UI) with their assets."""

from __future__ import annotations

import json
from functools import lru_cache
from http import HTTPStatus
from typing import TYPE_CHECKING, Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.params import Path

from baton import web
from baton.edge.dialects import NATIVE, UNAUTHORIZED_SCHEMA, Dialect
from baton.edge.entry import FamilyRouter, lambda_entry, make_resolver
from baton.edge.http import JSON, request_header
from baton.edge.paths import SEGMENT
from baton.routes import FAMILIES, ROUTES, Route

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.common import BaseProxyEvent

Asset = Annotated[str, SEGMENT, Path()]
TITLE = "Baton"
VERSION = "1.0.0"
DESCRIPTION = ("Task assignment: claim, release, assign, unassign and reassign, in the dialects of "
               "Itential, ProcessMaker, Journey Manager and ConductorOne, plus Baton's own routes.")


def api_families() -> dict[str, Any]:
    """The other families' modules, by the route table's family name (imported when the document
    is first asked for, not at the docs function's cold start)."""
    from baton_functions import conductorone, directory, itential, journey, processmaker, signin, tasks

    modules = (conductorone, directory, itential, journey, processmaker, signin, tasks)
    found = {module.__name__.rpartition(".")[2]: module for module in modules}
    return {family: found[family] for family in FAMILIES if family != "docs"}


def full_api() -> APIGatewayHttpResolver:
    """A resolver holding every family's router: the source of the OpenAPI document."""
    api = make_resolver(NATIVE)
    for module in api_families().values():
        api.include_router(module.router)
    api.include_router(_docs_router())
    return api


def _docs_router() -> Any:

    router = FamilyRouter("docs", NATIVE)

    @router.handles("health", summary="Liveness", tags=["Docs"], security=[])
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @router.handles("openapi", summary="This document", tags=["Docs"], security=[])
    def openapi() -> dict[str, Any]:
        return openapi_document()

    return router


@lru_cache(maxsize=1)
def openapi_document() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(full_api().get_openapi_json_schema(
        title=TITLE, version=VERSION, description=DESCRIPTION,
        security_schemes={"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},  # type: ignore[dict-item]
        security=[{"bearer": []}],
    ))
    return _declare_responses(document)


def _dialect(family: str) -> Dialect:
    dialect: Dialect = api_families()[family].router.dialect
    return dialect


def _declare_responses(document: dict[str, Any]) -> dict[str, Any]:
    """Powertools declares a 200 and its own 422 for every route; Baton answers bad input with 400 in
    the route's dialect. Declare what each route of the route table really answers: its success
    statuses (`Route.ok`, no body where the handler returns none), 401 where the authorizer stands,
    and every status its dialect renders a domain error with, in that dialect's shape."""
    schemas = document["components"]["schemas"]
    for name in ("HTTPValidationError", "ValidationError", "ResponseValidationError"):
        schemas.pop(name, None)
    schemas["Unauthorized"] = UNAUTHORIZED_SCHEMA
    for route in ROUTES:
        operation = document["paths"].get(route.path, {}).get(route.method.lower())
        if operation is not None:
            operation["responses"] = _responses(route, operation["responses"], schemas)
            if not route.auth:
                operation["security"] = []
    return document


def _responses(route: Route, generated: dict[Any, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    success = generated.get(200) or generated.get("200") or {}
    media = success.get("content", {})  # JSON, or what a route declared itself (`/login`: text)
    content = media.get("application/json", {})
    responses: dict[str, Any] = {}
    for status in route.ok:
        responses[str(status)] = {"description": HTTPStatus(status).phrase}
        if status == HTTPStatus.NO_CONTENT:
            continue
        if "application/json" not in media and media:
            responses[str(status)]["content"] = media
        elif content.get("schema", {}).get("type") != "null":
            responses[str(status)]["content"] = {"application/json": content}
    if route.auth:
        responses["401"] = _error_response(401, "Unauthorized")
    if route.family != "docs":
        dialect = _dialect(route.family)
        name = f"{dialect.name.capitalize()}Error"
        schemas[name] = dialect.schema
        for status in sorted(dialect.statuses()):
            responses[str(status)] = _error_response(status, name)
    return responses


def _error_response(status: int, schema: str) -> dict[str, Any]:
    return {"description": HTTPStatus(status).phrase,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}}


def _pages_router() -> Any:
    """The browser pages (route table entries with `page=True`): the inbox at `/` and Swagger UI,
    with their assets. Served by this function so that they deploy with the stack and work
    offline (see docs/decisions.md); a separate router keeps them out of the OpenAPI document."""

    router = FamilyRouter("docs", NATIVE)

    @router.handles("inbox", include_in_schema=False)
    def inbox() -> Response[Any]:
        return _asset(web.page("inbox.html"), router.current_event)

    @router.handles("inbox_asset", include_in_schema=False, compress=True)
    def inbox_asset(asset: Asset) -> Response[Any]:
        if asset == "config.json":
            return Response(200, JSON, json.dumps(web.sign_in_config()), headers={"Cache-Control": "no-store"})
        return _asset(web.inbox_asset(asset), router.current_event)

    @router.handles("swagger", include_in_schema=False)
    def swagger() -> Response[Any]:
        return _asset(web.page("swagger.html"), router.current_event)

    @router.handles("swagger_asset", include_in_schema=False, compress=True)
    def swagger_asset(asset: Asset) -> Response[Any]:
        return _asset(web.swagger_asset(asset), router.current_event)

    return router


def _asset(found: web.Asset | None, request: BaseProxyEvent) -> Response[Any]:
    """An asset with its ETag (304 when the browser has it); `no-cache` so a new deployment shows
    at once. Unknown names are the API's 404."""
    if found is None:
        return Response(404, JSON, json.dumps({"message": "Not Found"}))
    headers = {"ETag": found.etag, "Cache-Control": "no-cache", "Content-Security-Policy": web.csp(),
               "X-Content-Type-Options": "nosniff", "Referrer-Policy": web.REFERRER_POLICY}
    if found.etag in (request_header(request, "if-none-match") or ""):
        return Response(304, None, None, headers=headers, compress=False)
    return Response(200, found.content_type, found.body, headers=headers)


lambda_handler = lambda_entry(_docs_router(), _pages_router())
