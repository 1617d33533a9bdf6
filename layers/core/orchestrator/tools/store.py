"""Where tools registered at run time live: a DynamoDB table keyed by ``name`` (S).

Each item holds the definition as a JSON string (``definition``), so numbers in JSON schemas
round-trip without DynamoDB's Decimal conversion, plus ``updated_at`` for operators.
"""

from __future__ import annotations

import json
import logging
from abc import ABC, abstractmethod
from typing import Any

from orchestrator.memory._dynamodb import all_items
from orchestrator.state import utc_now
from orchestrator.tools.models import ToolDefinition

logger = logging.getLogger(__name__)


class ToolStore(ABC):
    @abstractmethod
    def put(self, definition: ToolDefinition) -> None: ...

    @abstractmethod
    def get(self, name: str) -> ToolDefinition | None: ...

    @abstractmethod
    def list(self) -> list[ToolDefinition]: ...


class InMemoryToolStore(ToolStore):
    """For a process without a table (unit tests, scripts): lives as long as the registry."""

    def __init__(self) -> None:
        self._items: dict[str, ToolDefinition] = {}

    def put(self, definition: ToolDefinition) -> None:
        self._items[definition.name] = definition

    def get(self, name: str) -> ToolDefinition | None:
        return self._items.get(name)

    def list(self) -> list[ToolDefinition]:
        return [self._items[name] for name in sorted(self._items)]


class DynamoToolStore(ToolStore):
    """The tools table. Pass ``resource`` (a boto3 DynamoDB resource) to inject one in tests."""

    def __init__(self, table_name: str, *, region: str, resource: Any | None = None) -> None:
        self.table_name = table_name
        self.region = region
        self._resource = resource

    def _table(self) -> Any:
        from orchestrator.memory._dynamodb import table

        return table(self.table_name, self.region, self._resource)

    def put(self, definition: ToolDefinition) -> None:
        self._table().put_item(
            Item={
                "name": definition.name,
                "definition": definition.model_dump_json(),
                "updated_at": utc_now(),
            }
        )

    def get(self, name: str) -> ToolDefinition | None:
        item = self._table().get_item(Key={"name": name}, ConsistentRead=True).get("Item")
        return _parse(item) if item else None

    def list(self) -> list[ToolDefinition]:
        parsed = [_parse(item) for item in all_items(self._table().scan)]
        return sorted((d for d in parsed if d is not None), key=lambda d: d.name)


def _parse(item: dict[str, Any]) -> ToolDefinition | None:
    """A stored definition, or None when the item is not one (hand-edited, older format)."""
    try:
        return ToolDefinition.model_validate(json.loads(str(item["definition"])))
    except (KeyError, ValueError):
        logger.warning("tools table: skipping item %r, not a valid tool definition", item.get("name"))
        return None
