"""Given a flaky server (httpx.MockTransport), when request_with_retries runs, then it waits as told."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from orchestrator.clients.http import parse_retry_after, request_with_retries, safe_url
from orchestrator.errors import ExternalAgentUnavailableError, TransientError
from tests.support import FakeClock

Step = httpx.Response | Exception


def scripted(steps: Sequence[Step]) -> tuple[httpx.Client, list[httpx.Request]]:
    seen: list[httpx.Request] = []
    queue: Iterator[Step] = iter(steps)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        step = next(queue)
        if isinstance(step, Exception):
            raise step
        return step

    return httpx.Client(transport=httpx.MockTransport(handler)), seen


def call(client: httpx.Client, clock: FakeClock, **kwargs: object) -> httpx.Response:
    options: dict[str, object] = {"sleep": clock.sleep, "clock": clock.now, "rand": lambda: 1.0}
    options.update(kwargs)
    return request_with_retries(client, "POST", "http://svc.test/invoke?key=secret", json={}, **options)  # type: ignore[arg-type]


def test_retry_after_seconds_is_honoured_then_success() -> None:
    client, seen = scripted([httpx.Response(503, headers={"Retry-After": "2"}), httpx.Response(200, json={})])
    clock = FakeClock()

    response = call(client, clock)

    assert response.status_code == 200
    assert clock.sleeps == [2.0]
    assert len(seen) == 2


def test_retry_after_http_date_is_honoured() -> None:
    when = datetime.now(UTC) + timedelta(seconds=5)
    client, _ = scripted(
        [
            httpx.Response(429, headers={"Retry-After": format_datetime(when, usegmt=True)}),
            httpx.Response(200),
        ]
    )
    clock = FakeClock()

    call(client, clock)

    assert len(clock.sleeps) == 1
    assert 3.0 <= clock.sleeps[0] <= 5.0


def test_without_retry_after_the_waits_are_jittered_exponential_backoff() -> None:
    client, seen = scripted([httpx.Response(502)] * 3 + [httpx.Response(200)])
    clock = FakeClock()

    response = call(client, clock, max_retries=3, backoff_base_s=0.2, rand=lambda: 0.5)

    assert response.status_code == 200
    assert clock.sleeps == pytest.approx([0.1, 0.2, 0.4])  # rand * base * 2**n
    assert len(seen) == 4


def test_exhausted_retries_raise_the_callers_error_class_without_secrets() -> None:
    client, seen = scripted([httpx.Response(503)] * 3)
    clock = FakeClock()

    with pytest.raises(ExternalAgentUnavailableError) as caught:
        call(client, clock, max_retries=2, error_cls=ExternalAgentUnavailableError, service="external agent")

    assert len(seen) == 3
    assert caught.value.details["attempts"] == 3
    assert caught.value.details["status"] == 503
    assert "external agent" in caught.value.message
    assert "secret" not in caught.value.message and "secret" not in str(caught.value.details)
    assert "svc.test" not in caught.value.message + str(caught.value.details)  # no internal hosts
    assert caught.value.transient is True


def test_timeouts_and_connection_errors_are_retried() -> None:
    client, seen = scripted(
        [httpx.ReadTimeout("slow"), httpx.ConnectError("refused"), httpx.Response(200, json={"ok": True})]
    )
    clock = FakeClock()

    response = call(client, clock)

    assert response.json() == {"ok": True}
    assert len(seen) == 3
    assert len(clock.sleeps) == 2


def test_client_errors_are_returned_at_once_for_the_caller() -> None:
    client, seen = scripted([httpx.Response(401, json={"error": "no"})])
    clock = FakeClock()

    response = call(client, clock)

    assert response.status_code == 401
    assert len(seen) == 1
    assert clock.sleeps == []


def test_retry_after_beyond_the_cap_gives_up_without_waiting() -> None:
    client, seen = scripted([httpx.Response(429, headers={"Retry-After": "120"})])
    clock = FakeClock()

    with pytest.raises(TransientError, match="Retry-After"):
        call(client, clock, retry_after_max_s=20.0)

    assert clock.sleeps == []
    assert len(seen) == 1


def test_a_wait_past_the_budget_is_not_started() -> None:
    client, seen = scripted([httpx.Response(503, headers={"Retry-After": "4"})] * 3)
    clock = FakeClock()

    with pytest.raises(TransientError, match="budget"):
        call(client, clock, budget_s=6.0)

    assert clock.sleeps == [4.0]  # the second 4 s wait would end at 8 s > 6 s
    assert len(seen) == 2


def test_each_attempt_timeout_is_capped_by_the_remaining_budget() -> None:
    timeouts: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        timeouts.append(float(request.extensions["timeout"]["read"]))
        return httpx.Response(503 if len(timeouts) == 1 else 200)

    clock = FakeClock()

    def slow_sleep(seconds: float) -> None:  # each wait also lets 3 s of other work pass
        clock.sleep(seconds)
        clock.advance(3.0)

    client = httpx.Client(transport=httpx.MockTransport(handler))

    call(client, clock, timeout=30.0, budget_s=10.0, sleep=slow_sleep)

    assert timeouts[0] == pytest.approx(10.0)
    assert timeouts[1] < 10.0 - 3.0


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, None), ("", None), ("3", 3.0), ("-1", 0.0), ("soon", None)],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value) == expected


def test_safe_url_drops_query_and_userinfo() -> None:
    assert safe_url("https://user:pw@api.test:8443/v1/x?token=abc") == "https://api.test:8443/v1/x"
