"""The CDK app, synthesized: resources and their key properties, one API route per route-table
entry, cdk-nag's AwsSolutions pack with nothing unacknowledged, cfn-lint clean, and an arm64-only
layer."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App
from aws_cdk.assertions import Match, Template

from baton.routes import FAMILIES, ROUTES
from baton.tasks.stream import PIPE_FILTERS
from infra.app import build, build_all
from infra.layer import build_layer, python313, size_mb

pytestmark = pytest.mark.xdist_group("cdk")  # one worker synthesizes, the layer is built once


@pytest.fixture(scope="module")
def synthesized_all(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Template, Template, Template]:
    out = tmp_path_factory.mktemp("cdk.out")
    app, data, api, events = build_all(App(outdir=str(out)))
    app.synth()
    return out, Template.from_stack(data), Template.from_stack(api), Template.from_stack(events)


@pytest.fixture(scope="module")
def synthesized(synthesized_all: tuple[Path, Template, Template, Template]) -> tuple[Path, Template, Template]:
    out, data, api, _ = synthesized_all
    return out, data, api


@pytest.fixture(scope="module")
def events_stack(synthesized_all: tuple[Path, Template, Template, Template]) -> Template:
    return synthesized_all[3]


def resources(template: Template, kind: str) -> dict[str, Any]:
    found: dict[str, Any] = dict(template.find_resources(kind))
    return found


def test_table(synthesized: tuple[Path, Template, Template]) -> None:
    _, data, _ = synthesized
    data.resource_count_is("AWS::DynamoDB::GlobalTable", 1)
    data.has_resource("AWS::DynamoDB::GlobalTable", {
        "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain",
        "Properties": Match.object_like({
            "BillingMode": "PAY_PER_REQUEST",
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            "GlobalSecondaryIndexes": Match.array_with([Match.object_like({"IndexName": "gsi1"}),
                                                        Match.object_like({"IndexName": "gsi2"})]),
            "SSESpecification": Match.object_like({"SSEEnabled": True}),
            "StreamSpecification": {"StreamViewType": "NEW_AND_OLD_IMAGES"},
            "Replicas": [Match.object_like({
                "DeletionProtectionEnabled": True,
                "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True}})],
        })})


def test_functions(synthesized: tuple[Path, Template, Template]) -> None:
    _, _, api = synthesized
    functions = resources(api, "AWS::Lambda::Function")
    # and the user pool's trigger (test_signin_backed_by_cognito), the callbacks (test_step_functions_callbacks),
    # the escalation sweeper (test_escalation_sweeper_...), the router (test_router_...)
    assert len(functions) == len(FAMILIES) + 4
    handlers = set()
    for fn in functions.values():
        props = fn["Properties"]
        assert props["Runtime"] == "python3.13" and props["Architectures"] == ["arm64"]
        assert props["TracingConfig"] == {"Mode": "Active"}
        assert props["Environment"]["Variables"]["POWERTOOLS_METRICS_NAMESPACE"] == "Baton"
        assert props["Environment"]["Variables"]["PYDANTIC_DISABLE_PLUGINS"] == "__all__"
        assert len(props["Layers"]) == 1
        handlers.add(props["Handler"])
    assert handlers == {f"baton_functions.{f}.lambda_handler" for f in FAMILIES} | {
        "baton_functions.signin.pre_token_generation", "baton_functions.callbacks.lambda_handler",
        "baton_functions.sweeper.lambda_handler", "baton_functions.router.lambda_handler"}
    groups = resources(api, "AWS::Logs::LogGroup")
    assert len(groups) == len(FAMILIES) + 5 and all(g["Properties"]["RetentionInDays"] == 30 for g in groups.values())
    api.resource_count_is("AWS::Lambda::LayerVersion", 1)


def test_least_privilege(synthesized: tuple[Path, Template, Template]) -> None:
    """Each function's policy holds exactly the DynamoDB actions its routes declare (the route
    table's `dynamodb`; tests/infra/test_least_privilege.py checks those cover what each route does)."""
    _, _, api = synthesized
    policies = resources(api, "AWS::IAM::Policy")
    for family in FAMILIES:
        wanted = {f"dynamodb:{a}" for r in ROUTES if r.family == family for a in r.dynamodb}
        docs = [p["Properties"]["PolicyDocument"] for name, p in policies.items()
                if name.startswith(f"Fn{family.title()}")]
        granted = set()
        for doc in docs:
            for statement in doc["Statement"]:
                acts = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                granted |= {a for a in acts if a.startswith("dynamodb:")}
        assert granted == wanted, family
        assert not granted & {"dynamodb:Scan", "dynamodb:BatchWriteItem", "dynamodb:GetRecords", "dynamodb:*"}
    assert {"dynamodb:Scan", "dynamodb:BatchWriteItem"}.isdisjoint(json.dumps(policies).split('"'))


