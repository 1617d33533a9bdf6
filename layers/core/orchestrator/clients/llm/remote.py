"""What the remote model clients share: one call within its deadline, then the fallback model."""

from __future__ import annotations

import logging
from collections.abc import Callable

from orchestrator.clients.llm.base import ChatResult, LLMClient
from orchestrator.clients.retrying import GiveUp, RetryPolicy
from orchestrator.errors import ModelUnavailableError

logger = logging.getLogger(__name__)


class RemoteLLMClient(LLMClient):
    """A provider reached over the network: subclasses make one retried call on one model."""

    default_model: str
    fallback_model: str | None
    retry_policy: RetryPolicy

    def model_unavailable(self, model: str) -> Callable[[GiveUp], Exception]:
        """The error raised when the retries on ``model`` stop."""

        def unavailable(summary: GiveUp) -> Exception:
            return ModelUnavailableError(
                f"The {self.provider} model '{model}' is unavailable after {summary.attempts} attempt(s) "
                f"in {summary.elapsed_s:.1f} s: {summary.reason}",
                details={"provider": self.provider, "model": model, "attempts": summary.attempts},
            )

        return unavailable

    def _chat_with_fallback(
        self, call: Callable[[str, float], ChatResult], model: str | None, deadline: float | None
    ) -> ChatResult:
        """``call(model_id, deadline)`` on ``model`` (default: the default model), then the fallback.

        Both models share one deadline: the retry budget, or the caller's deadline if sooner, so
        a chat with a fallback still ends within the budget (the fallback gets what is left).
        """
        primary = model or self.default_model
        end = self.retry_policy.deadline(deadline)
        try:
            return call(primary, end)
        except ModelUnavailableError as primary_error:
            fallback = self.fallback_model
            if not fallback or fallback == primary:
                raise
            logger.warning(
                "primary model unavailable, trying the fallback model",
                extra={"provider": self.provider, "model": primary, "fallback_model": fallback},
            )
            try:
                return call(fallback, end)
            except ModelUnavailableError as fallback_error:
                raise ModelUnavailableError(
                    f"{primary_error.message} The fallback model also failed: {fallback_error.message}",
                    details={**primary_error.details, "fallback_model": fallback},
                ) from fallback_error
