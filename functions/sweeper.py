"""The escalation sweeper in AWS: EventBridge Scheduler invokes it every minute (infra), and it
runs one sweep of the timer index (`baton.tasks.sweeper`, the same code `baton serve` runs in a
thread and `baton sweep --once` runs by hand): due escalation steps, passed leases, absences at
their `until`. It logs what it did and publishes two metrics in
CloudWatch's embedded metric format: `SweepFailures` (timers it could not handle this time; they
stay in the index for the next sweep) and `SweepLagSeconds` (how late the most overdue timer it
found was), which the stack's alarms watch. A failure of the sweep itself fails the invocation
(the Scheduler's retry and the function's error alarm)."""

from __future__ import annotations

import json
import time
from typing import Any

from baton.edge import coldstart
from baton.storage.dynamo import get_dynamo
from baton.tasks.sweeper import Sweeper

NAMESPACE = "Baton"


def metrics_line(report: dict[str, Any], service: str = "baton-sweeper") -> str:
    """The sweep's metrics as one CloudWatch embedded-metric-format log line."""
    return json.dumps({
        "_aws": {"Timestamp": int(time.time() * 1000), "CloudWatchMetrics": [{
            "Namespace": NAMESPACE, "Dimensions": [["service"]],
            "Metrics": [{"Name": "SweepFailures", "Unit": "Count"}, {"Name": "SweepLagSeconds", "Unit": "Seconds"},
                        {"Name": "SweepFired", "Unit": "Count"}]}]},
        "service": service, "SweepFailures": report["failed"], "SweepLagSeconds": report["lagSeconds"],
        "SweepFired": report["fired"], "sweep": report})


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        report = Sweeper(get_dynamo()).sweep().public()
        print(metrics_line(report), flush=True)  # noqa: T201 - the embedded metric format is a log line
        return report
    finally:
        coldstart.resume()  # prepare() paused the collector for the cold start
