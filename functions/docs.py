"""Public routes: the OpenAPI document of every route in the route table, Swagger UI, health."""

from __future__ import annotations

import importlib
import json
from functools import lru_cache
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response

from baton.api import NATIVE, lambda_entry, make_resolver
from baton.routes import FAMILIES

TITLE = "Baton"
VERSION = "1.0.0"
DESCRIPTION = ("Task assignment: claim, release, assign, unassign and reassign, in the dialects of "
               "Itential, ProcessMaker, Journey Manager and ConductorOne, plus Baton's own routes.")


def full_api() -> APIGatewayHttpResolver:
    """A resolver holding every family's router: the source of the OpenAPI document."""
    api = make_resolver(NATIVE)
    for family in FAMILIES:
        if family != "docs":
            api.include_router(importlib.import_module(f"baton_functions.{family}").router)
    api.include_router(_docs_router())
    return api


def _docs_router() -> Any:
    from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

    router = APIGatewayHttpRouter()

    @router.get("/health", summary="Liveness", tags=["Docs"], security=[])
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/openapi.json", summary="This document", tags=["Docs"], security=[])
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
    return document


def _swagger_router() -> Any:
    """Swagger UI: a separate resolver serves it (Powertools attaches it to a resolver)."""
    from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

    router = APIGatewayHttpRouter()

    @router.get("/swagger", include_in_schema=False)
    def swagger() -> Response[str]:
        return Response(200, "text/html", SWAGGER_HTML)

    return router


SWAGGER_HTML = """<!doctype html>
<html><head><meta charset="utf-8"><title>Baton API</title>
<link rel="stylesheet" href="https://unpkg.com/swagger-ui-dist@5/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="https://unpkg.com/swagger-ui-dist@5/swagger-ui-bundle.js"></script>
<script>window.ui = SwaggerUIBundle({url: "openapi.json", dom_id: "#swagger-ui",
  persistAuthorization: true});</script></body></html>"""

lambda_handler = lambda_entry(NATIVE, _docs_router(), _swagger_router())
