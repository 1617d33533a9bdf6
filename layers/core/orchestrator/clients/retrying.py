"""Retries by tenacity for every remote call: how often, how long to wait, when to give up.

An attempt that fails in a way worth retrying raises :class:`TransientFailure` (the HTTP
transport turns timeouts, connection errors and :data:`RETRYABLE_STATUSES` into one;
:mod:`orchestrator.aws.boto` does the same for botocore's errors). Anything else an attempt
raises is final and propagates at once. :meth:`RetryPolicy.retrying` builds the
:class:`tenacity.Retrying`::

    stop  = stop_after_attempt(max_retries + 1) | stop_before_deadline(deadline)
    wait  = wait_retry_after_or(wait_random_exponential(multiplier=base, max=max))
    retry = retry_if_exception(is_transient)

The deadline is a :func:`time.monotonic` instant: the sooner of the configured budget and the
caller's deadline (a Lambda's remaining time minus a margin), so a slow dependency ends as the
caller's typed error, never as a Lambda timeout. Sleep and clock are injectable: tests never wait.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, TypeVar, cast

from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, wait_random_exponential
from tenacity.stop import stop_base
from tenacity.wait import wait_base

if TYPE_CHECKING:
    from orchestrator.config import Settings

__all__ = [
    "RETRYABLE_STATUSES",
    "GiveUp",
    "RetryCounter",
    "RetryPolicy",
    "TransientFailure",
    "call_with_retries",
    "counting_retries",
    "is_transient",
    "parse_retry_after",
    "stop_before_deadline",
    "wait_retry_after_or",
]

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: The one table of HTTP statuses worth retrying: the server timed out (408), asked us to slow
#: down (429), or failed or was overloaded for now (5xx gateways, 529 "overloaded"). Every other
#: status is an answer; retrying it would only repeat it.
RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504, 529})


class TransientFailure(Exception):
    """One failed attempt worth retrying; ``reason`` is safe to show (no URL, no secret)."""

    def __init__(self, reason: str, *, status: int | None = None, retry_after_s: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status
        #: The server's Retry-After, in seconds, when it sent one.
        self.retry_after_s = retry_after_s


def is_transient(error: BaseException) -> bool:
    """Whether tenacity should try again after ``error``."""
    return isinstance(error, TransientFailure)


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Retry-After as seconds: delta-seconds or an HTTP date. Missing or unparseable → None.

    Tenacity has no HTTP date parser, hence this one.
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return max(seconds, 0.0) if math.isfinite(seconds) else None
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - (now or datetime.now(UTC))).total_seconds(), 0.0)


class stop_before_deadline(stop_base):
    """Stop when the next wait would end at or past ``deadline`` (a :func:`time.monotonic` instant).

    Tenacity computes the wait before it asks the stop, so ``upcoming_sleep`` is the wait about
    to start: a sleep that would end past the deadline, and so the attempt after it, never starts.
    ``None`` means no deadline.
    """

    def __init__(self, deadline: float | None, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.deadline = deadline
        self.clock = clock

    def __call__(self, retry_state: RetryCallState) -> bool:
        if self.deadline is None:
            return False
        return self.clock() + retry_state.upcoming_sleep >= self.deadline


class wait_retry_after_or(wait_base):
    """The server's Retry-After (from the failed attempt's :class:`TransientFailure`), else ``fallback``.

    A Retry-After longer than ``cap_s`` is not honoured by waiting: the wait is infinite, which
    makes :class:`stop_before_deadline` give up at once rather than hammer a server that asked
    for a long pause.
    """

    def __init__(self, fallback: wait_base, *, cap_s: float) -> None:
        self.fallback = fallback
        self.cap_s = cap_s

    def __call__(self, retry_state: RetryCallState) -> float:
        outcome = retry_state.outcome
        error = outcome.exception() if outcome is not None and outcome.failed else None
        retry_after = error.retry_after_s if isinstance(error, TransientFailure) else None
        if retry_after is None:
            return float(self.fallback(retry_state))
        return retry_after if retry_after <= self.cap_s else math.inf


@dataclass
class RetryCounter:
    """How many retries the remote calls made while it was current (one node action's)."""

    retries: int = 0


_current_counter: ContextVar[RetryCounter | None] = ContextVar("retry_counter", default=None)


@contextmanager
def counting_retries() -> Iterator[RetryCounter]:
    """Count every retry :func:`call_with_retries` makes in this context (its thread)."""
    counter = RetryCounter()
    token = _current_counter.set(counter)
    try:
        yield counter
    finally:
        _current_counter.reset(token)


@dataclass(frozen=True)
class GiveUp:
    """Why the retries stopped: what the caller's typed error says."""

    attempts: int
    elapsed_s: float
    #: The last failure's reason, and why no further attempt was made.
    reason: str
    #: The last failure's HTTP status, when it had one.
    status: int | None


@dataclass(frozen=True)
class RetryPolicy:
    """How one kind of remote call is retried; :meth:`retrying` builds the tenacity object."""

    max_retries: int = 3
    #: One call, retries included, ends within this many seconds (or the caller's deadline).
    budget_s: float = 25.0
    #: Full jitter: the n-th wait is uniform in [0, min(backoff_max_s, backoff_base_s * 2**n)].
    backoff_base_s: float = 0.5
    backoff_max_s: float = 8.0
    #: A server's Retry-After is honoured up to this; a longer one means give up now.
    retry_after_max_s: float = 20.0
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)

    @classmethod
    def for_models(cls, settings: Settings) -> RetryPolicy:
        """The model providers' policy (chat and embeddings)."""
        return cls(
            max_retries=settings.llm_max_retries,
            budget_s=settings.llm_retry_budget_s,
            backoff_base_s=settings.llm_backoff_base_s,
            backoff_max_s=settings.llm_backoff_max_s,
            retry_after_max_s=settings.llm_retry_after_max_s,
        )

    def deadline(self, deadline: float | None = None) -> float:
        """When a call starting now must end: the budget, or the caller's ``deadline`` if sooner."""
        own = self.clock() + self.budget_s
        return own if deadline is None else min(own, deadline)

    def retrying(self, deadline: float, **overrides: Any) -> Retrying:
        """The tenacity object for one call that must end by ``deadline``; ``overrides`` go to it."""
        options: dict[str, Any] = {
            "stop": stop_after_attempt(self.max_retries + 1)
            | stop_before_deadline(deadline, clock=self.clock),
            "wait": wait_retry_after_or(
                wait_random_exponential(multiplier=self.backoff_base_s, max=self.backoff_max_s),
                cap_s=self.retry_after_max_s,
            ),
            "retry": retry_if_exception(is_transient),
            "sleep": self.sleep,
        }
        options.update(overrides)
        return Retrying(**options)


