"""template.yaml is coherent with the code, and the local runtime reads CloudFormation correctly."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from orchestrator.clients.embeddings.embedded import EmbeddedEmbedder
from orchestrator.config import Settings
from orchestrator.local.template import Template, TemplateError, load_template
from orchestrator.secrets import is_placeholder

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
NODE_FUNCTIONS = {
    "IntentRouterFunction",
    "PlannerFunction",
    "LlmAgentFunction",
    "ExternalAgentFunction",
    "ToolExecutorFunction",
    "GroundingFunction",
    "MemoryStoreFunction",
}


@pytest.fixture(scope="module")
def template() -> Template:
    return Template.from_file(TEMPLATE, region="eu-west-1", stack_name="orchestrator-test")


def _resources(template: Template, kind: str) -> dict[str, dict[str, Any]]:
    return template.resources(kind)


def _policies(template: Template, logical_id: str) -> set[tuple[str, str]]:
    """(policy template or "Statement", target) pairs; a Ref to a resource reads as its logical id."""
    found: set[tuple[str, str]] = set()
    policies = template.document["Resources"][logical_id]["Properties"].get("Policies", [])
    for policy in template.resolve(policies, ref=lambda name: name, get_att=lambda name, _: name):
        if isinstance(policy, str):  # a managed policy by reference
            found.add(("ManagedPolicy", policy))
            continue
        ((name, args),) = policy.items()
        if name == "Statement":
            found |= {("Statement", str(statement["Action"])) for statement in args}
        else:
            found.add((name, str(next(iter(args.values())))))
    return found


def test_functions_share_runtime_and_architecture_with_the_layer(template: Template) -> None:
    function_globals = template.document["Globals"]["Function"]
    layer = template.document["Resources"]["CoreLayer"]
    assert function_globals["Runtime"] in layer["Properties"]["CompatibleRuntimes"]
    assert function_globals["Architectures"] == layer["Properties"]["CompatibleArchitectures"]
    assert layer["Metadata"]["BuildArchitecture"] == function_globals["Architectures"][0]
    # The layer is a makefile build (arm64 wheels + model files); its Makefile must target the runtime.
    assert layer["Metadata"]["BuildMethod"] == "makefile"
    makefile = (ROOT / layer["Properties"]["ContentUri"] / "Makefile").read_text()
    assert "build-CoreLayer:" in makefile
    assert f"--python-version {function_globals['Runtime'].removeprefix('python')}" in makefile
    assert "manylinux_2_34_aarch64" in makefile and function_globals["Architectures"] == ["arm64"]
    assert (ROOT / layer["Properties"]["ContentUri"] / "requirements.txt").is_file()


def test_every_function_points_at_an_existing_handler_file(template: Template) -> None:
    functions = _resources(template, "AWS::Serverless::Function")
    assert set(functions) == NODE_FUNCTIONS | {
        "ApiFunction",
        "StreamFunction",
        "CodeExecutorFunction",
        "DocumentIngestFunction",
    }
    for logical_id in functions:
        props = template.function_properties(logical_id)
        if props["Handler"] == "run.sh":  # the Lambda Web Adapter runs the script (StreamFunction)
            script = ROOT / props["CodeUri"] / "run.sh"
            assert script.is_file() and script.stat().st_mode & 0o111, logical_id
            assert "orchestrator.api:create_app" in script.read_text()
            continue
        module = props["Handler"].rsplit(".", 1)[0]
        assert (ROOT / props["CodeUri"] / f"{module}.py").is_file(), logical_id


def test_state_machines_substitute_exactly_the_node_function_arns(template: Template) -> None:
    machines = _resources(template, "AWS::Serverless::StateMachine")
    assert {name: m["Properties"]["Type"] for name, m in machines.items()} == {
        "ChatStateMachine": "EXPRESS",
        "RunsStateMachine": "STANDARD",
    }
    for logical_id, machine in machines.items():
        props = machine["Properties"]
        asl = (ROOT / props["DefinitionUri"]).read_text(encoding="utf-8")
        placeholders = set(re.findall(r"\$\{(\w+)\}", asl))
        substitutions = props["DefinitionSubstitutions"]
        assert placeholders == set(substitutions), logical_id
        targets = {value["Fn::GetAtt"][0] for value in substitutions.values()}
        assert targets == NODE_FUNCTIONS
        invokable = {
            target for name, target in _policies(template, logical_id) if name == "LambdaInvokePolicy"
        }
        assert invokable == NODE_FUNCTIONS, logical_id


def test_ssm_parameters_are_settings_under_the_settings_path(template: Template) -> None:
    env = template.resolve(
        template.document["Globals"]["Function"]["Environment"]["Variables"]["SETTINGS_SSM_PATH"]
    )
    assert env == "/orchestrator/dev"
    names = [
        template.resolve(p["Properties"]["Name"])
        for p in _resources(template, "AWS::SSM::Parameter").values()
    ]
    assert names, "no settings parameters"
    for name in names:
        path, leaf = name.rsplit("/", 1)
        assert path == env
        assert leaf in Settings.model_fields, f"{name} does not name a Settings field"


def test_optional_parameters_exist_only_when_given() -> None:
    default = Template.from_file(TEMPLATE, region="us-east-1", stack_name="s")
    assert "LlmBaseUrlParameter" not in default.resources("AWS::SSM::Parameter")
    given = Template.from_file(
        TEMPLATE,
        region="us-east-1",
        stack_name="s",
        parameter_overrides={"LlmBaseUrl": "http://127.0.0.1:11434/v1", "Env": "prod"},
    )
    parameter = given.resources("AWS::SSM::Parameter")["LlmBaseUrlParameter"]
    assert given.resolve(parameter["Properties"]["Name"]) == "/orchestrator/prod/llm_base_url"
    assert given.conditions["IsProd"] is True


def test_environment_variables_name_settings(template: Template) -> None:
    not_settings = {
        "POWERTOOLS_SERVICE_NAME",
        "POWERTOOLS_METRICS_NAMESPACE",
        "POWERTOOLS_TRACE_DISABLED",
        "SETTINGS_SSM_PATH",
        # The Lambda Web Adapter's own (StreamFunction).
        "AWS_LAMBDA_EXEC_WRAPPER",
        "AWS_LWA_INVOKE_MODE",
        "AWS_LWA_PORT",
        "AWS_LWA_READINESS_CHECK_PATH",
    }
    for logical_id in _resources(template, "AWS::Serverless::Function"):
        variables = template.function_properties(logical_id)["Environment"]["Variables"]
        for key in set(variables) - not_settings:
            assert key.lower() in Settings.model_fields, f"{logical_id}: {key} is not a setting"
    tables = set(_resources(template, "AWS::DynamoDB::Table"))
    table_refs = {
        value["Ref"]
        for value in template.document["Globals"]["Function"]["Environment"]["Variables"].values()
        if isinstance(value, dict) and "Ref" in value
    }
    assert tables <= table_refs


def test_tables_are_on_demand_encrypted_and_expire_items(template: Template) -> None:
    keys = {}
    for logical_id, table in _resources(template, "AWS::DynamoDB::Table").items():
        props = table["Properties"]
        assert props["BillingMode"] == "PAY_PER_REQUEST"
        assert props["SSESpecification"] == {"SSEEnabled": True}
        assert props["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
        assert "TableName" not in props, "physical names are CloudFormation's"
        keys[logical_id] = [(k["AttributeName"], k["KeyType"]) for k in props["KeySchema"]]
    assert keys == {
        "ConversationsTable": [("pk", "HASH"), ("sk", "RANGE")],
        "CacheTable": [("pk", "HASH"), ("sk", "RANGE")],
        "RunsTable": [("run_id", "HASH")],
        "RunEventsTable": [("pk", "HASH"), ("seq", "RANGE")],
        "ToolsTable": [("tenant_id", "HASH"), ("name", "RANGE")],
        "DocumentsTable": [("pk", "HASH"), ("sk", "RANGE")],
    }


def test_secrets_start_as_placeholders_the_code_reads_as_unset(template: Template) -> None:
    secrets = _resources(template, "AWS::SecretsManager::Secret")
    provider_secrets = {name: s for name, s in secrets.items() if name != "ApiKeysSecret"}
    assert set(provider_secrets) == {"LlmApiKeySecret", "ExternalAgentTokenSecret", "WebSearchApiKeySecret"}
    assert all(is_placeholder(s["Properties"]["SecretString"]) for s in provider_secrets.values())


def test_a_deployed_stack_is_closed_by_default_with_a_generated_admin_key(template: Template) -> None:
    raw = load_template(ROOT / "template.yaml")
    api_env = raw["Resources"]["ApiFunction"]["Properties"]["Environment"]["Variables"]
    generated = raw["Resources"]["ApiKeysSecret"]["Properties"]["GenerateSecretString"]

    assert raw["Parameters"]["AuthEnabled"]["Default"] == "true"
    assert api_env["AUTH_ENABLED"] == {"Ref": "AuthEnabled"}
    assert api_env["API_KEYS_SECRET_ID"] == {"Ref": "ApiKeysSecret"}
    assert "SecretString" not in raw["Resources"]["ApiKeysSecret"]["Properties"]  # nothing in the template
    assert generated["GenerateStringKey"] == "key" and generated["PasswordLength"] >= 32


def test_only_health_preflight_and_the_studio_shell_skip_the_jwt_authorizer(template: Template) -> None:
    raw = load_template(ROOT / "template.yaml")
    routes = {
        r["Properties"]["RouteKey"]: r["Properties"]
        for r in raw["Resources"].values()
        if r["Type"] == "AWS::ApiGatewayV2::Route"
    }

    open_routes = {"GET /health", "OPTIONS /{proxy+}", "GET /studio", "GET /studio/static/{proxy+}"}
    assert set(routes) == {"ANY /", "ANY /{proxy+}"} | open_routes
    for key in ("ANY /", "ANY /{proxy+}"):
        assert routes[key]["AuthorizationType"] == {"Fn::If": ["HasJwtIssuer", "JWT", "NONE"]}
    for key in open_routes:
        assert routes[key]["AuthorizationType"] == "NONE"


def test_functions_get_least_privilege(template: Template) -> None:
    settings_read = {
        ("SSMParameterReadPolicy", "orchestrator/dev"),
        ("SSMParameterReadPolicy", "orchestrator/dev/*"),
    }

    def beyond_settings(logical_id: str) -> set[tuple[str, str]]:
        policies = _policies(template, logical_id)
        assert settings_read <= policies, f"{logical_id} cannot read its settings"
        return policies - settings_read

    llm_secret = ("AWSSecretsManagerGetSecretValuePolicy", "LlmApiKeySecret")
    models = ("ManagedPolicy", "ModelAccessPolicy")
    # Every graph node publishes progress for streaming clients (Node.run), and only writes there.
    for node_function in NODE_FUNCTIONS:
        assert ("DynamoDBWritePolicy", "RunEventsTable") in _policies(template, node_function)

    def beyond_progress(logical_id: str) -> set[tuple[str, str]]:
        return beyond_settings(logical_id) - {("DynamoDBWritePolicy", "RunEventsTable")}

    # The router answers repeated prompts from the cache (read only; the memory node writes it).
    assert beyond_progress("IntentRouterFunction") == {
        llm_secret,
        models,
        ("DynamoDBReadPolicy", "CacheTable"),
    }
    assert beyond_progress("PlannerFunction") == {llm_secret, models}
    assert beyond_progress("GroundingFunction") == {("DynamoDBReadPolicy", "DocumentsTable"), models}
    assert beyond_progress("ExternalAgentFunction") == {
        ("AWSSecretsManagerGetSecretValuePolicy", "ExternalAgentTokenSecret"),
        ("ManagedPolicy", "AgentSecretsPolicy"),  # tokens of configured agents: /orchestrator/<Env>/agents/*
    }
    assert beyond_progress("ToolExecutorFunction") == {
        llm_secret,
        models,
        ("DynamoDBReadPolicy", "ToolsTable"),
        ("ManagedPolicy", "ToolSecretsPolicy"),
        ("LambdaInvokePolicy", "CodeExecutorFunction"),  # run_python runs there
    }
    assert beyond_progress("LlmAgentFunction") == {
        llm_secret,
        models,
        ("DynamoDBReadPolicy", "ConversationsTable"),
        ("DynamoDBReadPolicy", "ToolsTable"),
        ("ManagedPolicy", "ToolSecretsPolicy"),
    }
    assert beyond_progress("MemoryStoreFunction") == {
        ("DynamoDBCrudPolicy", "ConversationsTable"),
        ("DynamoDBCrudPolicy", "CacheTable"),
        ("DynamoDBCrudPolicy", "RunsTable"),
        ("EventBridgePutEventsPolicy", "default"),  # orchestrator.run.completed
    }
    api = beyond_settings("ApiFunction")
    assert {
        ("Statement", "states:StartSyncExecution"),
        ("Statement", "states:StartExecution"),
        ("Statement", "states:DescribeExecution"),
        ("DynamoDBReadPolicy", "RunsTable"),
        ("DynamoDBCrudPolicy", "CacheTable"),  # POST /v1/memory/clear may empty the cache
        models,  # GET /v1/llm/models, POST /v1/llm/test-connection
        ("LambdaInvokePolicy", "CodeExecutorFunction"),  # POST /v1/tools/run_python/execute
    } <= api
    assert ("DynamoDBCrudPolicy", "RunsTable") not in api  # run records are the memory store's
    # Approvals: resume runs of the Standard machine, and claim decisions on approval# items only.
    assert ("Statement", str(["states:SendTaskSuccess", "states:SendTaskFailure"])) in api
    statements = [
        statement
        for policy in template.document["Resources"]["ApiFunction"]["Properties"]["Policies"]
        if isinstance(policy, dict) and "Statement" in policy
        for statement in policy["Statement"]
    ]
    (send,) = [
        st for st in statements if st["Action"] == ["states:SendTaskSuccess", "states:SendTaskFailure"]
    ]
    assert send["Resource"] == {"Ref": "RunsStateMachine"}
    (claim,) = [st for st in statements if st["Action"] == "dynamodb:UpdateItem"]
    assert claim["Condition"] == {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["approval#*"]}}
    assert ("Statement", "s3:PutObject") in api  # presigned upload forms carry the API's permission
    # Uploaded documents: read and delete the uploads, write the documents table, embed.
    assert beyond_settings("DocumentIngestFunction") == {
        ("Statement", str(["s3:GetObject", "s3:DeleteObject"])),
        ("DynamoDBCrudPolicy", "DocumentsTable"),
        models,
    }
    # Streaming: start chat turns, read their progress and run records; no model, no writes.
    assert beyond_settings("StreamFunction") == {
        ("AWSSecretsManagerGetSecretValuePolicy", "ApiKeysSecret"),
        ("DynamoDBReadPolicy", "RunEventsTable"),
        ("DynamoDBReadPolicy", "RunsTable"),
        ("Statement", "states:StartSyncExecution"),
        ("Statement", "states:StartExecution"),
        ("Statement", "states:DescribeExecution"),  # GET /v1/runs/{id}/events of an async run
    }
    assert ("DynamoDBReadPolicy", "RunEventsTable") in api
    # Untrusted code: its network interfaces (and logs), nothing else, not even its settings.
    assert _policies(template, "CodeExecutorFunction") == {
        ("ManagedPolicy", "AWSLambdaVPCAccessExecutionRole")
    }


def test_s3_vectors_exist_and_are_reachable_only_when_chosen(template: Template) -> None:
    chosen = Template.from_file(
        TEMPLATE,
        region="eu-west-1",
        stack_name="orchestrator-test",
        parameter_overrides={"VectorStore": "s3vectors"},
    )
    vector_resources = {"DocumentVectorBucket", "DocumentVectorIndex"}
    vector_policies = {"DocumentVectorsWritePolicy", "DocumentVectorsQueryPolicy"}

    # Default (dynamodb): no vector resources, no grants, no names in the environment.
    assert not (vector_resources | vector_policies) & set(template.resources())
    env = template.resolve(
        template.document["Globals"]["Function"]["Environment"]["Variables"], ref=lambda n: n
    )
    assert env["VECTOR_STORE"] == "dynamodb" and "S3_VECTORS_BUCKET" not in env

    resources = chosen.resources()
    assert (vector_resources | vector_policies) <= set(resources)
    index = resources["DocumentVectorIndex"]["Properties"]
    assert (index["DataType"], index["DistanceMetric"]) == ("float32", "cosine")
    # The default dimension is the embedded model's: its vectors fit the index.
    assert int(chosen.resolve(index["Dimension"])) == EmbeddedEmbedder().dim
    # Ingestion writes, the grounding node queries (with a filter: GetVectors too), on this index only.
    grants = {}
    for policy in vector_policies:
        (statement,) = resources[policy]["Properties"]["PolicyDocument"]["Statement"]
        assert statement["Resource"] == {"Fn::GetAtt": ["DocumentVectorIndex", "IndexArn"]}
        grants[policy] = set(statement["Action"])
    assert grants == {
        "DocumentVectorsWritePolicy": {"s3vectors:PutVectors", "s3vectors:DeleteVectors"},
        "DocumentVectorsQueryPolicy": {"s3vectors:QueryVectors", "s3vectors:GetVectors"},
    }
    holders = {
        logical_id: {target for kind, target in _policies(chosen, logical_id) if target in vector_policies}
        for logical_id in _resources(chosen, "AWS::Serverless::Function")
    }
    assert {name: held for name, held in holders.items() if held} == {
        "ApiFunction": {"DocumentVectorsWritePolicy"},
        "DocumentIngestFunction": {"DocumentVectorsWritePolicy"},
        "GroundingFunction": {"DocumentVectorsQueryPolicy"},
    }
    # The settings name the bucket exactly as the bucket names itself, and the index.
    env = chosen.resolve(chosen.document["Globals"]["Function"]["Environment"]["Variables"], ref=lambda n: n)
    bucket = chosen.resolve(resources["DocumentVectorBucket"]["Properties"]["VectorBucketName"])
    assert (env["VECTOR_STORE"], env["S3_VECTORS_BUCKET"], env["S3_VECTORS_INDEX"]) == (
        "s3vectors",
        bucket,
        "chunks",
    )
    assert index["IndexName"] == "chunks"


def test_the_code_executor_holds_no_secret_and_reaches_no_network(template: Template) -> None:
    props = template.resolve(
        template.function_properties("CodeExecutorFunction"), ref=lambda name: name, get_att=lambda n, a: n
    )
    variables = props["Environment"]["Variables"]
    assert variables["CODE_EXEC_SANDBOX"] == "lambda"
    assert not {key for key in variables if key.endswith(("_TABLE", "_SECRET_ID", "_ARN"))}
    assert "CODE_EXECUTOR_FUNCTION_NAME" not in variables  # it runs code itself, never recurses
    assert props["Tracing"] == "Disabled"  # "Active" would grant X-Ray writes
    assert props["MemorySize"] <= 512 and props["Timeout"] <= 15

    resources = template.document["Resources"]
    subnets = props["VpcConfig"]["SubnetIds"]
    assert len(subnets) == 2
    (vpc,) = {resources[subnet]["Properties"]["VpcId"]["Ref"] for subnet in subnets}
    assert resources[vpc]["Properties"]["EnableDnsSupport"] is False  # no resolver to tunnel through
    assert not any(resources[subnet]["Properties"].get("MapPublicIpOnLaunch") for subnet in subnets)
    no_way_out = {
        "AWS::EC2::InternetGateway",
        "AWS::EC2::EgressOnlyInternetGateway",
        "AWS::EC2::NatGateway",
        "AWS::EC2::VPCEndpoint",
        "AWS::EC2::VPCGatewayAttachment",
        "AWS::EC2::VPCPeeringConnection",
        "AWS::EC2::TransitGatewayAttachment",
        "AWS::EC2::Route",
    }
    assert not [name for name, r in resources.items() if r["Type"] in no_way_out]

    (group,) = props["VpcConfig"]["SecurityGroupIds"]
    group_props = resources[group]["Properties"]
    assert "SecurityGroupIngress" not in group_props
    # An explicit egress rule replaces CloudFormation's default allow-all; this one allows nothing.
    assert [rule["CidrIp"] for rule in group_props["SecurityGroupEgress"]] == ["127.0.0.1/32"]
    assert not [
        r
        for r in resources.values()
        if r["Type"].startswith("AWS::EC2::SecurityGroup") and r is not resources[group]
    ]


def test_the_tool_runners_invoke_the_code_executor(template: Template) -> None:
    for logical_id in ("ToolExecutorFunction", "ApiFunction"):
        variables = template.function_properties(logical_id)["Environment"]["Variables"]
        assert variables["CODE_EXECUTOR_FUNCTION_NAME"] == {"Ref": "CodeExecutorFunction"}, logical_id


# ---------------------------------------------------------------------- the CloudFormation reader
def _doc(tmp_path: Path, body: str) -> dict[str, Any]:
    path = tmp_path / "t.yaml"
    path.write_text(body, encoding="utf-8")
    return load_template(path)


def test_short_form_tags_and_intrinsics_resolve(tmp_path: Path) -> None:
    document = _doc(
        tmp_path,
        """
