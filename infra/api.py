"""The API stack: the layer, one function per API family, the HTTP API with its JWT
authorizer (a Cognito user pool by default), throttling, access logs, alarms, dashboard."""

from __future__ import annotations

from aws_cdk import Acknowledgment, Aws, CfnOutput, Duration, Fn, RemovalPolicy, Stack, Validations
from aws_cdk import aws_apigatewayv2 as apigw
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_dynamodb as ddb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from baton.domain import PM_ROLES, WORK_ROLES
from baton.routes import FAMILIES, ROUTES
from infra.environment import FUNCTION_ENV
from infra.layer import build_functions, build_layer
from infra.signin import SignIn

ROLE_GROUPS = sorted(WORK_ROLES | PM_ROLES)
RETENTION = logs.RetentionDays.ONE_MONTH


class Identity(Construct):
    """The JWT issuer and audience: an existing IdP's (context `jwtIssuer`, `jwtAudience`), or
    a Cognito user pool with the role groups and a `custom:tenant` attribute."""

    def __init__(self, scope: Construct, construct_id: str, *, code: lambda_.Code,
                 layer: lambda_.ILayerVersion, site_url: str) -> None:
        super().__init__(scope, construct_id)
        issuer = self.node.try_get_context("jwtIssuer")
        audience = self.node.try_get_context("jwtAudience")
        # What the inbox needs to sign in through the hosted UI (the docs function's environment).
        self.sign_in: dict[str, str] = {}
        self.signin: SignIn | None = None
        if issuer and audience:
            self.issuer, self.audience = str(issuer), [str(audience)]
            return
        pool = cognito.UserPool(
            self, "UserPool", self_sign_up_enabled=False, sign_in_aliases=cognito.SignInAliases(username=True),
            custom_attributes={"tenant": cognito.StringAttribute(mutable=False, min_len=1, max_len=128)},
            password_policy=cognito.PasswordPolicy(min_length=12, require_digits=True, require_lowercase=True,
                                                   require_uppercase=True, require_symbols=True),
            mfa=cognito.Mfa.OPTIONAL, mfa_second_factor=cognito.MfaSecondFactor(sms=False, otp=True),
            feature_plan=cognito.FeaturePlan.PLUS,
            standard_threat_protection_mode=cognito.StandardThreatProtectionMode.FULL_FUNCTION,
            removal_policy=RemovalPolicy.RETAIN)
        # The inbox (served at the API's `/`) signs in with the authorization code flow and PKCE
        # through the hosted UI; nothing else: no implicit flow, no placeholder callback.
        client = pool.add_client(
            "Client", auth_flows=cognito.AuthFlow(user_srp=True), generate_secret=False,
            prevent_user_existence_errors=True,
            o_auth=cognito.OAuthSettings(
                flows=cognito.OAuthFlows(authorization_code_grant=True),
                scopes=[cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL, cognito.OAuthScope.PROFILE],
                callback_urls=[site_url], logout_urls=[site_url]))
        prefix = self.node.try_get_context("cognitoDomainPrefix") or Fn.join(
            "-", ["baton", Fn.select(2, Fn.split("/", Aws.STACK_ID))])  # unique: the stack's own id
        domain = pool.add_domain("Domain", cognito_domain=cognito.CognitoDomainOptions(domain_prefix=prefix))
        self.sign_in = {"BATON_SIGNIN_URL": domain.base_url(), "BATON_SIGNIN_CLIENT_ID": client.user_pool_client_id}
        # Roles travel as one JSON string claim (`baton:roles`): API Gateway flattens the
        # `cognito:groups` array into "[a b]", where "Domain admin" would read as two groups. The
        # pool's pre-token-generation trigger adds it (with the tenant) to every token: SignIn.trigger.
        for role in ROLE_GROUPS:
            cognito.CfnUserPoolGroup(self, f"Group{role.replace('_', '')}", user_pool_id=pool.user_pool_id,
                                     group_name=role)
        self.issuer = f"https://cognito-idp.{Stack.of(self).region}.amazonaws.com/{pool.user_pool_id}"
        self.signin = SignIn(self, "SignIn", pool=pool, domain=domain)  # the vendors' sign-in flows (infra/signin.py)
        self.audience = [client.user_pool_client_id, *self.signin.audience]
        CfnOutput(self, "UserPoolId", value=pool.user_pool_id)
        CfnOutput(self, "UserPoolClientId", value=client.user_pool_client_id)
        CfnOutput(self, "SignInUrl", value=domain.base_url())


