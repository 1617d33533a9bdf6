"""Tools from the operator's config file (``TOOLS_CONFIG_PATH``), read once at start-up."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError as PydanticValidationError

from orchestrator.errors import ConfigurationError, OrchestratorError
from orchestrator.tools.models import ToolDefinition
from orchestrator.tools.registry.policy import check_addable


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
            check_addable(definition, allowed_hosts or [], existing={t.name for t in tools})
        except (PydanticValidationError, OrchestratorError) as exc:
            raise ConfigurationError(f"tools config {source}, entry {index}: {_describe(exc)}") from exc
        tools.append(definition)
    return tools


def _describe(exc: Exception) -> str:
    if isinstance(exc, PydanticValidationError):
        return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'tool'}: {e['msg']}" for e in exc.errors()[:5])
    return exc.message if isinstance(exc, OrchestratorError) else str(exc)
