"""Cold-start measures (baton/edge/coldstart.py): checked in fresh interpreters, where they apply."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from baton.edge.coldstart import reexports
from tests.support import ROOT


def fresh(code: str) -> dict[str, object]:
    """Run `code` in a new interpreter with the functions' package path; it prints one JSON object."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "POWERTOOLS_LOG_LEVEL": "CRITICAL"}
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, env=env,
                         cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def test_reexports_reads_only_the_packages_own_submodules() -> None:
    source = textwrap.dedent("""
        from .alb import ALBEvent
        from .proxy import ProxyEvent as Event, Other
        from pkg.api import Resolver
        from pkg import sibling
        from other.place import Thing
        from ..parent import Up
        import pkg.direct
        NAME = 1
    """)
    assert reexports("pkg", source) == {
        "ALBEvent": ("pkg.alb", "ALBEvent"), "Event": ("pkg.proxy", "ProxyEvent"), "Other": ("pkg.proxy", "Other"),
        "Resolver": ("pkg.api", "Resolver")}


def test_a_function_imports_neither_unused_resolvers_nor_event_classes() -> None:
    seen = fresh("""
        import json, sys
        import baton_functions.itential
        print(json.dumps({"modules": sorted(sys.modules)}))
    """)
    modules = seen["modules"]
    assert isinstance(modules, list)
    assert "aws_lambda_powertools.event_handler.api_gateway" in modules
    assert "aws_lambda_powertools.utilities.data_classes.api_gateway_proxy_event" in modules
    for unused in ("asyncio", "aws_lambda_powertools.event_handler.appsync",
                   "aws_lambda_powertools.event_handler.bedrock_agent",
                   "aws_lambda_powertools.utilities.data_classes.s3_event",
                   "aws_lambda_powertools.utilities.data_classes.kafka_event"):
        assert unused not in modules, unused


def test_a_lean_package_still_answers_every_name() -> None:
    seen = fresh("""
        import json
        import baton_functions.itential
        import aws_lambda_powertools.event_handler as eh
        from aws_lambda_powertools.event_handler import Response, APIGatewayHttpResolver
        from aws_lambda_powertools.event_handler.api_gateway import Response as R2, APIGatewayHttpResolver as A2
        reexported = Response is R2 and APIGatewayHttpResolver is A2
        from aws_lambda_powertools.event_handler import AppSyncResolver  # not needed by Baton: runs the real __init__
        from aws_lambda_powertools.event_handler.appsync import AppSyncResolver as S2
        from aws_lambda_powertools.utilities.data_classes import S3Event
        from aws_lambda_powertools.utilities.data_classes.s3_event import S3Event as E2
        print(json.dumps({"reexported": reexported, "fallback": AppSyncResolver is S2 and S3Event is E2,
                          "all": sorted(eh.__all__)}))
    """)
    assert seen["reexported"] is True and seen["fallback"] is True
    assert "AppSyncResolver" in seen["all"]  # type: ignore[operator]


@pytest.mark.parametrize(("family", "method", "path", "body", "status"), [
    ("docs", "GET", "/health", "", 200),
    ("itential", "POST", "/operations-manager/tasks/t1/claim", "x" * 70_000, 413),  # refused before routing
])
def test_gc_waits_for_the_first_answer_then_freezes_what_init_built(family: str, method: str, path: str,
                                                                     body: str, status: int) -> None:
    seen = fresh(f"""
        import gc, json
        import baton_functions.{family} as fn
        during_init = gc.isenabled()
        event = {{"version": "2.0", "routeKey": "{method} {path}", "rawPath": "{path}", "rawQueryString": "",
                 "headers": {{}}, "isBase64Encoded": False, "body": "{body}",
                 "requestContext": {{"http": {{"method": "{method}", "path": "{path}"}}, "requestId": "r",
                                    "stage": "$default"}}}}
        class Context:
            function_name = "f"; memory_limit_in_mb = 128; aws_request_id = "r"
            invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:f"
        status = fn.lambda_handler(event, Context())["statusCode"]
        print(json.dumps({{"during_init": during_init, "after": gc.isenabled(), "frozen": gc.get_freeze_count(),
                          "status": status}}))
    """)
    assert seen["status"] == status
    assert seen["during_init"] is False and seen["after"] is True
    assert isinstance(seen["frozen"], int) and seen["frozen"] > 10_000
