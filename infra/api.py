"""The API's parts (the `Baton` construct, infra/construct.py, puts them together): the identity
(a Cognito user pool with the vendors' sign-in, or an existing issuer), one function per API
family, access logs, alarms and dashboard, and the cdk-nag findings accepted on purpose."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Aws, CfnOutput, Duration, Fn, RemovalPolicy, Stack
from aws_cdk import aws_apigatewayv2 as apigw
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_dynamodb as ddb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from baton.domain import PM_ROLES, WORK_ROLES
from baton.routes import ROUTES
from infra.function import depend_on_policy_only, python_function
from infra.signin import SignIn

ROLE_GROUPS = sorted(WORK_ROLES | PM_ROLES)
INDEX_GRANT = "The functions query the table's own global secondary indexes (inbox and task lists)."
RETENTION = logs.RetentionDays.ONE_MONTH


class Identity(Construct):
    """The JWT issuer and audience: an existing IdP's (`issuer`, `audience`), or a Cognito user pool
    with the role groups and a `custom:tenant` attribute, whose hosted-UI domain is `domain_prefix`
    (default: `baton-<unique>`)."""

    def __init__(self, scope: Construct, construct_id: str, *, site_url: str, issuer: str | None = None,
                 audience: Sequence[str] = (), domain_prefix: str | None = None) -> None:
        super().__init__(scope, construct_id)
        # What the inbox needs to sign in through the hosted UI (the docs function's environment).
        self.sign_in: dict[str, str] = {}
        self.signin: SignIn | None = None
        if issuer:
            assert audience, "an existing identity provider needs its audience too"
            self.issuer, self.audience = issuer, list(audience)
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
        # Unique: this construct's address and the stack's own id (a domain prefix is global per region).
        prefix = domain_prefix or Fn.join("-", ["baton", self.node.addr[:8], Fn.select(2, Fn.split("/", Aws.STACK_ID))])
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
    and table access as narrow as its routes allow. `target` is what the API invokes (the
    function, or with SnapStart its alias)."""

    def __init__(self, scope: Construct, construct_id: str, *, family: str, code: lambda_.Code,
                 layer: lambda_.ILayerVersion, table: ddb.ITableV2, environment: dict[str, str],
                 retention: logs.RetentionDays = RETENTION, snap_start: bool = False) -> None:
        super().__init__(scope, construct_id)
        routes = [r for r in ROUTES if r.family == family]
        log_group = logs.LogGroup(self, "Logs", retention=retention, removal_policy=RemovalPolicy.DESTROY)
        self.function, self.target = python_function(
            self, "Function", handler=f"baton_functions.{family}.lambda_handler", code=code, layer=layer,
            log_group=log_group, memory_size=512, timeout=Duration.seconds(10), snap_start=snap_start,
            environment={"TABLE_NAME": table.table_name, "POWERTOOLS_SERVICE_NAME": f"baton-{family}", **environment})
        actions = sorted(set().union(*(r.dynamodb for r in routes)))
        if actions:  # exactly what its routes do (the docs function has no table access at all)
            table.grant(self.function, *(f"dynamodb:{a}" for a in actions))
        depend_on_policy_only(self.function)


def access_logs(stage: apigw.HttpStage, group: logs.LogGroup) -> None:
    cfn = stage.node.default_child
    assert isinstance(cfn, apigw.CfnStage)
    cfn.access_log_settings = apigw.CfnStage.AccessLogSettingsProperty(
        destination_arn=group.log_group_arn,
        format='{"requestId":"$context.requestId","ip":"$context.identity.sourceIp",'
               '"time":"$context.requestTime","method":"$context.httpMethod","path":"$context.path",'
               '"route":"$context.routeKey","status":"$context.status","latency":"$context.responseLatency",'
               '"user":"$context.authorizer.claims.sub","integrationError":"$context.integrationErrorMessage"}')


def monitoring(scope: Construct, api: apigw.HttpApi, functions: dict[str, lambda_.Function], table: ddb.ITableV2,
               dashboard_name: str | None) -> None:
    """Alarms (API 5xx, each function's errors and throttles, the table's throttles) and a dashboard."""
    alarms: list[cw.Alarm] = []

    def alarm(name: str, metric: cw.IMetric, threshold: float = 1) -> cw.Alarm:
        made = cw.Alarm(scope, name, metric=metric, threshold=threshold, evaluation_periods=1,
                        comparison_operator=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                        treat_missing_data=cw.TreatMissingData.NOT_BREACHING)
        alarms.append(made)
        return made

    alarm("Api5xx", api.metric_server_error(period=Duration.minutes(5)))
    for family, fn in functions.items():
        alarm(f"{family.title()}Errors", fn.metric_errors(period=Duration.minutes(5)))
        alarm(f"{family.title()}Throttles", fn.metric_throttles(period=Duration.minutes(5)))
    alarm("DynamoDbThrottles", cw.Metric(namespace="AWS/DynamoDB", metric_name="ThrottledRequests",
                                         dimensions_map={"TableName": table.table_name},
                                         statistic="Sum", period=Duration.minutes(5)))
    dashboard = cw.Dashboard(scope, "Dashboard", dashboard_name=dashboard_name)
    dashboard.add_widgets(
        cw.GraphWidget(title="API requests and errors", left=[api.metric_count(), api.metric_client_error(),
                                                               api.metric_server_error()]),
        cw.GraphWidget(title="Latency", left=[api.metric_latency()]),
        cw.GraphWidget(title="Function errors", left=[fn.metric_errors() for fn in functions.values()]),
        cw.GraphWidget(title="Function duration", left=[fn.metric_duration() for fn in functions.values()]),
    )
    dashboard.add_widgets(cw.AlarmStatusWidget(title="Alarms", alarms=alarms, width=24))


# cdk-nag findings accepted on purpose, each with its reason (the construct acknowledges them on its
# own resources; the table's index grant is named after the table's ARN, so the construct adds it).
ACKNOWLEDGED: list[tuple[str, str]] = [
    ("AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
     "The AWS managed basic execution policy only lets a function write its own CloudWatch logs."),
    ("AwsSolutions-IAM5[Resource::*]",
     "X-Ray's PutTraceSegments and PutTelemetryRecords accept no resource narrower than '*'."),
    ("AwsSolutions-COG2",
     "MFA is optional, not required: the vendors' password sign-ins (ProcessMaker's password grant, Itential's "
     "/login) cannot answer an MFA challenge. The pool's full-function threat protection (Plus plan) still "
     "challenges or blocks risky sign-ins and compromised credentials; users can enroll TOTP."),
    ("AwsSolutions-L1",
     "Baton targets Python 3.13 (its layer is built for cp313 on arm64); moving runtimes is a deliberate change."),
]
