"""The route table is the one source: every family serves exactly its routes, the OpenAPI
document lists them all, and `events/` holds a working sample for each."""

from __future__ import annotations

import importlib
import json
from typing import Any

import jsonschema
import pytest
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter as Router

from baton.edge.dialects import ERROR_CLASSES, NATIVE, Dialect, error_response
from baton.edge.entry import make_resolver
from baton.errors import BatonError, Conflict, Unauthorized
from baton.routes import FAMILIES, ROUTES, Route, match
from baton.vendors.conductorone.errors import CONDUCTORONE
from baton.vendors.itential.errors import ITENTIAL
from baton.vendors.journey.errors import JOURNEY
from baton.vendors.processmaker.errors import PROCESSMAKER
from baton_local.events import LambdaContext
from tests.gen_events import SAMPLES, file_name, sample
from tests.support import handlers, seed


def test_each_family_serves_exactly_its_routes() -> None:
    """The resolver each Lambda handler builds holds exactly the table's routes for its family."""

    for family in FAMILIES:
        module = importlib.import_module(f"baton_functions.{family}")
        routers = [v for v in vars(module).values() if isinstance(v, Router)]
        if family == "docs":
            routers = [module._docs_router(), module._pages_router()]
        app = make_resolver(NATIVE, *routers)
        served = {(r.method, r.openapi_path) for r in app._static_routes + app._dynamic_routes}
        assert served == {(r.method, r.path) for r in ROUTES if r.family == family}, family


def test_every_path_parameter_is_decoded_before_its_checks() -> None:
    """The entry routes a path with its segments percent-encoded (baton.edge.paths): each path
    parameter of each route declares SEGMENT, which gives the route the value as it was."""
    import re
    import typing

    from baton.edge.paths import SEGMENT

    for family in FAMILIES:
        module = importlib.import_module(f"baton_functions.{family}")
        routers = [v for v in vars(module).values() if isinstance(v, Router)]
        if family == "docs":
            routers = [module._docs_router(), module._pages_router()]
        app = make_resolver(NATIVE, *routers)
        for route in app._static_routes + app._dynamic_routes:
            hints = typing.get_type_hints(route.func, include_extras=True)
            for name in re.findall(r"\{(\w+)\}", route.openapi_path):
                assert SEGMENT in getattr(hints.get(name), "__metadata__", ()), (family, route.openapi_path, name)


def test_openapi_lists_every_route_but_the_pages() -> None:
    from baton_functions.docs import openapi_document

    paths = openapi_document()["paths"]
    for route in ROUTES:
        if route.page:
            assert route.method.lower() not in paths.get(route.path, {}), route
            continue
        assert route.method.lower() in paths[route.path], route


def test_route_matching_prefers_the_right_route() -> None:
    assert match("GET", "/api/v1/tasks/abc/history")[0] == next(r for r in ROUTES if r.path.endswith("/history"))
    assert match("DELETE", "/api/v1/tasks")[0] is None
    assert match("GET", "/nope")[0] is None


def test_every_route_has_a_sample_event_matching_the_generator() -> None:
    assert set(SAMPLES) == {(r.method, r.path) for r in ROUTES}
    for route in ROUTES:
        stored = json.loads(file_name(route).read_text())
        assert stored == json.loads(json.dumps(sample(route))), f"regenerate events/: {route}"


@pytest.mark.usefixtures("moto_table")
@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.method} {r.path}")
def test_sample_event_gets_its_expected_answer(route: object) -> None:
    seed()
    event = json.loads(file_name(route).read_text())  # type: ignore[arg-type]
    result = handlers()[route.family](event, LambdaContext())  # type: ignore[attr-defined]
    assert result["statusCode"] == SAMPLES[(route.method, route.path)]["expect"], result  # type: ignore[attr-defined]
    if not route.page:  # type: ignore[attr-defined]
        conforms(route, result)  # type: ignore[arg-type]


def conforms(route: Route, result: dict[str, Any]) -> None:
    """The answer is one the OpenAPI document declares for the route, in the declared shape."""
    from baton_functions.docs import openapi_document

    document = openapi_document()
    declared = document["paths"][route.path][route.method.lower()]["responses"]
    assert str(result["statusCode"]) in declared, (route, result["statusCode"], list(declared))
    content = declared[str(result["statusCode"])].get("content")
    if content is None:
        assert not result.get("body"), result
        return
    schema = {**content["application/json"]["schema"], "components": document["components"]}
    jsonschema.validate(json.loads(result["body"]), schema, cls=jsonschema.Draft202012Validator)


def test_openapi_declares_each_dialects_errors_not_422() -> None:
    from baton_functions.docs import openapi_document

    document = openapi_document()
    for route in ROUTES:
        if route.page:
            continue
        operation = document["paths"][route.path][route.method.lower()]
        assert "422" not in operation["responses"], route
        # a sign-in route is public but answers 401 to wrong credentials
        assert ("401" in operation["responses"]) == (route.auth or route.family == "signin"), route
        assert operation.get("security") == (None if route.auth else []), route
        for status in route.ok:
            assert str(status) in operation["responses"], route
    assert "HTTPValidationError" not in document["components"]["schemas"]


@pytest.mark.parametrize("dialect", [NATIVE, ITENTIAL, PROCESSMAKER, JOURNEY, CONDUCTORONE], ids=lambda d: d.name)
@pytest.mark.parametrize("error", ERROR_CLASSES, ids=lambda e: e.__name__)
def test_every_dialect_error_fits_the_declared_schema(dialect: Dialect, error: type[BatonError]) -> None:
    err = error("something went wrong", holder="bob") if error is Conflict else error("something went wrong")
    response = error_response(dialect, err)
    assert response.status_code in dialect.statuses()
    jsonschema.validate(json.loads(str(response.body)), dialect.schema)
    assert json.loads(str(error_response(dialect, Unauthorized("x")).body)) == {"message": "Unauthorized"}