def test_one_route_per_table_entry_with_the_authorizer(synthesized: tuple[Path, Template, Template]) -> None:
    _, _, api = synthesized
    routes = resources(api, "AWS::ApiGatewayV2::Route")
    by_key = {r["Properties"]["RouteKey"]: r["Properties"] for r in routes.values()}
    assert set(by_key) == {f"{r.method} {r.path}" for r in ROUTES}
    for route in ROUTES:
        props = by_key[f"{route.method} {route.path}"]
        if route.auth:
            assert props["AuthorizationType"] == "JWT" and "AuthorizerId" in props, route
        else:
            assert props.get("AuthorizationType", "NONE") == "NONE" and "AuthorizerId" not in props, route
    api.has_resource_properties("AWS::ApiGatewayV2::Authorizer", {"AuthorizerType": "JWT"})


def test_stage_throttling_and_access_logs(synthesized: tuple[Path, Template, Template]) -> None:
    _, _, api = synthesized
    api.has_resource_properties("AWS::ApiGatewayV2::Stage", {
        "StageName": "$default", "AutoDeploy": True,
        "DefaultRouteSettings": Match.object_like({"ThrottlingRateLimit": 200, "ThrottlingBurstLimit": 400}),
        "AccessLogSettings": Match.object_like({"DestinationArn": Match.any_value()})})
    # Every request is logged here (functions log refusals and faults only, below DEBUG).
    stage = next(iter(resources(api, "AWS::ApiGatewayV2::Stage").values()))
    fields = json.loads(stage["Properties"]["AccessLogSettings"]["Format"])
    assert {"requestId", "route", "status", "latency", "user"} <= set(fields)


def test_cognito_by_default(synthesized: tuple[Path, Template, Template]) -> None:
    _, _, api = synthesized
    api.resource_count_is("AWS::Cognito::UserPool", 1)
    api.resource_count_is("AWS::Cognito::UserPoolClient", 3)  # people, client credentials, passwords
    groups = {g["Properties"]["GroupName"] for g in resources(api, "AWS::Cognito::UserPoolGroup").values()}
    assert groups == {"admin", "apiwrite", "engineering", "operations", "PM_FACTORY"}
    client = next(iter(resources(api, "AWS::Cognito::UserPoolClient").values()))["Properties"]
    assert client["PreventUserExistenceErrors"] == "ENABLED"
    # no implicit flow, no placeholder callback: only the inbox's code flow back to the API's `/`
    assert client["AllowedOAuthFlows"] == ["code"]
    assert "example.com" not in json.dumps(client)
    # Roles reach the functions as the `baton:roles` claim the pre-token-generation trigger adds
    # (one trigger for people and clients: test_signin_backed_by_cognito).
    pool = next(iter(resources(api, "AWS::Cognito::UserPool").values()))["Properties"]
    assert set(pool["LambdaConfig"]) == {"PreTokenGenerationConfig"}
    trigger = pool["LambdaConfig"]["PreTokenGenerationConfig"]["LambdaArn"]["Fn::GetAtt"][0]
    handler = resources(api, "AWS::Lambda::Function")[trigger]["Properties"]["Handler"]
    assert handler == "baton_functions.signin.pre_token_generation"


