"""Logger, tracer and metrics shared by every function (kept at the package root so that
lower layers never import a handler)."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger(service="baton")
tracer = Tracer(service="baton")
metrics = Metrics(namespace="Baton", service="baton")
