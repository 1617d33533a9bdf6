"""Creates the template's resources in moto: tables, buckets, parameters, secrets, functions, state machines.

Physical names follow ``<stack>-<LogicalId>`` unless the template names the resource, so the
local stack looks like a deployed one; ARNs are computed the way moto builds them.
"""

from __future__ import annotations

import io
import json
import re
import secrets
import zipfile
from pathlib import Path
from typing import Any

from orchestrator.local.template import LOCAL_ACCOUNT_ID, Template, TemplateError

TABLE = "AWS::DynamoDB::Table"
PARAMETER = "AWS::SSM::Parameter"
SECRET = "AWS::SecretsManager::Secret"  # noqa: S105 - a resource type, not a secret
FUNCTION = "AWS::Serverless::Function"
STATE_MACHINE = "AWS::Serverless::StateMachine"
LOG_GROUP = "AWS::Logs::LogGroup"
BUCKET = "AWS::S3::Bucket"

#: Service name limits: a generated name longer than these is cut, as CloudFormation does.
_NAME_LIMITS = {FUNCTION: 64, STATE_MACHINE: 80, TABLE: 255, SECRET: 512}


class PhysicalIds:
    """Names, ARNs and attributes of the template's resources, computed on first use."""

    def __init__(self, template: Template, stack_name: str, region: str) -> None:
        self._template = template
        self._stack = stack_name
        self._region = region
        self._refs: dict[str, str] = {}
        self.names: dict[str, str] = {}  # physical name chosen before creation (overridable)

    def name(self, logical_id: str) -> str:
        if logical_id not in self.names:
            resource = self._resource(logical_id)
            kind = resource["Type"]
            props = resource.get("Properties", {})
            explicit = {
                TABLE: "TableName",
                PARAMETER: "Name",
                SECRET: "Name",
                FUNCTION: "FunctionName",
                STATE_MACHINE: "Name",
                LOG_GROUP: "LogGroupName",
                BUCKET: "BucketName",
            }.get(kind)
            if explicit and explicit in props:
                value = str(self._template.resolve(props[explicit], self.ref, self.get_att))
            else:
                value = f"{self._stack}-{logical_id}"[: _NAME_LIMITS.get(kind, 255)]
                if kind == BUCKET:  # bucket names are lower case, 63 characters at most
                    value = value.lower()[:63]
            self.names[logical_id] = value
        return self.names[logical_id]

    def set_ref(self, logical_id: str, value: str) -> None:
        """Record a Ref value only known after creation (a secret's ARN)."""
        self._refs[logical_id] = value

    def ref(self, logical_id: str) -> str:
        if logical_id in self._refs:
            return self._refs[logical_id]
        kind = self._resource(logical_id)["Type"]
        if kind == SECRET:
            raise TemplateError(f"Ref {logical_id}: the secret is created later than its first use")
        if kind == STATE_MACHINE:
            return self.get_att(logical_id, "Arn")
        return self.name(logical_id)

    def get_att(self, logical_id: str, attribute: str) -> str:
        kind = self._resource(logical_id)["Type"]
        name = self.name(logical_id)
        prefix = f"arn:aws:{{}}:{self._region}:{LOCAL_ACCOUNT_ID}"
        arns = {
            FUNCTION: prefix.format("lambda") + f":function:{name}",
            STATE_MACHINE: prefix.format("states") + f":stateMachine:{name}",
            TABLE: prefix.format("dynamodb") + f":table/{name}",
            LOG_GROUP: prefix.format("logs") + f":log-group:{name}:*",
            BUCKET: f"arn:aws:s3:::{name}",
        }
        if attribute == "Arn" and kind in arns:
            return arns[kind]
        if attribute == "Name":
            return name
        raise TemplateError(f"GetAtt {logical_id}.{attribute} is not supported by the local runtime")

    def _resource(self, logical_id: str) -> dict[str, Any]:
        resources = self._template.resources()
        if logical_id not in resources:
            raise TemplateError(f"Unknown (or conditional and absent) resource {logical_id}")
        return resources[logical_id]


def create_table(client: Any, name: str, props: dict[str, Any]) -> None:
    args: dict[str, Any] = {
        "TableName": name,
        "KeySchema": props["KeySchema"],
        "AttributeDefinitions": props["AttributeDefinitions"],
        "BillingMode": props.get("BillingMode", "PROVISIONED"),
    }
    for key in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes", "ProvisionedThroughput", "Tags"):
        if key in props:
            args[key] = props[key]
    if "SSESpecification" in props:
        args["SSESpecification"] = {"Enabled": bool(props["SSESpecification"].get("SSEEnabled"))}
    if "StreamSpecification" in props:
        args["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
    client.create_table(**args)
    ttl = props.get("TimeToLiveSpecification")
    if ttl and ttl.get("Enabled"):
        client.update_time_to_live(
            TableName=name,
            TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True},
        )


