"""Logger and tracer shared by every function (kept at the package root so that lower layers
never import a handler). The tracer is a no-op where POWERTOOLS_TRACE_DISABLED is set (tests,
local server) and records X-Ray segments in Lambda, where tracing is active."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Tracer

logger = Logger(service="baton")
tracer = Tracer(service="baton")
