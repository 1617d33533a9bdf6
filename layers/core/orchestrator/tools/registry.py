"""The tools a request may use: builtins, then the operator's config file, then tools registered at run time.

A name resolves in that order and cannot be shadowed: registering a builtin's or a configured
tool's name is refused. Config-file and run-time tools are ``http`` tools (a builtin needs code).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError as PydanticValidationError

from orchestrator.errors import (
    ConfigurationError,
    OrchestratorError,
    ToolNotFoundError,
    TransientError,
    ValidationError,
)
from orchestrator.tools.builtins import BUILTIN_DEFINITIONS, BUILTIN_NAMES
from orchestrator.tools.models import TOOL_NAME_PATTERN, ToolDefinition
from orchestrator.tools.netguard import check_url
from orchestrator.tools.store import DynamoToolStore, InMemoryToolStore, ToolStore

if TYPE_CHECKING:
    from orchestrator.config import Settings

logger = logging.getLogger(__name__)


def load_config_tools(path: str | Path, allowed_hosts: list[str] | None = None) -> list[ToolDefinition]:
    """Tools from a JSON file holding a list of definitions (or ``{"tools": [...]}``)."""
    source = Path(path)
    try:
        document: Any = json.loads(source.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"cannot read tools config {source}: {exc}") from exc
    entries = document.get("tools") if isinstance(document, dict) else document
    if not isinstance(entries, list):
        raise ConfigurationError(f"tools config {source} must hold a list of tool definitions")
    tools: list[ToolDefinition] = []
    for index, entry in enumerate(entries):
        try:
            definition = ToolDefinition.model_validate(entry)
            _check_http_tool(definition, allowed_hosts or [], existing={t.name for t in tools})
        except (PydanticValidationError, OrchestratorError) as exc:
            raise ConfigurationError(f"tools config {source}, entry {index}: {_describe(exc)}") from exc
        tools.append(definition)
    return tools


def _describe(exc: Exception) -> str:
    if isinstance(exc, PydanticValidationError):
        return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'tool'}: {e['msg']}" for e in exc.errors()[:5])
    return exc.message if isinstance(exc, OrchestratorError) else str(exc)


def _check_http_tool(definition: ToolDefinition, allowed_hosts: list[str], existing: set[str]) -> None:
    if definition.name in BUILTIN_NAMES:
        raise ValidationError(f"'{definition.name}' is a builtin tool and cannot be redefined")
    if definition.name in existing:
        raise ValidationError(f"tool '{definition.name}' is already defined")
    if definition.kind != "http" or definition.http is None:
        raise ValidationError("only http tools can be added; builtin tools come with the code")
    # Names are not resolved here: an answer now proves nothing about later calls, which are
    # all resolved and checked again. Literal IPs, localhost and metadata names fail right away.
    check_url(definition.http.url, allowed_hosts, resolve_host=False)


@contextmanager
def _store_errors(action: str) -> Iterator[None]:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except (BotoCoreError, ClientError) as exc:
        logger.warning("tool registry: %s failed: %s", action, type(exc).__name__)
        raise TransientError(f"the tool registry is unavailable ({action})") from exc


class ToolRegistry:
    def __init__(
        self,
        *,
        config_tools: list[ToolDefinition] | None = None,
        store: ToolStore | None = None,
        allowed_hosts: list[str] | None = None,
    ) -> None:
        self._builtins = {d.name: d for d in BUILTIN_DEFINITIONS}
        self._configured = {d.name: d for d in config_tools or []}
        self._store = store if store is not None else InMemoryToolStore()
        self._allowed_hosts = list(allowed_hosts or [])

    @classmethod
    def from_settings(cls, settings: Settings, *, dynamodb_resource: Any | None = None) -> ToolRegistry:
        """Builtins, ``TOOLS_CONFIG_PATH`` (if set) and the ``TOOLS_TABLE`` (if set)."""
        allowed = settings.http_tool_allowed_hosts
        path = settings.tools_config_path
        configured = load_config_tools(path, allowed) if path else []
        store: ToolStore | None = None
        if settings.tools_table.strip():
            store = DynamoToolStore(
                settings.tools_table.strip(), region=settings.aws_region, resource=dynamodb_resource
            )
        return cls(config_tools=configured, store=store, allowed_hosts=allowed)

    def is_builtin(self, name: str) -> bool:
        return name in self._builtins

    def list(self) -> list[ToolDefinition]:
        """Every tool; if the table is unreachable, the builtin and configured ones (logged)."""
        tools = [*self._builtins.values(), *self._configured.values()]
        try:
            with _store_errors("list"):
                stored = self._store.list()
        except TransientError:
            # A chat turn should still have the builtins when DynamoDB has a bad minute.
            return tools
        known = {t.name for t in tools}
        return tools + [t for t in stored if t.name not in known]

    def get(self, name: str) -> ToolDefinition:
        found = self._builtins.get(name) or self._configured.get(name)
        if found is None and re.fullmatch(TOOL_NAME_PATTERN, name):
            with _store_errors("get"):
                found = self._store.get(name)
        if found is None:
            raise ToolNotFoundError(f"no tool named '{name}'", details={"name": name})
        return found

    def register(self, definition: ToolDefinition) -> ToolDefinition:
        """Add or replace a run-time ``http`` tool; builtin and configured names are refused."""
        if definition.name in self._configured:
            raise ValidationError(
                f"'{definition.name}' is defined in the tools config file and cannot be replaced"
            )
        _check_http_tool(definition, self._allowed_hosts, existing=set())
        with _store_errors("register"):
            self._store.put(definition)
        logger.info("tool registered: %s (%s)", definition.name, definition.kind)
        return definition
