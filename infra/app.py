"""`cdk synth` entry point (see cdk.json): this project's deployment of the `Baton` construct
(infra/construct.py) in three stacks, the table's own (`BatonData`, which outlives the others),
`BatonApi` and `BatonEvents`. Context: `jwtIssuer` and `jwtAudience` (an existing identity
provider), `cognitoDomainPrefix`, `snapStart=true`, `exampleWorkflow=true` (a fourth stack,
`BatonExampleWorkflow`: infra/workflow.py), `account`, `region`."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from aws_cdk import Acknowledgment, App, Aws, Environment, Fn, Stack, Validations  # noqa: E402
from cdk_nag import AwsSolutionsChecks  # noqa: E402

from infra.api import INDEX_GRANT  # noqa: E402
from infra.construct import Baton, BatonProps, Placement  # noqa: E402
from infra.workflow import ExampleWorkflow  # noqa: E402


def flag(app: App, name: str) -> bool:
    return str(app.node.try_get_context(name) or "").lower() in ("true", "1", "yes")


def props_from_context(app: App, api: Stack, events: Stack) -> BatonProps:
    issuer, audience = app.node.try_get_context("jwtIssuer"), app.node.try_get_context("jwtAudience")
    existing_idp = bool(issuer and audience)
    return BatonProps(
        jwt_issuer=str(issuer) if existing_idp else None, jwt_audience=[str(audience)] if existing_idp else [],
        # the names this app has always used: `baton-<stack id>`, `<stack>-baton`
        cognito_domain_prefix=app.node.try_get_context("cognitoDomainPrefix") or Fn.join(
            "-", ["baton", Fn.select(2, Fn.split("/", Aws.STACK_ID))]),
        event_bus_name=f"{events.stack_name}-baton", dashboard_name=f"{api.stack_name}-baton",
        snap_start=flag(app, "snapStart"))


def build(app: App | None = None) -> tuple[App, Stack, Stack]:
    app, data, api, _ = build_all(app)
    return app, data, api


def build_all(app: App | None = None) -> tuple[App, Stack, Stack, Stack]:
    app = app or App()
    app.node.set_context("@aws-cdk/core:defaultCrossStackReferences", "strong")  # the data stack outlives the API
    env = Environment(account=app.node.try_get_context("account"), region=app.node.try_get_context("region"))
    data = Stack(app, "BatonData", env=env, description="Baton: the task table")
    api = Stack(app, "BatonApi", env=env, description="Baton: functions and HTTP API")
    events = Stack(app, "BatonEvents", env=env, description="Baton: task events (stream, pipe, bus)")
    # `Default`: CDK leaves it out of logical ids, so resources keep the ids they had as stacks' own.
    baton = Baton(api, "Default", props_from_context(app, api, events), placement=Placement(data=data, events=events))
    if flag(app, "exampleWorkflow"):  # the optional example (infra/workflow.py, docs/workflows.md)
        workflow = Stack(app, "BatonExampleWorkflow", env=env, description="Baton: an example workflow's human step")
        ExampleWorkflow(workflow, "ExampleWorkflow", baton=baton)
    Validations.of(api).acknowledge(Acknowledgment(
        id="AwsSolutions-IAM5[Resource::BatonData:ExportsOutputFnGetAttTableCD117FA1ArnE2C8C204/index/*]",
        reason=INDEX_GRANT))
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app, data, api, events


if __name__ == "__main__":
    build_all()[0].synth()