def _why_stopped(state: RetryCallState, policy: RetryPolicy) -> str:
    wait = state.upcoming_sleep
    if math.isinf(wait):
        failure = state.outcome.exception() if state.outcome is not None else None
        asked = failure.retry_after_s if isinstance(failure, TransientFailure) else None
        return f"; Retry-After {asked or 0:.0f} s exceeds the {policy.retry_after_max_s:.0f} s cap"
    if state.attempt_number > policy.max_retries:
        return ""
    return f"; the next wait ({wait:.1f} s) would exceed the retry budget"


def call_with_retries(
    attempt: Callable[[float], T],
    *,
    policy: RetryPolicy,
    give_up: Callable[[GiveUp], Exception],
    deadline: float | None = None,
    log_extra: dict[str, Any] | None = None,
) -> T:
    """Run ``attempt(remaining_s)`` under ``policy`` until it returns, fails for good, or stops.

    ``remaining_s`` (> 0) is what is left before the effective deadline: the attempt caps its
    own timeout with it. No attempt starts once the deadline has passed. When the retries stop,
    the exception made by ``give_up`` is raised; a non-transient exception from ``attempt``
    propagates unchanged.
    """
    started = policy.clock()
    end = policy.deadline(deadline)
    extra = log_extra or {}

    def log_retry(state: RetryCallState) -> None:
        failure = state.outcome.exception() if state.outcome is not None else None
        reason = failure.reason if isinstance(failure, TransientFailure) else type(failure).__name__
        counter = _current_counter.get()
        if counter is not None:  # a run's trace shows each node's retries
            counter.retries += 1
        logger.warning(
            "remote call failed, retrying",
            extra={**extra, "reason": reason, "wait_s": round(state.upcoming_sleep, 3)},
        )

    def stopped(state: RetryCallState) -> Any:
        failure = state.outcome.exception() if state.outcome is not None else None
        if not isinstance(failure, TransientFailure):  # pragma: no cover - retry= only lets these through
            raise cast("BaseException", failure)
        summary = GiveUp(
            attempts=state.attempt_number,
            elapsed_s=policy.clock() - started,
            reason=failure.reason + _why_stopped(state, policy),
            status=failure.status,
        )
        logger.warning(
            "remote call failed, giving up",
            extra={**extra, "reason": summary.reason, "attempts": summary.attempts},
        )
        raise give_up(summary) from None

    def timed_attempt() -> T:
        remaining = end - policy.clock()
        if remaining <= 0:  # the deadline passed (during an attempt, or before the call)
            raise TransientFailure("no time left before the deadline")
        return attempt(remaining)

    retrying = policy.retrying(end, before_sleep=log_retry, retry_error_callback=stopped)
    return retrying(timed_attempt)
