"""Given the tools table in (moto's) DynamoDB, tools registered at run time are shared by every container."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from orchestrator.config import Settings
from orchestrator.errors import ConflictError, ToolNotFoundError, TransientError
from orchestrator.tools.models import ToolDefinition
from orchestrator.tools.registry import ToolRegistry
from tests.support.aws import use_fake_credentials

TABLE = "test-tools"
TENANT = "default"  # the tenant a registry sees until for_tenant() says otherwise
#: What the model is offered with no search provider configured (web_search stays hidden).
BUILTINS = ["calculator", "fetch_url", "http_request", "run_python", "current_time"]


@pytest.fixture
def dynamodb(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    use_fake_credentials(monkeypatch)
    with mock_aws():
        resource = boto3.resource("dynamodb", region_name="us-east-1")
        resource.create_table(
            TableName=TABLE,
            # As template.yaml's ToolsTable: a tenant's tools are one partition.
            AttributeDefinitions=[
                {"AttributeName": "tenant_id", "AttributeType": "S"},
                {"AttributeName": "name", "AttributeType": "S"},
            ],
            KeySchema=[
                {"AttributeName": "tenant_id", "KeyType": "HASH"},
                {"AttributeName": "name", "KeyType": "RANGE"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        yield resource


def registry(resource: Any, table: str = TABLE) -> ToolRegistry:
    settings = Settings(_env_file=None, tools_table=table, aws_region="us-east-1")  # type: ignore[call-arg]
    return ToolRegistry.from_settings(settings, dynamodb_resource=resource)


def weather(name: str = "weather") -> ToolDefinition:
    return ToolDefinition.model_validate(
        {
            "name": name,
            "description": "Weather for a city.",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}, "days": {"type": "integer", "maximum": 7.5}},
                "required": ["city"],
            },
            "http": {"url": "https://api.example.com/weather", "method": "get", "timeout_s": 2.5},
        }
    )


def test_registered_tools_are_stored_and_seen_by_another_registry(dynamodb: Any) -> None:
    registry(dynamodb).register(weather())

    other = registry(dynamodb)  # a different Lambda container

    assert [t.name for t in other.list()] == [*BUILTINS, "weather"]
    assert other.get("weather") == weather()
    item = dynamodb.Table(TABLE).get_item(Key={"tenant_id": TENANT, "name": "weather"})["Item"]
    assert json.loads(item["definition"])["http"]["timeout_s"] == 2.5
    assert item["updated_at"]


def test_registering_again_with_replace_replaces_the_definition(dynamodb: Any) -> None:
    tools = registry(dynamodb)
    tools.register(weather())

    tools.register(weather().model_copy(update={"description": "Better weather."}), replace=True)

    assert registry(dynamodb).get("weather").description == "Better weather."
    assert dynamodb.Table(TABLE).scan()["Count"] == 1


def test_registering_again_without_replace_is_a_conflict_and_keeps_the_definition(dynamodb: Any) -> None:
    tools = registry(dynamodb)
    tools.register(weather())

    with pytest.raises(ConflictError, match="already exists"):
        registry(dynamodb).register(weather().model_copy(update={"description": "Hijacked."}))

    assert registry(dynamodb).get("weather") == weather()
    assert dynamodb.Table(TABLE).scan()["Count"] == 1


def test_a_tenants_tools_are_invisible_to_another_tenant(dynamodb: Any) -> None:
    registry(dynamodb).for_tenant("a").register(weather())

    other = registry(dynamodb).for_tenant("b")

    assert [t.name for t in other.list()] == BUILTINS
    with pytest.raises(ToolNotFoundError):
        other.get("weather")
    with pytest.raises(ToolNotFoundError):
        other.delete("weather")
    # b may register its own tool of the same name; a's is untouched.
    other.register(weather().model_copy(update={"description": "B's weather."}))
    assert registry(dynamodb).for_tenant("a").get("weather") == weather()
    assert other.get("weather").description == "B's weather."


def test_builtin_overwrite_is_refused_and_nothing_is_written(dynamodb: Any) -> None:
    with pytest.raises(ConflictError, match="builtin"):
        registry(dynamodb).register(weather(name="run_python"))

    assert dynamodb.Table(TABLE).scan()["Count"] == 0
    assert registry(dynamodb).get("run_python").kind == "builtin"


def test_unknown_names_and_malformed_items(dynamodb: Any) -> None:
    dynamodb.Table(TABLE).put_item(Item={"tenant_id": TENANT, "name": "broken", "definition": "{not json"})
    tools = registry(dynamodb)

    assert [t.name for t in tools.list()] == BUILTINS
    with pytest.raises(ToolNotFoundError):
        tools.get("broken")
    with pytest.raises(ToolNotFoundError):
        tools.get("missing")
    with pytest.raises(ToolNotFoundError):
        tools.get("")  # DynamoDB would reject the empty key; this is "not found", not an outage


def test_a_missing_table_degrades_listing_and_fails_lookups_as_transient(dynamodb: Any) -> None:
    tools = registry(dynamodb, table="no-such-table")

    assert [t.name for t in tools.list()] == BUILTINS  # chat turns keep the builtins
    assert tools.get("calculator").kind == "builtin"  # builtins never touch the table
    with pytest.raises(TransientError, match="unavailable"):
        tools.get("weather")
    with pytest.raises(TransientError):
        tools.register(weather())
