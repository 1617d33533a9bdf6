"""Model providers behind one interface, chosen by ``LLM_PROVIDER`` (offline | openai | bedrock).

Provider modules are imported only when selected, so a handler that never calls a model does
not pay for httpx or boto3 at cold start.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING

from orchestrator.caching import PerConfiguration
from orchestrator.clients.llm.base import ChatMessage, ChatResult, LLMClient, ModelInfo, TokenUsage, ToolSpec
from orchestrator.clients.llm.connection import ConnectionReport, test_connection
from orchestrator.errors import ConfigurationError

if TYPE_CHECKING:
    from orchestrator.config import Settings

__all__ = [
    "ChatMessage",
    "ChatResult",
    "ConnectionReport",
    "LLMClient",
    "ModelInfo",
    "TokenUsage",
    "ToolSpec",
    "get_llm_client",
    "reset_llm_clients",
    "test_connection",
]

_clients: PerConfiguration[str, LLMClient] = PerConfiguration()


def _fingerprint(settings: Settings) -> str:
    """The settings a client is built from; the key enters only as a hash."""
    fields = settings.model_dump(
        include={name for name in type(settings).model_fields if name.startswith("llm_")}
    )
    fields["aws_region"] = settings.aws_region
    key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else ""
    fields["llm_api_key"] = hashlib.sha256(key.encode()).hexdigest()
    return json.dumps(fields, sort_keys=True, default=str)


def _build(settings: Settings) -> LLMClient:
    if settings.llm_provider == "offline":
        from orchestrator.clients.llm.offline import OfflineLLMClient

        return OfflineLLMClient()
    if settings.llm_default_model == "offline-stand-in":
        raise ConfigurationError(
            f"LLM_PROVIDER is '{settings.llm_provider}' but LLM_DEFAULT_MODEL is not set",
            details={"provider": settings.llm_provider},
        )
    if settings.llm_provider == "openai":
        from orchestrator.clients.llm.openai import OpenAICompatibleClient

        return OpenAICompatibleClient.from_settings(settings)
    from orchestrator.clients.llm.bedrock import BedrockClient

    return BedrockClient.from_settings(settings)


def get_llm_client(settings: Settings) -> LLMClient:
    """The configured provider's client, built once per process per distinct configuration."""
    return _clients.get(_fingerprint(settings), lambda: _build(settings))


def reset_llm_clients() -> None:
    """Forget every built client (tests and the local runtime change configuration)."""
    _clients.clear()
