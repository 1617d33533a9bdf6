"""Model providers behind one interface, chosen by ``LLM_PROVIDER`` (offline | openai | bedrock).

Provider modules are imported only when selected, so a handler that never calls a model does
not pay for httpx or boto3 at cold start.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

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
    "build_llm_client",
    "test_connection",
]


def build_llm_client(settings: Settings) -> LLMClient:
    """The configured provider's client (the container keeps one per process)."""
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
