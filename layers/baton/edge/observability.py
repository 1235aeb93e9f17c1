"""Logging and tracing shared by every function (kept at the package root so that lower layers
never import a handler).

Tracing: the CDK stack turns on Lambda active tracing, which records every invocation (and its
init) in X-Ray without any SDK in the function. Powertools' Tracer adds subsegments for each
DynamoDB call, but importing the X-Ray SDK costs about 250 ms of every cold start, so it is
opt-in: set `BATON_XRAY_SUBSEGMENTS=true` on a function to get them.

Logging: every line carries the request's correlation id (API Gateway's request id), the
Lambda context fields and `cold_start`, added by a filter when (and only when) a line is
written. Powertools' `inject_lambda_context` would set them on every request (a JMESPath
query and a rebuild of the logger's keys, ~5% of a warm claim) for logs that are silent on
success (see `baton.edge.entry`)."""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger

from baton.settings import get_settings

logger = Logger(service="baton")
LambdaHandler = Callable[[dict[str, Any], Any], dict[str, Any]]
CONTEXT_FIELDS = (("function_name", "function_name"), ("function_memory_size", "memory_limit_in_mb"),
                  ("function_arn", "invoked_function_arn"), ("function_request_id", "aws_request_id"))


class RequestFields(logging.Filter):
    """Puts the fields of the request being handled (one at a time, as Lambda runs a function)
    on each record written while it is handled."""

    current: tuple[dict[str, Any], Any, bool] | None = None

    def filter(self, record: logging.LogRecord) -> bool:
        current = self.current
        if current is not None:
            event, context, cold = current
            record.correlation_id = (event.get("requestContext") or {}).get("requestId")
            record.cold_start = cold
            for field, attr in CONTEXT_FIELDS:
                setattr(record, field, getattr(context, attr, None))
        return True


REQUEST_FIELDS = RequestFields()
logging.getLogger(logger.name).addFilter(REQUEST_FIELDS)


def request_logging(handler: LambdaHandler) -> LambdaHandler:
    """The handler, with the request it handles bound for the log lines it writes."""
    cold = [True]
    service = [logger.service]

    def entry(event: dict[str, Any], context: Any) -> dict[str, Any]:
        wanted = get_settings().service  # `baton-<family>` in Lambda (POWERTOOLS_SERVICE_NAME)
        if wanted != service[0]:
            logger.append_keys(service=wanted)
            service[0] = wanted
        outer, REQUEST_FIELDS.current = REQUEST_FIELDS.current, (event, context, cold[0])
        cold[0] = False
        try:
            return handler(event, context)
        finally:
            REQUEST_FIELDS.current = outer

    return entry


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


def emit_count(name: str, value: int) -> None:
    """One CloudWatch metric (a count, no dimensions) in the embedded metric format: a JSON line
    on stdout, which Lambda's log shipping turns into the metric (an alarm may watch it)."""
    from baton import clock

    namespace = os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "Baton"
    document = {"_aws": {"Timestamp": int(clock.current().timestamp() * 1000), "CloudWatchMetrics": [
        {"Namespace": namespace, "Dimensions": [[]], "Metrics": [{"Name": name, "Unit": "Count"}]}]}, name: value}
    sys.stdout.write(json.dumps(document) + "\n")
    sys.stdout.flush()
