"""What the remote model clients share: each attempt timed, retried, then tried on the fallback."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from orchestrator.clients.llm.base import ChatResult, LLMClient
from orchestrator.clients.llm.retry import RetryPolicy, call_with_fallback, call_with_retries

T = TypeVar("T")


class RemoteLLMClient(LLMClient):
    """A provider reached over the network: subclasses make one attempt, this class retries it."""

    default_model: str
    fallback_model: str | None
    retry_policy: RetryPolicy

    def _chat_with_fallback(
        self, attempt: Callable[[str, float], ChatResult], model: str | None
    ) -> ChatResult:
        """``attempt(model_id, remaining_s)`` on ``model`` (default: the default model), then the fallback.

        ``latency_ms`` is the successful attempt's own time, not the retries' waits before it.
        """

        def timed(model_id: str, remaining_s: float) -> ChatResult:
            started = time.perf_counter()
            result = attempt(model_id, remaining_s)
            result.latency_ms = round((time.perf_counter() - started) * 1000, 2)
            return result

        return call_with_fallback(
            timed,
            policy=self.retry_policy,
            provider=self.provider,
            model=model or self.default_model,
            fallback_model=self.fallback_model,
        )

    def _with_retries(self, attempt: Callable[[float], T]) -> T:
        """``attempt(remaining_s)`` under the retry policy, charged to the default model."""
        return call_with_retries(
            attempt, policy=self.retry_policy, provider=self.provider, model=self.default_model
        )
