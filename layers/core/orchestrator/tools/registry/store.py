"""Where tools registered at run time live: a DynamoDB table keyed by ``tenant_id`` + ``name``.

A registered tool belongs to one tenant. Each item holds the definition as a JSON string
(``definition``), so numbers in JSON schemas round-trip without DynamoDB's Decimal conversion,
plus ``updated_at`` for operators.
"""

from __future__ import annotations

import json
import logging
from abc import ABC, abstractmethod
from typing import Any

from orchestrator.aws.dynamodb import all_items
from orchestrator.errors import ConflictError
from orchestrator.state import utc_now
from orchestrator.tools.models import ToolDefinition

logger = logging.getLogger(__name__)


class ToolStore(ABC):
    @abstractmethod
    def put(self, tenant_id: str, definition: ToolDefinition, *, replace: bool = False) -> None:
        """Store ``definition``; :class:`ConflictError` if the name exists and ``replace`` is False."""

    @abstractmethod
    def get(self, tenant_id: str, name: str) -> ToolDefinition | None: ...

    @abstractmethod
    def list(self, tenant_id: str) -> list[ToolDefinition]: ...

    @abstractmethod
    def delete(self, tenant_id: str, name: str) -> bool:
        """True when a tool was deleted."""


def _exists(name: str) -> ConflictError:
    return ConflictError(
        f"a tool named '{name}' already exists; send replace=true to replace it", details={"name": name}
    )


class InMemoryToolStore(ToolStore):
    """For a process without a table (unit tests, scripts): lives as long as the registry."""

    def __init__(self) -> None:
        self._items: dict[tuple[str, str], ToolDefinition] = {}

    def put(self, tenant_id: str, definition: ToolDefinition, *, replace: bool = False) -> None:
        key = (tenant_id, definition.name)
        if key in self._items and not replace:
            raise _exists(definition.name)
        self._items[key] = definition

    def get(self, tenant_id: str, name: str) -> ToolDefinition | None:
        return self._items.get((tenant_id, name))

    def list(self, tenant_id: str) -> list[ToolDefinition]:
        return [d for (tenant, _), d in sorted(self._items.items()) if tenant == tenant_id]

    def delete(self, tenant_id: str, name: str) -> bool:
        return self._items.pop((tenant_id, name), None) is not None


class DynamoToolStore(ToolStore):
    """The tools table. Pass ``resource`` (a boto3 DynamoDB resource) to inject one in tests."""

    def __init__(self, table_name: str, *, region: str, resource: Any | None = None) -> None:
        self.table_name = table_name
        self.region = region
        self._resource = resource

    def _table(self) -> Any:
        from orchestrator.aws.dynamodb import table

        return table(self.table_name, self.region, self._resource)

    def put(self, tenant_id: str, definition: ToolDefinition, *, replace: bool = False) -> None:
        table = self._table()
        # The condition makes "create" atomic: two racing registrations cannot both win.
        condition = {} if replace else {"ConditionExpression": "attribute_not_exists(#n)"}
        names = {} if replace else {"ExpressionAttributeNames": {"#n": "name"}}
        try:
            table.put_item(
                Item={
                    "tenant_id": tenant_id,
                    "name": definition.name,
                    "definition": definition.model_dump_json(),
                    "updated_at": utc_now(),
                },
                **condition,
                **names,
            )
        except table.meta.client.exceptions.ConditionalCheckFailedException:
            raise _exists(definition.name) from None

    def get(self, tenant_id: str, name: str) -> ToolDefinition | None:
        key = {"tenant_id": tenant_id, "name": name}
        item = self._table().get_item(Key=key, ConsistentRead=True).get("Item")
        return _parse(item) if item else None

    def list(self, tenant_id: str) -> list[ToolDefinition]:
        from boto3.dynamodb.conditions import Key

        items = all_items(self._table().query, KeyConditionExpression=Key("tenant_id").eq(tenant_id))
        parsed = [_parse(item) for item in items]
        return sorted((d for d in parsed if d is not None), key=lambda d: d.name)

    def delete(self, tenant_id: str, name: str) -> bool:
        response = self._table().delete_item(
            Key={"tenant_id": tenant_id, "name": name}, ReturnValues="ALL_OLD"
        )
        return bool(response.get("Attributes"))


def _parse(item: dict[str, Any]) -> ToolDefinition | None:
    """A stored definition, or None when the item is not one (hand-edited, older format)."""
    try:
        return ToolDefinition.model_validate(json.loads(str(item["definition"])))
    except (KeyError, ValueError):
        logger.warning("tools table: skipping item %r, not a valid tool definition", item.get("name"))
        return None