class FamilyFunction(Construct):
    """One API family's function: Python 3.13, arm64, X-Ray, Powertools settings, log retention,
    and table access as narrow as its routes allow."""

    def __init__(self, scope: Construct, construct_id: str, *, family: str, code: lambda_.Code,
                 layer: lambda_.ILayerVersion, table: ddb.ITableV2, environment: dict[str, str]) -> None:
        super().__init__(scope, construct_id)
        routes = [r for r in ROUTES if r.family == family]
        log_group = logs.LogGroup(self, "Logs", retention=RETENTION, removal_policy=RemovalPolicy.DESTROY)
        self.function = lambda_.Function(
            self, "Function", runtime=lambda_.Runtime.PYTHON_3_13, architecture=lambda_.Architecture.ARM_64,
            handler=f"baton_functions.{family}.lambda_handler", code=code, layers=[layer],
            memory_size=512, timeout=Duration.seconds(10), tracing=lambda_.Tracing.ACTIVE, log_group=log_group,
            environment={"TABLE_NAME": table.table_name, "POWERTOOLS_SERVICE_NAME": f"baton-{family}",
                         **FUNCTION_ENV, **environment})
        actions = sorted(set().union(*(r.dynamodb for r in routes)))
        if actions:  # exactly what its routes do (the docs function has no table access at all)
            table.grant(self.function, *(f"dynamodb:{a}" for a in actions))
        depend_on_policy_only(self.function)


def depend_on_policy_only(function: lambda_.Function) -> None:
    """The role is already a dependency through GetAtt; keep only the policy one (cfn-lint W3005)."""
    policy = function.role.node.find_child("DefaultPolicy").node.default_child  # type: ignore[union-attr]
    cfn_function = function.node.default_child
    assert isinstance(cfn_function, lambda_.CfnFunction) and policy is not None
    cfn_function.add_override("DependsOn", [Stack.of(function).get_logical_id(policy)])  # type: ignore[arg-type]


class ApiStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, table: ddb.ITableV2, **kwargs: object) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        layer_dir = build_layer()
        layer = lambda_.LayerVersion(self, "BatonLayer", code=lambda_.Code.from_asset(str(layer_dir)),
                                     compatible_runtimes=[lambda_.Runtime.PYTHON_3_13],
                                     compatible_architectures=[lambda_.Architecture.ARM_64],
                                     description="baton package, Powertools, pydantic (boto3 is in the runtime)")
        self.layer = layer
        code = lambda_.Code.from_asset(str(build_functions()))
        access_logs = logs.LogGroup(self, "AccessLogs", retention=RETENTION, removal_policy=RemovalPolicy.DESTROY)
        self.api = apigw.HttpApi(self, "HttpApi", description="Baton task assignment", create_default_stage=False)
        identity = Identity(self, "Identity", code=code, layer=layer, site_url=self.api.api_endpoint + "/")
        authorizer = authorizers.HttpJwtAuthorizer("Jwt", identity.issuer, jwt_audience=identity.audience)
        stage = apigw.HttpStage(self, "DefaultStage", http_api=self.api, stage_name="$default", auto_deploy=True,
                                throttle=apigw.ThrottleSettings(rate_limit=200, burst_limit=400))
        self.functions: dict[str, lambda_.Function] = {}
        for family in FAMILIES:
            fn = FamilyFunction(self, f"Fn{family.title()}", family=family, code=code, layer=layer, table=table,
                                environment=identity.sign_in if family == "docs" else {})
            self.functions[family] = fn.function
            integration = integrations.HttpLambdaIntegration(f"{family}Integration", fn.function)
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
        if identity.signin:
            identity.signin.wire(self.functions["signin"])
            identity.signin.trigger(code=code, layer=layer, table=table)
        self._access_logs(stage, access_logs)
        self._monitoring(table)
        self._acknowledge()
        CfnOutput(self, "ApiUrl", value=self.api.api_endpoint)

    @staticmethod
    def _access_logs(stage: apigw.HttpStage, group: logs.LogGroup) -> None:
        cfn = stage.node.default_child
        assert isinstance(cfn, apigw.CfnStage)
        cfn.access_log_settings = apigw.CfnStage.AccessLogSettingsProperty(
            destination_arn=group.log_group_arn,
            format='{"requestId":"$context.requestId","ip":"$context.identity.sourceIp",'
                   '"time":"$context.requestTime","method":"$context.httpMethod","path":"$context.path",'
                   '"route":"$context.routeKey","status":"$context.status","latency":"$context.responseLatency",'
                   '"user":"$context.authorizer.claims.sub","integrationError":"$context.integrationErrorMessage"}')

    def _monitoring(self, table: ddb.ITableV2) -> None:
        alarms: list[cw.Alarm] = []

        def alarm(name: str, metric: cw.IMetric, threshold: float = 1) -> cw.Alarm:
            made = cw.Alarm(self, name, metric=metric, threshold=threshold, evaluation_periods=1,
                            comparison_operator=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                            treat_missing_data=cw.TreatMissingData.NOT_BREACHING)
            alarms.append(made)
            return made

        alarm("Api5xx", self.api.metric_server_error(period=Duration.minutes(5)))
        for family, fn in self.functions.items():
            alarm(f"{family.title()}Errors", fn.metric_errors(period=Duration.minutes(5)))
            alarm(f"{family.title()}Throttles", fn.metric_throttles(period=Duration.minutes(5)))
        alarm("DynamoDbThrottles", cw.Metric(namespace="AWS/DynamoDB", metric_name="ThrottledRequests",
                                             dimensions_map={"TableName": table.table_name},
                                             statistic="Sum", period=Duration.minutes(5)))
        dashboard = cw.Dashboard(self, "Dashboard", dashboard_name=f"{self.stack_name}-baton")
        dashboard.add_widgets(
            cw.GraphWidget(title="API requests and errors", left=[self.api.metric_count(),
                                                                   self.api.metric_client_error(),
                                                                   self.api.metric_server_error()]),
            cw.GraphWidget(title="Latency", left=[self.api.metric_latency()]),
            cw.GraphWidget(title="Function errors", left=[fn.metric_errors() for fn in self.functions.values()]),
            cw.GraphWidget(title="Function duration", left=[fn.metric_duration() for fn in self.functions.values()]),
        )
        dashboard.add_widgets(cw.AlarmStatusWidget(title="Alarms", alarms=alarms, width=24))

    def _acknowledge(self) -> None:
        """cdk-nag findings accepted on purpose, each with its reason."""
        for rule, reason in ACKNOWLEDGED:
            Validations.of(self).acknowledge(Acknowledgment(id=rule, reason=reason))


ACKNOWLEDGED: list[tuple[str, str]] = [
    ("AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
     "The AWS managed basic execution policy only lets a function write its own CloudWatch logs."),
    ("AwsSolutions-IAM5[Resource::*]",
     "X-Ray's PutTraceSegments and PutTelemetryRecords accept no resource narrower than '*'."),
    ("AwsSolutions-IAM5[Resource::BatonData:ExportsOutputFnGetAttTableCD117FA1ArnE2C8C204/index/*]",
     "The functions query the table's own global secondary indexes (inbox and task lists)."),
    ("AwsSolutions-COG2",
     "MFA is optional, not required: the vendors' password sign-ins (ProcessMaker's password grant, Itential's "
     "/login) cannot answer an MFA challenge. The pool's full-function threat protection (Plus plan) still "
     "challenges or blocks risky sign-ins and compromised credentials; users can enroll TOTP."),
    ("AwsSolutions-L1",
     "Baton targets Python 3.13 (its layer is built for cp313 on arm64); moving runtimes is a deliberate change."),
]