def test_signin_backed_by_cognito(synthesized: tuple[Path, Template, Template]) -> None:
    """The vendors' sign-in flows in AWS: a resource server and a client-credentials app client, a
    password app client, the pool's domain, a version-3 pre-token-generation trigger that may read
    client registrations, and the sign-in function wired to the pool."""
    _, _, api = synthesized
    api.has_resource_properties("AWS::Cognito::UserPoolResourceServer", {
        "Identifier": "baton", "Scopes": [Match.object_like({"ScopeName": "api"})]})
    clients = [c["Properties"] for c in resources(api, "AWS::Cognito::UserPoolClient").values()]
    machine = [c for c in clients if c.get("AllowedOAuthFlows") == ["client_credentials"]]
    assert len(machine) == 1 and machine[0]["GenerateSecret"] is True
    assert machine[0]["AllowedOAuthFlowsUserPoolClient"] is True and len(machine[0]["AllowedOAuthScopes"]) == 1
    password = [c for c in clients if "ALLOW_USER_PASSWORD_AUTH" in c.get("ExplicitAuthFlows", [])]
    assert len(password) == 1 and password[0]["GenerateSecret"] is True
    assert password[0]["PreventUserExistenceErrors"] == "ENABLED"
    api.resource_count_is("AWS::Cognito::UserPoolDomain", 1)
    pool = next(iter(resources(api, "AWS::Cognito::UserPool").values()))["Properties"]
    config = pool["LambdaConfig"]["PreTokenGenerationConfig"]
    assert config["LambdaVersion"] == "V3_0"
    trigger_id = config["LambdaArn"]["Fn::GetAtt"][0]
    trigger = resources(api, "AWS::Lambda::Function")[trigger_id]["Properties"]
    assert trigger["Handler"] == "baton_functions.signin.pre_token_generation"
    policies = {name: json.dumps(p["Properties"]["PolicyDocument"]) for name, p in
                resources(api, "AWS::IAM::Policy").items()}
    trigger_policy = next(text for name, text in policies.items() if name.startswith("IdentitySignInPreToken"))
    assert "dynamodb:GetItem" in trigger_policy and "dynamodb:PutItem" not in trigger_policy
    signin = next(f["Properties"] for f in resources(api, "AWS::Lambda::Function").values()
                  if f["Properties"]["Handler"] == "baton_functions.signin.lambda_handler")
    assert {"SIGNIN_DOMAIN", "SIGNIN_USER_POOL_ID", "SIGNIN_PASSWORD_CLIENT_ID"} <= set(
        signin["Environment"]["Variables"])
    signin_policy = next(text for name, text in policies.items() if name.startswith("FnSignin"))
    assert "cognito-idp:DescribeUserPoolClient" in signin_policy and "dynamodb:" not in signin_policy
    authorizer = next(iter(resources(api, "AWS::ApiGatewayV2::Authorizer").values()))["Properties"]
    assert len(authorizer["JwtConfiguration"]["Audience"]) == 3  # people's, the machine's, the password client's
    for route in ("POST /oauth/token", "POST /login", "POST /{workspace}/oauth2/token"):
        api.has_resource_properties("AWS::ApiGatewayV2::Route", {"RouteKey": route, "AuthorizationType": "NONE"})


