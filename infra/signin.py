"""Vendor sign-in backed by the stack's Cognito user pool (see `baton.signin`).

- Client credentials (Itential's `POST /oauth/token`): a resource server `baton` with the scope
  `baton/api`, an app client with a secret allowed only the client-credentials flow for it, and the
  pool's domain (a pool has one; Identity makes it) whose token endpoint the sign-in function calls.
- Passwords (Itential's `POST /login`, ProcessMaker's password grant): an app client with a secret
  allowed only `USER_PASSWORD_AUTH`, used through InitiateAuth (the function reads its secret with
  DescribeUserPoolClient: it is never in the environment). ProcessMaker clients may send another
  such client's id and secret.
- A pre-token-generation trigger (event version 3, which covers client-credentials tokens) puts the
  tenant and roles in every access token: a user's from its `custom:tenant` and groups, a client's
  from its registration in the table (`SIGNIN#CLIENT#<client id>`: `tenant`, `roles`); an
  unregistered client gets no token.
The authorizer accepts the access tokens of both clients (their `client_id` is the audience)."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_dynamodb as ddb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from baton.signin.grants import SCOPE
from infra.function import depend_on_policy_only, python_function

RESOURCE_SERVER, SCOPE_NAME = SCOPE.split("/")


class SignIn(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, pool: cognito.UserPool,
                 domain: cognito.UserPoolDomain) -> None:
        super().__init__(scope, construct_id)
        self.pool = pool
        server = pool.add_resource_server("ResourceServer", identifier=RESOURCE_SERVER, scopes=[
            cognito.ResourceServerScope(scope_name=SCOPE_NAME, scope_description="Call Baton's API")])
        self.machine_client = pool.add_client(
            "ClientCredentialsClient", generate_secret=True, auth_flows=cognito.AuthFlow(),
            o_auth=cognito.OAuthSettings(
                flows=cognito.OAuthFlows(client_credentials=True),
                scopes=[cognito.OAuthScope.resource_server(server, cognito.ResourceServerScope(
                    scope_name=SCOPE_NAME, scope_description="Call Baton's API"))]),
            access_token_validity=Duration.hours(1), prevent_user_existence_errors=True)
        self.password_client = pool.add_client(
            "PasswordClient", generate_secret=True, auth_flows=cognito.AuthFlow(user_password=True),
            disable_o_auth=True, access_token_validity=Duration.hours(1), prevent_user_existence_errors=True)
        self.domain = domain  # the pool's one domain (Identity's), whose token endpoint the function calls
        self.audience = [self.machine_client.user_pool_client_id, self.password_client.user_pool_client_id]

    def trigger(self, *, code: lambda_.Code, layer: lambda_.ILayerVersion, table: ddb.ITableV2,
                retention: logs.RetentionDays = logs.RetentionDays.ONE_MONTH,
                snap_start: bool = False) -> lambda_.Function:
        """The pre-token-generation trigger (reads client registrations: GetItem only)."""
        log_group = logs.LogGroup(self, "TriggerLogs", retention=retention, removal_policy=RemovalPolicy.DESTROY)
        fn, target = python_function(
            self, "PreTokenGeneration", handler="baton_functions.signin.pre_token_generation", code=code,
            layer=layer, log_group=log_group, memory_size=256, timeout=Duration.seconds(5), snap_start=snap_start,
            environment={"TABLE_NAME": table.table_name, "POWERTOOLS_SERVICE_NAME": "baton-signin-trigger"})
        table.grant(fn, "dynamodb:GetItem")
        depend_on_policy_only(fn)
        self.pool.add_trigger(cognito.UserPoolOperation.PRE_TOKEN_GENERATION_CONFIG, target,
                              cognito.LambdaVersion.V3_0)
        return fn

    def wire(self, fn: lambda_.Function) -> None:
        """The sign-in function: where the pool is, and reading its password client's secret."""
        fn.add_environment("SIGNIN_DOMAIN", self.domain.base_url())
        fn.add_environment("SIGNIN_USER_POOL_ID", self.pool.user_pool_id)
        fn.add_environment("SIGNIN_PASSWORD_CLIENT_ID", self.password_client.user_pool_client_id)
        fn.add_to_role_policy(iam.PolicyStatement(actions=["cognito-idp:DescribeUserPoolClient"],
                                                  resources=[self.pool.user_pool_arn]))
