"""`Baton`: the whole service as one CDK construct (table, API, functions, sign-in, events), for
this project's app (infra/app.py) and for any other CDK app:

    from infra.construct import Baton, BatonProps

    baton = Baton(stack, "Tasks", BatonProps(jwt_issuer="https://idp.example.com/", jwt_audience=["tasks"],
                                             log_retention=logs.RetentionDays.THREE_MONTHS, snap_start=True))
    baton.api.api_endpoint, baton.table, baton.events.bus   # to wire it to the rest of the app

Several may live in one stack: nothing is named unless a prop names it. By default it all goes
under the construct; `Placement` puts the table and the events in other scopes (this project's
app keeps the table in a stack of its own that outlives the API's, see infra/app.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from aws_cdk import Acknowledgment, CfnOutput, RemovalPolicy, Stack, Validations
from aws_cdk import aws_apigatewayv2 as apigw
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_dynamodb as ddb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from baton.routes import FAMILIES, ROUTES
from infra.api import ACKNOWLEDGED, INDEX_GRANT, RETENTION, FamilyFunction, Identity, access_logs, monitoring
from infra.callbacks import Callbacks
from infra.data import task_table
from infra.events import TaskEvents
from infra.layer import build_functions, build_layer
from infra.router import TaskRouter
from infra.sweeper import EscalationSweeper


@dataclass(frozen=True)
class BatonProps:
    """What an app chooses. Identity: an existing issuer (`jwt_issuer` and `jwt_audience`), else a
    Cognito user pool with the role groups and the vendors' sign-in flows (hosted-UI domain
    `cognito_domain_prefix`, default `baton-<unique>`)."""

    jwt_issuer: str | None = None
    jwt_audience: Sequence[str] = ()
    cognito_domain_prefix: str | None = None
    table_name: str | None = None  # default: CloudFormation names it
    table_removal_policy: RemovalPolicy = RemovalPolicy.RETAIN
    log_retention: logs.RetentionDays = RETENTION  # every log group: functions, access logs
    snap_start: bool = False  # SnapStart on every function, invoked through its `live` alias
    events: bool = True  # the stream → Pipe → event bus of infra/events.py
    escalations: bool = True  # the escalation sweeper, every minute (infra/sweeper.py)
    routing: bool = True  # the router fed by the table's stream, and its offer timers (infra/router.py)
    event_bus_name: str | None = None  # default: unique to the construct
    dashboard_name: str | None = None  # default: CloudFormation names it
    throttle_rate: int = 200
    throttle_burst: int = 400
    acknowledged: Sequence[tuple[str, str]] = field(default_factory=tuple)  # more cdk-nag findings accepted


@dataclass(frozen=True)
class Placement:
    """Scopes for the table and the events other than the construct itself (their constructs keep
    their ids there: `Table`, `TaskEvents`)."""

    data: Construct | None = None
    events: Construct | None = None


class Baton(Construct):
    def __init__(self, scope: Construct, construct_id: str, props: BatonProps | None = None, *,
                 placement: Placement | None = None) -> None:
        super().__init__(scope, construct_id)
        props = props or BatonProps()
        placement = placement or Placement()
        self.props = props
        self.table: ddb.TableV2 = task_table(placement.data or self, "Table", table_name=props.table_name,
                                             removal_policy=props.table_removal_policy)

        self.layer = lambda_.LayerVersion(
            self, "BatonLayer", code=lambda_.Code.from_asset(str(build_layer())),
            compatible_runtimes=[lambda_.Runtime.PYTHON_3_13], compatible_architectures=[lambda_.Architecture.ARM_64],
            description="baton package, Powertools, pydantic (boto3 is in the runtime)")
        code = lambda_.Code.from_asset(str(build_functions()))
        access_log_group = logs.LogGroup(self, "AccessLogs", retention=props.log_retention,
                                         removal_policy=RemovalPolicy.DESTROY)
        self.api = apigw.HttpApi(self, "HttpApi", description="Baton task assignment", create_default_stage=False)
        self.identity = Identity(self, "Identity", site_url=self.api.api_endpoint + "/", issuer=props.jwt_issuer,
                                 audience=props.jwt_audience, domain_prefix=props.cognito_domain_prefix)
        authorizer = authorizers.HttpJwtAuthorizer("Jwt", self.identity.issuer, jwt_audience=self.identity.audience)
        stage = apigw.HttpStage(self, "DefaultStage", http_api=self.api, stage_name="$default", auto_deploy=True,
                                throttle=apigw.ThrottleSettings(rate_limit=props.throttle_rate,
                                                                burst_limit=props.throttle_burst))
        # The per-deployment secret keying the listing cursors' MACs (baton.storage.cursors): made by
        # CloudFormation, resolved into the functions' (encrypted) environment at deployment, so no
        # function reads it at run time. A new deployment's key only makes open cursors a 400.
        self.cursor_key = secretsmanager.Secret(
            self, "CursorKey", description="Keys the MACs of Baton's listing cursors",
            generate_secret_string=secretsmanager.SecretStringGenerator(password_length=64, exclude_punctuation=True))
        Validations.of(self.cursor_key).acknowledge(Acknowledgment(
            id="AwsSolutions-SMG4", reason="The cursors' MAC key: rotating it would only turn open listing cursors "
                                           "into 400s; it is replaced by redeploying."))
        keyed = {"BATON_CURSOR_KEY": self.cursor_key.secret_value.unsafe_unwrap()}
        self.functions: dict[str, lambda_.Function] = {}
        self.targets: dict[str, lambda_.IFunction] = {}  # what invokes each: the function or its alias
        for family in FAMILIES:
            fn = FamilyFunction(self, f"Fn{family.title()}", family=family, code=code, layer=self.layer,
                                table=self.table, environment={**keyed, **(self.identity.sign_in if family == "docs"
                                                                            else {})},
                                retention=props.log_retention, snap_start=props.snap_start)
            self.functions[family], self.targets[family] = fn.function, fn.target
            integration = integrations.HttpLambdaIntegration(f"{family}Integration", fn.target)
            for route in (r for r in ROUTES if r.family == family):
                added = self.api.add_routes(path=route.path, methods=[apigw.HttpMethod(route.method)],
                                            integration=integration,
                                            authorizer=authorizer if route.auth else apigw.HttpNoneAuthorizer())
                if not route.auth:
                    for public in added:
                        Validations.of(public).acknowledge(Acknowledgment(
                            id="AwsSolutions-APIG4",
                            reason="Public by design (API.md): the OpenAPI document, Swagger UI, the health "
                                   "check, the inbox's page and assets (it signs in itself) and the vendor "
                                   "sign-in routes (they hand out tokens)."))
        if self.identity.signin:
            self.identity.signin.wire(self.functions["signin"])
            self.identity.signin.trigger(code=code, layer=self.layer, table=self.table,
                                         retention=props.log_retention, snap_start=props.snap_start)
        access_logs(stage, access_log_group)
        monitoring(self, self.api, self.functions, self.table, props.dashboard_name)
        CfnOutput(self, "ApiUrl", value=self.api.api_endpoint)

        self.sweeper: EscalationSweeper | None = None
        if props.escalations:
            self.sweeper = EscalationSweeper(self, "EscalationSweeper", table=self.table, layer=self.layer, code=code,
                                             retention=props.log_retention, snap_start=props.snap_start)

        self.events: TaskEvents | None = None
        if props.events:
            events_scope = placement.events or self
            events_code = code if events_scope is self else lambda_.Code.from_asset(str(build_functions()))
            self.events = TaskEvents(events_scope, "TaskEvents", table=self.table, layer=self.layer,
                                     code=events_code, bus_name=props.event_bus_name,
                                     retention=props.log_retention, snap_start=props.snap_start)
        self.callbacks = Callbacks(self, "Callbacks", table=self.table, layer=self.layer, code=code,
                                   retention=props.log_retention, snap_start=props.snap_start)
        self.router: TaskRouter | None = None
        if props.routing:
            self.router = TaskRouter(self, "Router", table=self.table, layer=self.layer, code=code,
                                     retention=props.log_retention, snap_start=props.snap_start)
        self._acknowledge(placement)

    def _acknowledge(self, placement: Placement) -> None:
        """cdk-nag findings accepted on purpose (infra/api.py), on this construct's resources."""
        scopes = {id(s): s for s in (self, self.events) if s is not None}
        for scope in scopes.values():
            for rule, reason in [*ACKNOWLEDGED, *self.props.acknowledged]:
                Validations.of(scope).acknowledge(Acknowledgment(id=rule, reason=reason))
        if placement.data is None:  # the index grant's finding names the table's ARN as this stack has it
            stack = Stack.of(self)
            table = stack.resolve(stack.get_logical_id(self.table.node.default_child))  # type: ignore[arg-type]
            Validations.of(self).acknowledge(Acknowledgment(
                id=f"AwsSolutions-IAM5[Resource::<{table}.Arn>/index/*]", reason=INDEX_GRANT))
