"""Retry policy: backoff with full jitter, Retry-After, attempt and time budgets, fallback model."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from orchestrator.clients.llm.retry import (
    RetryableFailure,
    RetryPolicy,
    call_with_fallback,
    call_with_retries,
    parse_retry_after,
)
from orchestrator.errors import ModelResponseError, ModelUnavailableError
from tests.support import FakeClock


def _policy(clock: FakeClock, **overrides: float) -> RetryPolicy:
    values: dict[str, float] = {
        "max_retries": 3,
        "budget_s": 60.0,
        "backoff_base_s": 1.0,
        "backoff_max_s": 8.0,
    }
    values.update(overrides)
    return RetryPolicy(
        max_retries=int(values["max_retries"]),
        budget_s=values["budget_s"],
        backoff_base_s=values["backoff_base_s"],
        backoff_max_s=values["backoff_max_s"],
        retry_after_max_s=values.get("retry_after_max_s", 20.0),
        sleep=clock.sleep,
        clock=clock.now,
        rand=lambda: 1.0,  # the top of the jitter range, so the waits are predictable
    )


class Flaky:
    """Fails ``failures`` times with a retryable error, then returns "ok"."""

    def __init__(self, failures: int, retry_after_s: float | None = None) -> None:
        self.failures = failures
        self.retry_after_s = retry_after_s
        self.calls = 0

    def __call__(self, _remaining: float) -> str:
        self.calls += 1
        if self.calls <= self.failures:
            raise RetryableFailure("HTTP 503", retry_after_s=self.retry_after_s)
        return "ok"


def test_full_jitter_stays_within_the_exponential_ceiling() -> None:
    policy = RetryPolicy(backoff_base_s=0.5, backoff_max_s=4.0, rand=lambda: 0.999)
    ceilings = [policy.delay(n, None) for n in range(6)]
    assert ceilings == pytest.approx([0.4995, 0.999, 1.998, 3.996, 3.996, 3.996])
    assert RetryPolicy(rand=lambda: 0.0).delay(3, None) == 0.0


def test_retry_after_is_honoured_and_capped() -> None:
    policy = RetryPolicy(retry_after_max_s=5.0, rand=lambda: 0.0)
    assert policy.delay(0, 2.5) == 2.5
    assert policy.delay(0, 600.0) == 5.0


def test_parse_retry_after_reads_seconds_and_http_dates() -> None:
    now = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(format_datetime(now + timedelta(seconds=30), usegmt=True), now=now) == 30.0
    assert parse_retry_after(format_datetime(now - timedelta(seconds=30), usegmt=True), now=now) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after("nan") is None
    assert parse_retry_after(None) is None


def test_transient_failures_are_retried_with_growing_waits() -> None:
    clock = FakeClock()
    flaky = Flaky(failures=3)
    assert call_with_retries(flaky, policy=_policy(clock), provider="openai", model="m") == "ok"
    assert flaky.calls == 4
    assert clock.sleeps == [1.0, 2.0, 4.0]


def test_exhausted_retries_raise_model_unavailable_naming_provider_and_model() -> None:
    clock = FakeClock()
    flaky = Flaky(failures=99)
    with pytest.raises(ModelUnavailableError) as caught:
        call_with_retries(flaky, policy=_policy(clock, max_retries=2), provider="openai", model="gpt-x")
    assert flaky.calls == 3
    assert caught.value.code == "model_unavailable"
    assert "openai" in caught.value.message and "gpt-x" in caught.value.message
    assert "HTTP 503" in caught.value.message
    assert caught.value.details["attempts"] == 3


def test_a_wait_past_the_budget_gives_up_instead_of_sleeping() -> None:
    clock = FakeClock()
    flaky = Flaky(failures=99, retry_after_s=10.0)
    with pytest.raises(ModelUnavailableError) as caught:
        call_with_retries(flaky, policy=_policy(clock, budget_s=25.0), provider="openai", model="m")
    # Two 10 s waits fit in 25 s; the third would end at 30 s, so it is never started.
    assert clock.sleeps == [10.0, 10.0]
    assert flaky.calls == 3
    assert "retry budget" in caught.value.message


def test_attempts_are_told_the_remaining_budget() -> None:
    clock = FakeClock()
    seen: list[float] = []

    def attempt(remaining: float) -> str:
        seen.append(remaining)
        clock.advance(4.0)  # the call itself takes time
        if len(seen) < 3:
            raise RetryableFailure("timeout")
        return "ok"

    call_with_retries(attempt, policy=_policy(clock, budget_s=20.0), provider="p", model="m")
    assert seen == pytest.approx([20.0, 15.0, 9.0])  # 20, then -4 -1(wait), then -4 -2(wait)


def test_non_retryable_errors_propagate_at_once() -> None:
    clock = FakeClock()
    calls = 0

    def attempt(_remaining: float) -> str:
        nonlocal calls
        calls += 1
        raise ModelResponseError("bad request")

    with pytest.raises(ModelResponseError):
        call_with_retries(attempt, policy=_policy(clock), provider="p", model="m")
    assert calls == 1
    assert clock.sleeps == []


def test_fallback_model_answers_when_the_primary_stays_down() -> None:
    clock = FakeClock()
    asked: list[str] = []

    def attempt(model: str, _remaining: float) -> str:
        asked.append(model)
        if model == "primary":
            raise RetryableFailure("HTTP 529")
        return f"answered by {model}"

    result = call_with_fallback(
        attempt, policy=_policy(clock, max_retries=1), provider="p", model="primary", fallback_model="backup"
    )
    assert result == "answered by backup"
    assert asked == ["primary", "primary", "backup"]


def test_fallback_failure_reports_both_models() -> None:
    clock = FakeClock()

    def attempt(model: str, _remaining: float) -> str:
        raise RetryableFailure(f"{model} down")

    with pytest.raises(ModelUnavailableError) as caught:
        call_with_fallback(
            attempt,
            policy=_policy(clock, max_retries=0),
            provider="p",
            model="primary",
            fallback_model="backup",
        )
    assert "primary down" in caught.value.message and "backup down" in caught.value.message
    assert caught.value.details["fallback_model"] == "backup"