def create_bucket(client: Any, name: str, props: dict[str, Any], region: str) -> None:
    """The bucket with its lifecycle and CORS rules (moto keeps both; public access is moot here)."""
    args: dict[str, Any] = {"Bucket": name}
    if region != "us-east-1":
        args["CreateBucketConfiguration"] = {"LocationConstraint": region}
    client.create_bucket(**args)
    rules = props.get("LifecycleConfiguration", {}).get("Rules")
    if rules:
        lifecycle = [
            {
                "ID": rule.get("Id", f"rule-{index}"),
                "Status": rule.get("Status", "Enabled"),
                "Filter": {"Prefix": rule.get("Prefix", "")},
                "Expiration": {"Days": int(rule["ExpirationInDays"])},
            }
            for index, rule in enumerate(rules)
            if "ExpirationInDays" in rule
        ]
        client.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration={"Rules": lifecycle})
    cors = props.get("CorsConfiguration", {}).get("CorsRules")
    if cors:
        rules_out = [
            {
                "AllowedMethods": rule["AllowedMethods"],
                "AllowedOrigins": rule["AllowedOrigins"],
                "AllowedHeaders": rule.get("AllowedHeaders", []),
                "MaxAgeSeconds": int(rule.get("MaxAge", 0)),
            }
            for rule in cors
        ]
        client.put_bucket_cors(Bucket=name, CORSConfiguration={"CORSRules": rules_out})


def s3_notifications(props: dict[str, Any], function_arn: str) -> list[tuple[str, dict[str, Any]]]:
    """(bucket, Lambda notification) for each SAM ``Events`` entry of type S3 of a function."""
    found = []
    for event in (props.get("Events") or {}).values():
        if event.get("Type") != "S3":
            continue
        spec = event["Properties"]
        events = spec["Events"] if isinstance(spec["Events"], list) else [spec["Events"]]
        config: dict[str, Any] = {"LambdaFunctionArn": function_arn, "Events": events}
        rules = spec.get("Filter", {}).get("S3Key", {}).get("Rules")
        if rules:
            config["Filter"] = {"Key": {"FilterRules": rules}}
        found.append((str(spec["Bucket"]), config))
    return found


def create_parameter(client: Any, name: str, props: dict[str, Any]) -> None:
    args = {"Name": name, "Value": str(props["Value"]), "Type": props.get("Type", "String")}
    if "Description" in props:
        args["Description"] = props["Description"]
    client.put_parameter(**args)


def create_secret(client: Any, name: str, props: dict[str, Any]) -> str:
    """Creates the secret and returns its ARN (CloudFormation's Ref of a secret)."""
    value = props.get("SecretString")
    generate = props.get("GenerateSecretString")
    if value is None and generate is not None:
        generated = secrets.token_urlsafe(int(generate.get("PasswordLength", 32)))
        template = generate.get("SecretStringTemplate")
        if template is not None:
            value = json.dumps({**json.loads(template), generate["GenerateStringKey"]: generated})
        else:
            value = generated
    args = {"Name": name, "SecretString": str(value or "")}
    if "Description" in props:
        args["Description"] = props["Description"]
    return str(client.create_secret(**args)["ARN"])


def dummy_code_zip() -> bytes:
    """moto stores a code package; the in-process seam never runs it."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return event\n")
    return buffer.getvalue()


def create_function(client: Any, name: str, props: dict[str, Any], role_arn: str, code: bytes) -> None:
    args: dict[str, Any] = {
        "FunctionName": name,
        "Runtime": props.get("Runtime", "python3.13"),
        "Role": role_arn,
        "Handler": props.get("Handler", "app.handler"),
        "Code": {"ZipFile": code},
        "Timeout": int(props.get("Timeout", 3)),
        "MemorySize": int(props.get("MemorySize", 128)),
        "Environment": {"Variables": environment_of(props)},
    }
    if "Description" in props:
        args["Description"] = props["Description"]
    client.create_function(**args)


def environment_of(props: dict[str, Any]) -> dict[str, str]:
    variables = props.get("Environment", {}).get("Variables", {}) or {}
    return {str(key): "" if value is None else str(value) for key, value in variables.items()}


def state_machine_definition(props: dict[str, Any], template_dir: Path, substitutions: dict[str, Any]) -> str:
    """The ASL text with ``${Name}`` DefinitionSubstitutions replaced, as SAM does on deploy."""
    if "DefinitionUri" in props:
        uri = props["DefinitionUri"]
        if not isinstance(uri, str) or uri.startswith("s3://"):
            raise TemplateError("The local runtime reads DefinitionUri from a local file only")
        text = (template_dir / uri).read_text(encoding="utf-8")
    elif "Definition" in props:
        text = json.dumps(props["Definition"])
    else:
        raise TemplateError("A state machine needs Definition or DefinitionUri")

    def replace(match: re.Match[str]) -> str:
        key = match.group(1)
        return str(substitutions[key]) if key in substitutions else match.group(0)

    return re.sub(r"\$\{([A-Za-z0-9_]+)\}", replace, text)


def create_state_machine(client: Any, name: str, definition: str, role_arn: str, sm_type: str) -> str:
    response = client.create_state_machine(name=name, definition=definition, roleArn=role_arn, type=sm_type)
    return str(response["stateMachineArn"])
