"""`cdk synth` entry point (see cdk.json)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from aws_cdk import App, Environment, Validations  # noqa: E402
from cdk_nag import AwsSolutionsChecks  # noqa: E402

from infra.api import ApiStack  # noqa: E402
from infra.data import DataStack  # noqa: E402
from infra.events import EventsStack  # noqa: E402


def build(app: App | None = None) -> tuple[App, DataStack, ApiStack]:
    app, data, api, _ = build_all(app)
    return app, data, api


def build_all(app: App | None = None) -> tuple[App, DataStack, ApiStack, EventsStack]:
    app = app or App()
    app.node.set_context("@aws-cdk/core:defaultCrossStackReferences", "strong")  # the data stack outlives the API
    env = Environment(account=app.node.try_get_context("account"), region=app.node.try_get_context("region"))
    data = DataStack(app, "BatonData", env=env, description="Baton: the task table")
    api = ApiStack(app, "BatonApi", table=data.table, env=env, description="Baton: functions and HTTP API")
    events = EventsStack(app, "BatonEvents", table=data.table, layer=api.layer, env=env,
                         description="Baton: task events (stream, pipe, bus)")
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app, data, api, events


if __name__ == "__main__":
    build_all()[0].synth()