Parameters:
  Env: {Type: String, Default: dev, AllowedValues: [dev, prod]}
  Names: {Type: String, Default: "a,b,c"}
Conditions:
  IsDev: !Equals [!Ref Env, dev]
  NotDev: !Not [!Condition IsDev]
Resources:
  Thing:
    Type: Custom::Thing
    Properties:
      Arn: !GetAtt Fn.Arn
      Sub: !Sub "${AWS::Region}/${AWS::StackName}/${Env}/${Fn.Arn}/${!Literal}"
      SubList: !Sub ["${Greeting}-${Env}", {Greeting: !Join ["", [h, i]]}]
      Second: !Select [1, !Split [",", !Ref Names]]
      Pick: !If [IsDev, dev-value, prod-value]
      Dropped: !If [NotDev, kept, !Ref AWS::NoValue]
      List: [one, !Ref AWS::NoValue, two]
""",
    )
    template = Template(document, region="eu-west-1", stack_name="stk")

    def get_att(logical_id: str, attribute: str) -> str:
        return f"arn:{logical_id}:{attribute}"

    props = template.resolve(document["Resources"]["Thing"]["Properties"], None, get_att)
    assert props == {
        "Arn": "arn:Fn:Arn",
        "Sub": "eu-west-1/stk/dev/arn:Fn:Arn/${Literal}",
        "SubList": "hi-dev",
        "Second": "b",
        "Pick": "dev-value",
        "List": ["one", "two"],
    }


def test_parameter_overrides_are_checked(tmp_path: Path) -> None:
    document = _doc(
        tmp_path,
        "Parameters:\n  Env: {Type: String, Default: dev, AllowedValues: [dev, prod]}\nResources: {}\n",
    )
    assert Template(document, region="r", stack_name="s", parameter_overrides={"Env": "prod"}).parameters == {
        "Env": "prod"
    }
    with pytest.raises(TemplateError, match="not one of"):
        Template(document, region="r", stack_name="s", parameter_overrides={"Env": "staging"})
    with pytest.raises(TemplateError, match="Unknown parameter"):
        Template(document, region="r", stack_name="s", parameter_overrides={"Envv": "dev"})


def test_sam_globals_merge_maps_and_concatenate_lists(tmp_path: Path) -> None:
    document = _doc(
        tmp_path,
        """
