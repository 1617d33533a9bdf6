"""Given a flaky server (httpx.MockTransport), when the HTTP transport sends, then it waits as told."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from orchestrator.clients.retrying import RetryPolicy
from orchestrator.clients.transport import HttpTransport, safe_url
from orchestrator.errors import ExternalAgentUnavailableError, TransientError
from tests.support import FakeClock

Step = httpx.Response | Exception
URL = "http://svc.test/invoke?key=secret"


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


def transport(
    client: httpx.Client,
    clock: FakeClock,
    *,
    error_cls: type[TransientError] = TransientError,
    service: str = "upstream service",
    read_timeout_s: float = 30.0,
    **policy: float,
) -> HttpTransport:
    options: dict[str, float] = {"max_retries": 2, "budget_s": 30.0, "backoff_base_s": 0.2}
    options.update(policy)
    return HttpTransport(
        service=service,
        error_cls=error_cls,
        policy=RetryPolicy(
            max_retries=int(options["max_retries"]),
            budget_s=options["budget_s"],
            backoff_base_s=options["backoff_base_s"],
            retry_after_max_s=options.get("retry_after_max_s", 20.0),
            sleep=clock.sleep,
            clock=clock.now,
        ),
        connect_timeout_s=3.0,
        read_timeout_s=read_timeout_s,
        http_client=client,
    )


def test_retry_after_seconds_is_honoured_then_success() -> None:
    client, seen = scripted([httpx.Response(503, headers={"Retry-After": "2"}), httpx.Response(200, json={})])
    clock = FakeClock()

    response = transport(client, clock).request("POST", URL, json={})

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

    transport(client, clock).request("POST", URL, json={})

    assert len(clock.sleeps) == 1
    assert 3.0 <= clock.sleeps[0] <= 5.0


def test_without_retry_after_the_waits_are_jittered_exponential_backoff() -> None:
    client, seen = scripted([httpx.Response(502)] * 3 + [httpx.Response(200)])
    clock = FakeClock()

    response = transport(client, clock, max_retries=3, backoff_base_s=0.2).request("POST", URL, json={})

    assert response.status_code == 200
    assert len(clock.sleeps) == 3
    for n, wait in enumerate(clock.sleeps):  # full jitter: uniform in [0, base * 2**n]
        assert 0.0 <= wait <= 0.2 * 2**n
    assert len(seen) == 4


def test_exhausted_retries_raise_the_callers_error_class_without_secrets() -> None:
    client, seen = scripted([httpx.Response(503)] * 3)
    clock = FakeClock()
    agent = transport(client, clock, error_cls=ExternalAgentUnavailableError, service="external agent")

    with pytest.raises(ExternalAgentUnavailableError) as caught:
        agent.request("POST", URL, json={})

    assert len(seen) == 3
    assert caught.value.details["attempts"] == 3
    assert caught.value.details["status"] == 503
    assert "external agent" in caught.value.message
    assert "secret" not in caught.value.message and "secret" not in str(caught.value.details)
    assert "svc.test" not in caught.value.message + str(caught.value.details)  # no internal hosts
    assert caught.value.transient is True


def test_a_quoted_error_body_never_carries_the_secret() -> None:
    client, _ = scripted([httpx.Response(503, json={"error": "token tok-42 overloaded"})] * 2)
    clock = FakeClock()

    with pytest.raises(TransientError) as caught:
        transport(client, clock, max_retries=1).request("POST", URL, json={}, secret="tok-42")

    assert "overloaded" in caught.value.message
    assert "tok-42" not in caught.value.message


def test_timeouts_and_connection_errors_are_retried() -> None:
    client, seen = scripted(
        [httpx.ReadTimeout("slow"), httpx.ConnectError("refused"), httpx.Response(200, json={"ok": True})]
    )
    clock = FakeClock()

    response = transport(client, clock).request("POST", URL, json={})

    assert response.json() == {"ok": True}
    assert len(seen) == 3
    assert len(clock.sleeps) == 2


def test_client_errors_are_returned_at_once_for_the_caller() -> None:
    client, seen = scripted([httpx.Response(401, json={"error": "no"})])
    clock = FakeClock()

    response = transport(client, clock).request("POST", URL, json={})

    assert response.status_code == 401
    assert len(seen) == 1
    assert clock.sleeps == []


def test_retry_after_beyond_the_cap_gives_up_without_waiting() -> None:
    client, seen = scripted([httpx.Response(429, headers={"Retry-After": "120"})])
    clock = FakeClock()

    with pytest.raises(TransientError, match="Retry-After"):
        transport(client, clock, retry_after_max_s=20.0).request("POST", URL, json={})

    assert clock.sleeps == []
    assert len(seen) == 1


def test_a_wait_past_the_budget_is_not_started() -> None:
    client, seen = scripted([httpx.Response(503, headers={"Retry-After": "4"})] * 3)
    clock = FakeClock()

    with pytest.raises(TransientError, match="budget"):
        transport(client, clock, budget_s=6.0).request("POST", URL, json={})

    assert clock.sleeps == [4.0]  # the second 4 s wait would end at 8 s > 6 s
    assert len(seen) == 2


def test_the_callers_deadline_shortens_the_budget() -> None:
    client, seen = scripted([httpx.Response(503, headers={"Retry-After": "4"})] * 3)
    clock = FakeClock()

    with pytest.raises(TransientError, match="budget"):
        transport(client, clock, budget_s=30.0).request("POST", URL, json={}, deadline=clock.now() + 6.0)

    assert clock.sleeps == [4.0]
    assert len(seen) == 2


def test_a_deadline_already_past_sends_nothing() -> None:
    client, seen = scripted([httpx.Response(200)])
    clock = FakeClock()

    with pytest.raises(TransientError, match="no time left"):
        transport(client, clock).request("POST", URL, json={}, deadline=clock.now() - 1.0)

    assert seen == []
    assert clock.sleeps == []


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
    http = transport(client, clock, budget_s=10.0)
    http.policy = RetryPolicy(max_retries=2, budget_s=10.0, sleep=slow_sleep, clock=clock.now)

    http.request("POST", URL, json={})

    assert timeouts[0] == pytest.approx(10.0)
    assert timeouts[1] < 10.0 - 3.0


def test_safe_url_drops_query_and_userinfo() -> None:
    assert safe_url("https://user:pw@api.test:8443/v1/x?token=abc") == "https://api.test:8443/v1/x"
