"""One measurement in a fresh interpreter: `python -m benchmarks.child <mode> <spec.json> <out.json>`.

Modes: `cold` (import a function's handler module and answer its first request), `baseline`
(import boto3 and create a DynamoDB client), `warm` (N requests through a handler) and
`warm_baseline` (N requests through a bare Powertools route sending the claim's recorded DynamoDB requests). DynamoDB is
answered by the replay stub; nothing here imports the measured code before the clock starts."""

from __future__ import annotations

import json
import sys
import time
from typing import Any


class Context:
    function_name = "baton-bench"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:baton-bench"
    aws_request_id = "bench"


def _fresh(event: dict[str, Any]) -> dict[str, Any]:
    return {**event, "headers": dict(event.get("headers") or {})}


def cold(spec: dict[str, Any]) -> dict[str, Any]:
    event = _fresh(spec["event"])
    start = time.perf_counter()
    import importlib

    module = importlib.import_module(f"baton_functions.{spec['family']}")
    if spec["cassette"]:
        from baton.storage.dynamo import get_dynamo
        from benchmarks.stub import install_replay

        install_replay(get_dynamo().client, spec["cassette"])
    result = module.lambda_handler(event, Context())
    return {"ms": (time.perf_counter() - start) * 1000, "status": result["statusCode"], **_imported(spec)}


def baseline(spec: dict[str, Any]) -> dict[str, Any]:
    start = time.perf_counter()
    import boto3

    boto3.client("dynamodb", region_name="us-east-1")
    return {"ms": (time.perf_counter() - start) * 1000, **_imported(spec)}


def _imported(spec: dict[str, Any]) -> dict[str, Any]:
    """With `modules` in the spec: the source files of every module this run imported."""
    if not spec.get("modules"):
        return {}
    files = {getattr(m, "__file__", None) for m in list(sys.modules.values())}
    return {"modules": sorted(f for f in files if f and f.endswith(".py"))}


def _timed(handler: Any, event: dict[str, Any], n: int) -> dict[str, Any]:
    events = [_fresh(event) for _ in range(n)]
    statuses: set[int] = set()
    durations = []
    for e in events:
        t = time.perf_counter_ns()
        statuses.add(handler(e, Context())["statusCode"])
        durations.append((time.perf_counter_ns() - t) / 1000)
    return {"us": durations, "statuses": sorted(statuses)}


def warm(spec: dict[str, Any]) -> dict[str, Any]:
    import importlib

    from baton.storage.dynamo import get_dynamo
    from benchmarks.stub import install_replay

    module = importlib.import_module(f"baton_functions.{spec['family']}")
    install_replay(get_dynamo().client, spec["cassette"])
    module.lambda_handler(_fresh(spec["event"]), Context())  # the cold request is not counted
    return _timed(module.lambda_handler, spec["event"], spec["n"])


def warm_baseline(spec: dict[str, Any]) -> dict[str, Any]:
    """The least a Powertools function can do for a claim: route, send the very requests the claim
    sent (recorded: today one batch read and one transaction), answer. DynamoDB answers from the same
    recording as the measured claim, so botocore builds and parses the same messages and the ratio
    is Baton's own work (rules, eligibility, the ledger, the views) over a bare route."""
    import boto3
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
    from botocore import xform_name

    from benchmarks.stub import install_replay

    client = boto3.session.Session().client("dynamodb", region_name="us-east-1")
    install_replay(client, spec["cassette"])
    app = APIGatewayHttpResolver()
    calls = [(getattr(client, xform_name(op)), params) for op, params in spec["requests"]]

    @app.post("/operations-manager/tasks/<taskId>/claim")
    def claim(taskId: str) -> dict[str, Any]:
        for call, params in calls:
            call(**params)
        return {"message": "Successfully claimed the task"}

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return app.resolve(event, context)

    handler(_fresh(spec["event"]), Context())
    return _timed(handler, spec["event"], spec["n"])


MODES = {"cold": cold, "baseline": baseline, "warm": warm, "warm_baseline": warm_baseline}

if __name__ == "__main__":
    mode, spec_path, out_path = sys.argv[1:4]
    with open(spec_path) as f:
        spec = json.load(f)
    result = MODES[mode](spec)
    with open(out_path, "w") as f:
        json.dump(result, f)