Globals:
  Function:
    Timeout: 30
    Layers: [global-layer]
    Environment: {Variables: {A: global, B: global}}
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Timeout: 120
      Layers: [own-layer]
      Environment: {Variables: {B: own, C: own}}
""",
    )
    props = Template(document, region="r", stack_name="s").function_properties("Fn")
    assert props["Timeout"] == 120
    assert props["Layers"] == ["global-layer", "own-layer"]
    assert props["Environment"]["Variables"] == {"A": "global", "B": "own", "C": "own"}


def test_the_uploads_bucket_is_private_encrypted_short_lived_and_feeds_ingestion(template: Template) -> None:
    resources = template.document["Resources"]
    props = resources["DocumentUploadsBucket"]["Properties"]
    ingest = template.function_properties("DocumentIngestFunction")

    assert all(props["PublicAccessBlockConfiguration"].values())
    assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    assert [rule["ExpirationInDays"] for rule in props["LifecycleConfiguration"]["Rules"]] == [1]
    assert "CorsConfiguration" not in template.resolve(props, ref=lambda n: n, get_att=lambda n, a: n)
    # The ingestion policy names the bucket exactly as the bucket names itself (no Ref: a cycle).
    name = template.resolve(props["BucketName"])
    (statement,) = template.resolve(
        ingest["Policies"][-1]["Statement"], ref=lambda n: n, get_att=lambda n, a: n
    )
    assert statement["Resource"] == f"arn:aws:s3:::{name}/uploads/*"
    (event,) = ingest["Events"].values()
    assert event["Type"] == "S3" and event["Properties"]["Bucket"] == {"Ref": "DocumentUploadsBucket"}
    assert event["Properties"]["Filter"]["S3Key"]["Rules"] == [{"Name": "prefix", "Value": "uploads/"}]
    api_env = template.function_properties("ApiFunction")["Environment"]["Variables"]
    assert api_env["DOCUMENT_UPLOADS_BUCKET"] == {"Ref": "DocumentUploadsBucket"}


def test_streaming_goes_through_a_response_stream_function_url_with_the_web_adapter(
    template: Template,
) -> None:
    stream = template.function_properties("StreamFunction")
    api = template.function_properties("ApiFunction")
    assert stream["CodeUri"] == api["CodeUri"]  # the same app, served by uvicorn instead of Mangum
    assert stream["FunctionUrlConfig"] == {"AuthType": "NONE", "InvokeMode": "RESPONSE_STREAM"}
    variables = stream["Environment"]["Variables"]
    assert variables["AWS_LAMBDA_EXEC_WRAPPER"] == "/opt/bootstrap"
    assert variables["AWS_LWA_INVOKE_MODE"] == "response_stream"
    assert variables["AUTH_ENABLED"] == {"Ref": "AuthEnabled"}  # the app checks the bearer key
    (adapter,) = [layer for layer in stream["Layers"] if layer != {"Ref": "CoreLayer"}]
    assert "LambdaAdapterLayerArm64:${WebAdapterLayerVersion}" in adapter["Fn::Sub"]
    assert template.document["Parameters"]["WebAdapterLayerVersion"]["Default"] >= 1
    assert stream["Timeout"] > api["Timeout"]  # a stream is not cut at the HTTP API's 30 s
    requirements = (ROOT / "functions" / "api" / "requirements.txt").read_text()
    assert "sse-starlette==" in requirements and "uvicorn==" in requirements


def test_every_function_and_state_machine_has_alarms_that_notify_only_a_given_topic(
    template: Template,
) -> None:
    alarms = _resources(template, "AWS::CloudWatch::Alarm")
    watched = {
        (a["Properties"]["MetricName"], str(a["Properties"]["Dimensions"][0]["Value"].get("Ref")))
        for a in alarms.values()
        if isinstance(a["Properties"]["Dimensions"][0]["Value"], dict)
    }
    for function in _resources(template, "AWS::Serverless::Function"):
        assert ("Errors", function) in watched and ("Throttles", function) in watched, function
    for machine in _resources(template, "AWS::Serverless::StateMachine"):
        assert ("ExecutionsFailed", machine) in watched and ("ExecutionsTimedOut", machine) in watched
    assert ("5xx", "HttpApi") in watched
    model = alarms["ModelUnavailableAlarm"]["Properties"]
    assert model["Namespace"] == "Orchestrator"  # the EMF metric the node handlers emit
    assert template.conditions["HasAlarmTopic"] is False
    for name in ("default", "given"):
        overrides = {"AlarmTopicArn": "arn:aws:sns:us-east-1:123456789012:ops"} if name == "given" else {}
        t = Template.from_file(TEMPLATE, region="us-east-1", stack_name="s", parameter_overrides=overrides)
        actions = t.resolve(
            t.resources("AWS::CloudWatch::Alarm")["Api5xxAlarm"]["Properties"]["AlarmActions"]
        )
        assert actions == (["arn:aws:sns:us-east-1:123456789012:ops"] if name == "given" else None), name
    assert _resources(template, "AWS::CloudWatch::Dashboard")
