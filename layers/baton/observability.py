"""Logging and tracing shared by every function (kept at the package root so that lower layers
never import a handler).

Tracing: the CDK stack turns on Lambda active tracing, which records every invocation (and its
init) in X-Ray without any SDK in the function. Powertools' Tracer adds subsegments for each
DynamoDB call, but importing the X-Ray SDK costs about 250 ms of every cold start, so it is
opt-in: set `BATON_XRAY_SUBSEGMENTS=true` on a function to get them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger

from baton.settings import get_settings

logger = Logger(service="baton")
LambdaHandler = Callable[[dict[str, Any], Any], dict[str, Any]]


def traced(handler: LambdaHandler) -> LambdaHandler:
    """The handler, wrapped by Powertools' Tracer when the settings ask for X-Ray subsegments
    (decided on the first call, so importing a function reads no settings)."""
    chosen: list[LambdaHandler] = []

    def entry(event: dict[str, Any], context: Any) -> dict[str, Any]:
        if not chosen:
            if get_settings().xray_subsegments:
                from aws_lambda_powertools import Tracer

                chosen.append(Tracer(service="baton").capture_lambda_handler(capture_response=False)(handler))
            else:
                chosen.append(handler)
        return chosen[0](event, context)

    return entry