def test_inbox_signs_in_through_the_hosted_ui_with_the_code_flow(synthesized: tuple[Path, Template, Template]) -> None:
    _, _, api = synthesized
    client = next(iter(resources(api, "AWS::Cognito::UserPoolClient").values()))["Properties"]
    assert client["AllowedOAuthFlows"] == ["code"] and client["AllowedOAuthFlowsUserPoolClient"] is True
    assert client["GenerateSecret"] is False and client["PreventUserExistenceErrors"] == "ENABLED"
    assert set(client["AllowedOAuthScopes"]) == {"openid", "email", "profile"}
    # the callback is the inbox itself: the API's own endpoint, `/`
    http_api = next(iter(resources(api, "AWS::ApiGatewayV2::Api")))
    callback = json.dumps(client["CallbackURLs"])
    assert http_api in callback and '"/"' in callback and "example.com" not in callback
    assert client["LogoutURLs"] == client["CallbackURLs"]
    api.resource_count_is("AWS::Cognito::UserPoolDomain", 1)
    functions = resources(api, "AWS::Lambda::Function")
    for name, fn in functions.items():
        variables = fn["Properties"]["Environment"]["Variables"]
        if name.startswith("FnDocs"):
            assert {"BATON_SIGNIN_URL", "BATON_SIGNIN_CLIENT_ID"} <= set(variables)
        else:
            assert "BATON_SIGNIN_URL" not in variables


def test_existing_idp_from_context(tmp_path: Path) -> None:
    app = App(outdir=str(tmp_path), context={"jwtIssuer": "https://idp.example.com/", "jwtAudience": "baton-api"})
    _, _, api = build(app)
    template = Template.from_stack(api)
    template.resource_count_is("AWS::Cognito::UserPool", 0)
    template.resource_count_is("AWS::Cognito::UserPoolDomain", 0)
    for fn in resources(template, "AWS::Lambda::Function").values():
        assert "BATON_SIGNIN_URL" not in fn["Properties"]["Environment"]["Variables"]  # the inbox takes a token
    template.has_resource_properties("AWS::ApiGatewayV2::Authorizer", {
        "JwtConfiguration": {"Issuer": "https://idp.example.com/", "Audience": ["baton-api"]}})


def test_alarms_and_dashboard(synthesized: tuple[Path, Template, Template]) -> None:
    _, _, api = synthesized
    alarms = resources(api, "AWS::CloudWatch::Alarm")
    # and the callbacks' dead letters (test_step_functions_callbacks), the escalation sweeper's three,
    # the router's four (test_router_...)
    assert len(alarms) == 2 + 2 * len(FAMILIES) + 1 + 3 + 4
    metrics = {a["Properties"].get("MetricName") for a in alarms.values()}
    assert {"5xx", "Errors", "Throttles", "ThrottledRequests"} <= metrics
    api.resource_count_is("AWS::CloudWatch::Dashboard", 1)


def test_cdk_nag_reports_nothing_unacknowledged(synthesized: tuple[Path, Template, Template]) -> None:
    out, _, _ = synthesized
    report_path = out / "validation-report.json"
    report = json.loads(report_path.read_text())
    assert report["pluginReports"] == [] or all(not p["violations"] for p in report["pluginReports"])
    from infra.api import ACKNOWLEDGED

    assert all(reason.strip() for _, reason in ACKNOWLEDGED)


