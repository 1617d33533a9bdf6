"""Retries by tenacity: the stop and wait helpers, the policy they make, and the Retry-After parser."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from tenacity import RetryCallState, Retrying, wait_fixed, wait_random_exponential

from orchestrator.clients.retrying import (
    GiveUp,
    RetryPolicy,
    TransientFailure,
    call_with_retries,
    is_transient,
    parse_retry_after,
    stop_before_deadline,
    wait_retry_after_or,
)
from orchestrator.errors import ModelResponseError, ModelUnavailableError
from tests.support import FakeClock


def failed_state(error: BaseException, *, upcoming_sleep: float = 0.0, attempt: int = 1) -> RetryCallState:
    """The state tenacity hands to stop and wait after attempt number ``attempt`` raised ``error``."""
    state = RetryCallState(retry_object=Retrying(), fn=None, args=(), kwargs={})
    state.attempt_number = attempt
    state.set_exception((type(error), error, None))
    state.upcoming_sleep = upcoming_sleep
    return state


def unavailable(summary: GiveUp) -> Exception:
    return ModelUnavailableError(
        f"The p model 'm' is unavailable after {summary.attempts} attempt(s): {summary.reason}",
        details={"attempts": summary.attempts, "status": summary.status},
    )


class Flaky:
    """Fails ``failures`` times with a transient failure, then returns "ok"; each call takes ``takes_s``."""

    def __init__(
        self,
        failures: int,
        *,
        retry_after_s: float | None = None,
        clock: FakeClock | None = None,
        takes_s: float = 0,
    ) -> None:
        self.failures = failures
        self.retry_after_s = retry_after_s
        self.clock = clock
        self.takes_s = takes_s
        self.remaining: list[float] = []

    def __call__(self, remaining_s: float) -> str:
        self.remaining.append(remaining_s)
        if self.clock is not None:
            self.clock.advance(self.takes_s)
        if len(self.remaining) <= self.failures:
            raise TransientFailure("HTTP 503", status=503, retry_after_s=self.retry_after_s)
        return "ok"


def policy(clock: FakeClock, **values: float) -> RetryPolicy:
    return RetryPolicy(
        max_retries=int(values.get("max_retries", 3)),
        budget_s=values.get("budget_s", 60.0),
        backoff_base_s=values.get("backoff_base_s", 1.0),
        backoff_max_s=values.get("backoff_max_s", 8.0),
        retry_after_max_s=values.get("retry_after_max_s", 20.0),
        sleep=clock.sleep,
        clock=clock.now,
    )


# --- stop_before_deadline -------------------------------------------------------------------


def test_stop_before_deadline_stops_when_the_next_wait_would_end_past_it() -> None:
    clock = FakeClock()
    stop = stop_before_deadline(clock.now() + 5.0, clock=clock.now)

    assert stop(failed_state(TransientFailure("x"), upcoming_sleep=4.9)) is False
    assert stop(failed_state(TransientFailure("x"), upcoming_sleep=5.0)) is True
    clock.advance(4.0)
    assert stop(failed_state(TransientFailure("x"), upcoming_sleep=1.5)) is True


def test_stop_before_deadline_without_a_deadline_never_stops() -> None:
    assert stop_before_deadline(None)(failed_state(TransientFailure("x"), upcoming_sleep=1e9)) is False


# --- wait_retry_after_or --------------------------------------------------------------------


def test_wait_honours_retry_after_up_to_the_cap() -> None:
    wait = wait_retry_after_or(wait_fixed(7.0), cap_s=5.0)

    assert wait(failed_state(TransientFailure("429", retry_after_s=2.5))) == 2.5
    assert wait(failed_state(TransientFailure("429", retry_after_s=5.0))) == 5.0
    # Longer than the cap: an infinite wait, which any deadline turns into "give up now".
    assert math.isinf(wait(failed_state(TransientFailure("429", retry_after_s=600.0))))


def test_wait_falls_back_without_retry_after() -> None:
    wait = wait_retry_after_or(wait_fixed(7.0), cap_s=5.0)

    assert wait(failed_state(TransientFailure("503"))) == 7.0
    assert wait(failed_state(ValueError("not ours"))) == 7.0


def test_full_jitter_stays_within_the_exponential_ceiling() -> None:
    wait = wait_retry_after_or(wait_random_exponential(multiplier=0.5, max=4.0), cap_s=20.0)
    for attempt, ceiling in enumerate([0.5, 1.0, 2.0, 4.0, 4.0, 4.0], start=1):
        samples = [wait(failed_state(TransientFailure("503"), attempt=attempt)) for _ in range(200)]
        assert all(0.0 <= s <= ceiling for s in samples)
        assert max(samples) > ceiling / 2  # the whole range is used, not just its bottom


def test_only_transient_failures_are_retried() -> None:
    assert is_transient(TransientFailure("HTTP 503"))
    assert not is_transient(ModelResponseError("bad request"))
    assert not is_transient(ValueError("bug"))


# --- the policy through call_with_retries ---------------------------------------------------


def test_transient_failures_are_retried_with_growing_waits() -> None:
    clock = FakeClock()
    flaky = Flaky(failures=3)

    assert call_with_retries(flaky, policy=policy(clock), give_up=unavailable) == "ok"

    assert len(flaky.remaining) == 4
    assert len(clock.sleeps) == 3
    for n, wait in enumerate(clock.sleeps):
        assert 0.0 <= wait <= 1.0 * 2**n


def test_exhausted_retries_raise_the_callers_error_with_the_last_reason() -> None:
    clock = FakeClock()
    flaky = Flaky(failures=99)

    with pytest.raises(ModelUnavailableError) as caught:
        call_with_retries(flaky, policy=policy(clock, max_retries=2), give_up=unavailable)

    assert len(flaky.remaining) == 3
    assert "HTTP 503" in caught.value.message
    assert caught.value.details == {"attempts": 3, "status": 503}


def test_a_wait_past_the_budget_gives_up_instead_of_sleeping() -> None:
    clock = FakeClock()
    flaky = Flaky(failures=99, retry_after_s=10.0)

    with pytest.raises(ModelUnavailableError) as caught:
        call_with_retries(flaky, policy=policy(clock, budget_s=25.0), give_up=unavailable)

    # Two 10 s waits fit in 25 s; the third would end at 30 s, so it is never started.
    assert clock.sleeps == [10.0, 10.0]
    assert len(flaky.remaining) == 3
    assert "retry budget" in caught.value.message


def test_the_callers_deadline_wins_when_it_is_sooner_than_the_budget() -> None:
    clock = FakeClock()
    flaky = Flaky(failures=99, retry_after_s=10.0)

    with pytest.raises(ModelUnavailableError):
        call_with_retries(
            flaky, policy=policy(clock, budget_s=60.0), give_up=unavailable, deadline=clock.now() + 15.0
        )

    assert clock.sleeps == [10.0]
    assert flaky.remaining == [15.0, 5.0]


def test_attempts_are_told_the_remaining_budget() -> None:
    clock = FakeClock()
    flaky = Flaky(failures=2, clock=clock, takes_s=4.0)  # the call itself takes time

    call_with_retries(flaky, policy=policy(clock, budget_s=20.0), give_up=unavailable)

    first, second = clock.sleeps
    assert flaky.remaining == pytest.approx([20.0, 16.0 - first, 12.0 - first - second])


def test_no_attempt_starts_once_the_deadline_has_passed() -> None:
    clock = FakeClock()
    flaky = Flaky(failures=0)

    with pytest.raises(ModelUnavailableError, match="no time left"):
        call_with_retries(flaky, policy=policy(clock), give_up=unavailable, deadline=clock.now())

    assert flaky.remaining == []


def test_non_retryable_errors_propagate_at_once() -> None:
    clock = FakeClock()
    calls = 0

    def attempt(_remaining: float) -> str:
        nonlocal calls
        calls += 1
        raise ModelResponseError("bad request")

    with pytest.raises(ModelResponseError):
        call_with_retries(attempt, policy=policy(clock), give_up=unavailable)
    assert calls == 1
    assert clock.sleeps == []


def test_retrying_is_a_plain_tenacity_object_for_other_callers() -> None:
    clock = FakeClock()
    flaky = Flaky(failures=1)
    retrying = policy(clock).retrying(clock.now() + 10.0, reraise=True)

    assert retrying(flaky, 10.0) == "ok"
    assert len(clock.sleeps) == 1


# --- parse_retry_after ----------------------------------------------------------------------


def test_parse_retry_after_reads_seconds_and_http_dates() -> None:
    now = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(format_datetime(now + timedelta(seconds=30), usegmt=True), now=now) == 30.0
    assert parse_retry_after(format_datetime(now - timedelta(seconds=30), usegmt=True), now=now) == 0.0
    assert parse_retry_after("nan") is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, None), ("", None), ("3", 3.0), ("-1", 0.0), ("soon", None)],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value) == expected
