"""Retry policy for model calls: exponential backoff with full jitter, Retry-After, a time budget.

Providers translate their transport's failures into :class:`RetryableFailure` (429, 5xx,
timeouts, connection errors) or :class:`orchestrator.errors.ModelResponseError` (any other
4xx, garbage replies); :func:`call_with_retries` does the waiting and gives up with
:class:`orchestrator.errors.ModelUnavailableError`. Sleep, clock and randomness are injectable
so tests never wait for real.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

from orchestrator.clients.backoff import backoff_delay, parse_retry_after
from orchestrator.errors import ModelUnavailableError

if TYPE_CHECKING:
    from orchestrator.config import Settings

__all__ = [
    "RetryPolicy",
    "RetryableFailure",
    "call_with_fallback",
    "call_with_retries",
    "parse_retry_after",
]

logger = logging.getLogger(__name__)

T = TypeVar("T")


class RetryableFailure(Exception):
    """One failed attempt worth retrying; ``reason`` is safe to show (it never holds a key)."""

    def __init__(self, reason: str, *, retry_after_s: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after_s = retry_after_s


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 3
    budget_s: float = 90.0
    backoff_base_s: float = 0.5
    backoff_max_s: float = 8.0
    retry_after_max_s: float = 20.0
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)
    rand: Callable[[], float] = field(default=random.random, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> RetryPolicy:
        return cls(
            max_retries=settings.llm_max_retries,
            budget_s=settings.llm_retry_budget_s,
            backoff_base_s=settings.llm_backoff_base_s,
            backoff_max_s=settings.llm_backoff_max_s,
            retry_after_max_s=settings.llm_retry_after_max_s,
        )

    def delay(self, retry_number: int, retry_after_s: float | None) -> float:
        """Wait before retry ``retry_number`` (0-based): the server's hint, else full jitter."""
        if retry_after_s is not None:
            return min(max(retry_after_s, 0.0), self.retry_after_max_s)
        return backoff_delay(
            retry_number, base_s=self.backoff_base_s, max_s=self.backoff_max_s, rand=self.rand
        )


def call_with_retries(
    attempt: Callable[[float], T],
    *,
    policy: RetryPolicy,
    provider: str,
    model: str,
) -> T:
    """Run ``attempt(remaining_budget_s)`` until it succeeds or the retries or the budget run out.

    The attempt should cap its own timeout at the remaining budget. A wait that would end past
    the budget is not started: the call gives up at once instead.
    """
    started = policy.clock()
    attempts = 0
    last_reason = ""
    while True:
        attempts += 1
        try:
            return attempt(max(policy.budget_s - (policy.clock() - started), 0.001))
        except RetryableFailure as failure:
            last_reason = failure.reason
            if attempts > policy.max_retries:
                break
            wait = policy.delay(attempts - 1, failure.retry_after_s)
            remaining = policy.budget_s - (policy.clock() - started)
            if wait >= remaining:
                last_reason += f"; the next wait ({wait:.1f} s) would exceed the retry budget"
                break
            logger.warning(
                "model call failed, retrying",
                extra={"provider": provider, "model": model, "reason": failure.reason, "wait_s": wait},
            )
            policy.sleep(wait)
    raise ModelUnavailableError(
        f"The {provider} model '{model}' is unavailable after {attempts} attempt(s) "
        f"in {policy.clock() - started:.1f} s: {last_reason}",
        details={"provider": provider, "model": model, "attempts": attempts},
    )


def call_with_fallback(
    attempt: Callable[[str, float], T],
    *,
    policy: RetryPolicy,
    provider: str,
    model: str,
    fallback_model: str | None,
) -> T:
    """Retry on ``model``; if it stays down, one retry cycle on ``fallback_model``.

    Each model's cycle is bounded by the budget, so with a fallback the worst case is twice it.
    """
    try:
        return call_with_retries(
            lambda remaining: attempt(model, remaining), policy=policy, provider=provider, model=model
        )
    except ModelUnavailableError as primary_error:
        if not fallback_model or fallback_model == model:
            raise
        logger.warning(
            "primary model unavailable, trying the fallback model",
            extra={"provider": provider, "model": model, "fallback_model": fallback_model},
        )
        try:
            return call_with_retries(
                lambda remaining: attempt(fallback_model, remaining),
                policy=policy,
                provider=provider,
                model=fallback_model,
            )
        except ModelUnavailableError as fallback_error:
            raise ModelUnavailableError(
                f"{primary_error.message} The fallback model also failed: {fallback_error.message}",
                details={**primary_error.details, "fallback_model": fallback_model},
            ) from fallback_error