def test_cfn_lint_is_clean(synthesized: tuple[Path, Template, Template]) -> None:
    out, _, _ = synthesized
    templates = sorted(str(p) for p in out.glob("*.template.json"))
    assert len(templates) == 3
    cfn_lint = shutil.which("cfn-lint", path=str(Path(sys.executable).parent)) or "cfn-lint"
    result = subprocess.run([cfn_lint, *templates], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.strip() == "", result.stdout + result.stderr


def test_layer_is_arm64_only_and_lean() -> None:
    layer = build_layer()
    shared = list(layer.rglob("*.so"))
    assert shared, "expected compiled extensions (pydantic-core)"
    for so in shared:
        header = so.read_bytes()[:20]
        assert header[:4] == b"\x7fELF"
        machine = int.from_bytes(header[18:20], "little")
        assert machine == 183, f"{so} is not aarch64 (e_machine {machine})"  # 62 would be x86_64
    assert not (layer / "python" / "boto3").exists() and not (layer / "python" / "botocore").exists()
    assert (layer / "python" / "baton" / "tasks" / "service.py").exists()
    assert not (layer / "python" / "baton" / "local").exists() and not (layer / "python" / "baton_local").exists()
    # the pages and Swagger UI's two assets, without the rest of swagger-ui-py (or its imports)
    assert {p.name for p in (layer / "python" / "baton" / "web").glob("*.*")} >= {"inbox.html", "inbox.js",
                                                                                  "swagger.html"}
    assert sorted(p.name for p in (layer / "python" / "swagger_ui" / "static").iterdir()) == [
        "swagger-ui-bundle.js", "swagger-ui.css"]
    assert not (layer / "python" / "swagger_ui" / "__init__.py").exists()
    probe = subprocess.run([sys.executable, "-I", "-S", "-c",  # no site-packages: only the layer
                            "import sys; sys.path.insert(0, sys.argv[1]); from baton import web; "
                            "print(len(web.swagger_asset('swagger-ui-bundle.js').body))", str(layer / "python")],
                           capture_output=True, text=True, check=False)
    assert probe.returncode == 0 and int(probe.stdout) > 1_000_000, probe.stderr
    assert size_mb(layer) <= 25


def test_layer_ships_bytecode_for_python_313() -> None:
    """Without bytecode, a read-only /opt makes the runtime compile every module on every cold start."""
    compiler = python313()
    assert compiler, "this machine has a Python 3.13 (pyenv); the layer's bytecode needs one"
    magic = bytes.fromhex(subprocess.run([compiler, "-c", "import importlib.util as u; print(u.MAGIC_NUMBER.hex())"],
                                         capture_output=True, text=True, check=True).stdout.strip())
    layer = build_layer()
    for module in ("baton/tasks/service", "baton/edge/entry", "aws_lambda_powertools/event_handler/api_gateway",
                   "pydantic/main"):
        source = layer / "python" / f"{module}.py"
        compiled = source.parent / "__pycache__" / f"{source.stem}.cpython-313.pyc"
        assert compiled.exists(), compiled
        header = compiled.read_bytes()[:8]
        assert header[:4] == magic, f"{compiled} is not Python 3.13 bytecode"
        assert int.from_bytes(header[4:8], "little") == 0b01, "unchecked-hash bytecode expected"


def test_events_pipe_from_the_table_stream_to_the_bus(synthesized_all: tuple[Path, Template, Template, Template],
                                                       events_stack: Template) -> None:
    _, data, _, _ = synthesized_all
    events_stack.resource_count_is("AWS::Pipes::Pipe", 1)
    pipe = next(iter(resources(events_stack, "AWS::Pipes::Pipe").values()))["Properties"]
    assert "StreamArn" in json.dumps(pipe["Source"])  # the data stack's table stream
    source = pipe["SourceParameters"]["DynamoDBStreamParameters"]
    assert source["StartingPosition"] == "TRIM_HORIZON" and source["MaximumRetryAttempts"] >= 1
    assert source["ParallelizationFactor"] == 1  # one batch per shard at a time: stream order kept
    dlq = source["DeadLetterConfig"]["Arn"]["Fn::GetAtt"][0]
    assert resources(events_stack, "AWS::SQS::Queue")[dlq]["Properties"]["SqsManagedSseEnabled"] is True
    filters = [json.loads(f["Pattern"]) for f in pipe["SourceParameters"]["FilterCriteria"]["Filters"]]
    # task history changes only (tests/integration/test_events.py checks them on real records)
    assert filters == PIPE_FILTERS
    bus = pipe["Target"]["Fn::GetAtt"][0]
    assert resources(events_stack, "AWS::Events::EventBus")[bus]
    assert pipe["TargetParameters"]["EventBridgeEventBusParameters"] == {"Source": "baton",
                                                                       "DetailType": "Baton task change"}
    enrich = pipe["Enrichment"]["Fn::GetAtt"][0]
    function = resources(events_stack, "AWS::Lambda::Function")[enrich]["Properties"]
    assert function["Handler"] == "baton_functions.task_events.lambda_handler"
    assert function["Runtime"] == "python3.13" and function["Architectures"] == ["arm64"]
    # The pipe's role reads the stream, invokes the enrichment, puts on the bus, sends to the DLQ: nothing more.
    role_policy = json.dumps(next(p for name, p in resources(events_stack, "AWS::IAM::Policy").items()
                                  if name.startswith("TaskEventsPipeRole"))["Properties"]["PolicyDocument"])
    for action in ("dynamodb:GetRecords", "lambda:InvokeFunction", "events:PutEvents", "sqs:SendMessage"):
        assert action in role_policy
    assert "dynamodb:GetItem" not in role_policy and '"*"' not in role_policy


def test_events_archive_and_example_rule(events_stack: Template) -> None:
    events_stack.has_resource_properties("AWS::Events::Archive", {
        "RetentionDays": 365, "EventPattern": {"source": ["baton"]}})
    events_stack.has_resource_properties("AWS::Events::Rule", {
        "EventPattern": {"source": ["baton"],
                         "detail": {"type": ["baton.task.claim", "baton.task.assign", "baton.task.reassign"]}},
        "Targets": [Match.object_like({"Arn": Match.any_value()})]})
    events_stack.has_resource_properties("AWS::CloudWatch::Alarm", {"MetricName": "ApproximateNumberOfMessagesVisible"})


def test_escalation_sweeper_every_minute_least_privilege_and_alarms(synthesized: tuple[Path, Template, Template]
                                                                     ) -> None:
    """EventBridge Scheduler invokes the sweeper function every minute through a role that may
    invoke that function only; the function holds exactly the DynamoDB actions a sweep needs
    (tests/infra/test_sweeper.py replays sweeps against them); alarms on its errors, on sweeps that
    could not fire a step, and on lag (late or missing sweeps)."""
    from infra.sweeper import LAG_ALARM_SECONDS, SWEEPER_ACTIONS

    _, _, api = synthesized
    [(fn_id, fn)] = [(k, v) for k, v in resources(api, "AWS::Lambda::Function").items()
                     if v["Properties"]["Handler"] == "baton_functions.sweeper.lambda_handler"]
    assert fn["Properties"]["ReservedConcurrentExecutions"] == 1
    [schedule] = resources(api, "AWS::Scheduler::Schedule").values()
    props = schedule["Properties"]
    assert props["ScheduleExpression"] == "rate(1 minute)" and props["State"] == "ENABLED"
    assert props["Target"]["Arn"] == {"Fn::GetAtt": [fn_id, "Arn"]}
    role_id = props["Target"]["RoleArn"]["Fn::GetAtt"][0]
    policies = resources(api, "AWS::IAM::Policy")
    role_statements = [s for p in policies.values() if p["Properties"]["Roles"] == [{"Ref": role_id}]
                       for s in p["Properties"]["PolicyDocument"]["Statement"]]
    assert role_statements == [{"Action": "lambda:InvokeFunction", "Effect": "Allow",
                                "Resource": {"Fn::GetAtt": [fn_id, "Arn"]}}]
    fn_role = fn["Properties"]["Role"]["Fn::GetAtt"][0]
    granted = {a for p in policies.values() if p["Properties"]["Roles"] == [{"Ref": fn_role}]
               for s in p["Properties"]["PolicyDocument"]["Statement"]
               for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
               if a.startswith("dynamodb:")}
    assert granted == {f"dynamodb:{a}" for a in SWEEPER_ACTIONS}
    assert not granted & {"dynamodb:Scan", "dynamodb:BatchWriteItem", "dynamodb:*"}
    alarms = {a["Properties"].get("MetricName"): a["Properties"] for a in resources(api, "AWS::CloudWatch::Alarm")
              .values() if "baton-sweeper" in json.dumps(a) or fn_id in json.dumps(a)}
    assert set(alarms) == {"Errors", "SweepFailures", "SweepLagSeconds"}
    assert alarms["SweepLagSeconds"]["Threshold"] == LAG_ALARM_SECONDS
    assert alarms["SweepLagSeconds"]["TreatMissingData"] == "breaching"  # no sweep is an alarm too


def test_an_alarm_on_stream_records_that_cannot_become_events(events_stack: Template) -> None:
    """Issue 23, item 2: the enrichment skips a poison record and counts it (SkippedStreamRecords,
    tests/unit/test_eventfeed.py); one such record in five minutes raises the alarm."""
    events_stack.has_resource_properties("AWS::CloudWatch::Alarm", {
        "Namespace": "Baton", "MetricName": "SkippedStreamRecords", "Statistic": "Sum", "Threshold": 1,
        "ComparisonOperator": "GreaterThanOrEqualToThreshold", "EvaluationPeriods": 1})


def test_step_functions_callbacks(synthesized: tuple[Path, Template, Template]) -> None:
    """A stream-fed function with retries, bisection, partial-batch failures and a dead-letter queue
    with an alarm; it may send task results and nothing else of Step Functions."""
    _, _, api = synthesized
    mapping = next(m["Properties"] for m in resources(api, "AWS::Lambda::EventSourceMapping").values()
                   if "callbackToken" in json.dumps(m["Properties"].get("FilterCriteria")))
    assert mapping["StartingPosition"] == "TRIM_HORIZON" and mapping["BisectBatchOnFunctionError"] is True
    assert mapping["MaximumRetryAttempts"] == 10 and mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert "OnFailure" in mapping["DestinationConfig"]
    assert "callbackToken" in json.dumps(mapping["FilterCriteria"])
    docs = [p["Properties"]["PolicyDocument"] for name, p in resources(api, "AWS::IAM::Policy").items()
            if name.startswith("CallbacksDeliver")]
    actions = {a for doc in docs for st in doc["Statement"]
               for a in (st["Action"] if isinstance(st["Action"], list) else [st["Action"]])}
    assert {a for a in actions if a.startswith("states:")} == {
        "states:SendTaskSuccess", "states:SendTaskFailure", "states:SendTaskHeartbeat"}
    assert {a for a in actions if a.startswith("dynamodb:") and "Stream" not in a and "Records" not in a
            and "ShardIterator" not in a} == {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"}
    alarms = resources(api, "AWS::CloudWatch::Alarm")
    assert any("callback" in a["Properties"].get("AlarmDescription", "") for a in alarms.values())


def test_cursors_are_keyed_by_a_secret_of_the_deployment(synthesized: tuple[Path, Template, Template]) -> None:
    """Issue 23, item 5: the listing cursors' fingerprint was an unkeyed hash anyone could compute;
    every API function now gets the deployment's own generated secret (resolved at deployment)."""
    _, _, api = synthesized
    secrets = resources(api, "AWS::SecretsManager::Secret")
    (secret,) = [name for name, s in secrets.items() if "cursor" in s["Properties"].get("Description", "").lower()]
    assert secrets[secret]["Properties"]["GenerateSecretString"]["PasswordLength"] >= 32
    functions = [f["Properties"] for f in resources(api, "AWS::Lambda::Function").values()
                 if str(f["Properties"].get("Handler", "")).endswith(("tasks.lambda_handler",
                                                                       "conductorone.lambda_handler"))]
    assert len(functions) == 2
    for function in functions:
        key = json.dumps(function["Environment"]["Variables"]["BATON_CURSOR_KEY"])
        assert "resolve:secretsmanager" in key and secret in key, key


def test_router_fed_by_the_stream_least_privilege_and_alarms(synthesized: tuple[Path, Template, Template]) -> None:
    """Issue 25: the router function runs off the table's stream through a filtered event source
    mapping (retries, bisection, partial-batch failures, a dead-letter queue), consumes its offer
    timers' queue, holds exactly the DynamoDB actions routing needs (tests/infra/test_router.py
    replays routing against them) and may send to its own queue only; four alarms."""
    from baton.tasks.stream import ROUTER_FILTERS
    from infra.router import ITERATOR_AGE_ALARM_MS, ROUTER_ACTIONS

    _, _, api = synthesized
    [(fn_id, fn)] = [(k, v) for k, v in resources(api, "AWS::Lambda::Function").items()
                     if v["Properties"]["Handler"] == "baton_functions.router.lambda_handler"]
    variables = fn["Properties"]["Environment"]["Variables"]
    assert variables["POWERTOOLS_SERVICE_NAME"] == "baton-router" and "TABLE_NAME" in variables
    offer_queue = variables["BATON_OFFER_QUEUE_URL"]["Ref"]
    mappings = [m["Properties"] for m in resources(api, "AWS::Lambda::EventSourceMapping").values()
                if m["Properties"]["FunctionName"] == {"Ref": fn_id}]
    [stream] = [m for m in mappings if "StreamArn" in json.dumps(m["EventSourceArn"])]
    [timers] = [m for m in mappings if m is not stream]
    assert stream["StartingPosition"] == "TRIM_HORIZON" and stream["BisectBatchOnFunctionError"] is True
    assert stream["MaximumRetryAttempts"] == 10 and stream["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert stream["ParallelizationFactor"] == 1 and "MaximumBatchingWindowInSeconds" not in stream
    dead = stream["DestinationConfig"]["OnFailure"]["Destination"]["Fn::GetAtt"][0]
    assert [json.loads(f["Pattern"]) for f in stream["FilterCriteria"]["Filters"]] == ROUTER_FILTERS
    assert timers["EventSourceArn"] == {"Fn::GetAtt": [offer_queue, "Arn"]}
    assert timers["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    queues = resources(api, "AWS::SQS::Queue")
    assert queues[offer_queue]["Properties"]["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": [dead, "Arn"]}
    assert all(queues[q]["Properties"]["SqsManagedSseEnabled"] is True for q in (offer_queue, dead))
    role = fn["Properties"]["Role"]["Fn::GetAtt"][0]
    statements = [s for p in resources(api, "AWS::IAM::Policy").values() if p["Properties"]["Roles"] == [{"Ref": role}]
                  for s in p["Properties"]["PolicyDocument"]["Statement"]]

    def actions(statement: dict[str, Any]) -> set[str]:
        return set(statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]])

    granted = {a for s in statements for a in actions(s)}
    stream_reads = {"dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator",
                    "dynamodb:ListStreams"}
    assert {a for a in granted if a.startswith("dynamodb:")} == {f"dynamodb:{a}" for a in ROUTER_ACTIONS} | stream_reads
    assert not granted & {"dynamodb:Scan", "dynamodb:BatchWriteItem", "dynamodb:*", "sqs:*"}
    for statement in statements:
        if actions(statement) & {"sqs:SendMessage", "sqs:ReceiveMessage", "sqs:DeleteMessage"}:
            assert statement["Resource"] in ({"Fn::GetAtt": [offer_queue, "Arn"]}, {"Fn::GetAtt": [dead, "Arn"]}), \
                statement
    assert any("sqs:SendMessage" in actions(s) and s["Resource"] == {"Fn::GetAtt": [offer_queue, "Arn"]}
               for s in statements)
    alarms = [a["Properties"] for a in resources(api, "AWS::CloudWatch::Alarm").values()
              if fn_id in json.dumps(a) or dead in json.dumps(a)
              or a["Properties"].get("MetricName") == "SkippedRouterRecords"]
    by_metric = {a["MetricName"]: a for a in alarms}
    assert set(by_metric) == {"Errors", "IteratorAge", "SkippedRouterRecords", "ApproximateNumberOfMessagesVisible"}
    assert by_metric["IteratorAge"]["Threshold"] == ITERATOR_AGE_ALARM_MS
    assert by_metric["SkippedRouterRecords"]["Namespace"] == "Baton"
