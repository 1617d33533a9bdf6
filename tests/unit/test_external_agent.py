"""Given a real HTTP agent on 127.0.0.1, when the client calls it, then replies and failures are typed."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from orchestrator.clients.external_agent import (
    ExternalAgentClient,
    ExternalAgentReply,
    build_external_agent_client,
)
from orchestrator.config import Settings
from orchestrator.errors import ExternalAgentError, ExternalAgentUnavailableError
from tests.support import FakeClock
from tests.support.fake_agent import HEALTH, INVOKE, FakeAgentServer

TOKEN = "agent-token-123"


@pytest.fixture
def agent() -> Iterator[FakeAgentServer]:
    with FakeAgentServer(reply_text="Churn was 4.2% last quarter.") as server:
        yield server


def make_client(
    agent: FakeAgentServer, clock: FakeClock | None = None, **kwargs: object
) -> ExternalAgentClient:
    options: dict[str, object] = {"auth_token": SecretStr(TOKEN), "timeout_s": 2.0, "max_retries": 2}
    options.update(kwargs)
    return ExternalAgentClient(agent.base_url, sleep=(clock or FakeClock()).sleep, **options)  # type: ignore[arg-type]


def run(client: ExternalAgentClient) -> ExternalAgentReply:
    return client.run(
        "churn by cohort?", user_id="u1", session_id="s1", metadata={"team": "growth"}, run_id="r-1"
    )


def test_happy_path_sends_the_protocol_and_parses_the_reply(agent: FakeAgentServer) -> None:
    agent.reply_data = {"rows": [1, 2]}

    reply = make_client(agent).run(
        "churn by cohort?", user_id="u1", session_id="s1", metadata={"team": "growth"}, run_id="r-1"
    )

    assert reply.text == "Churn was 4.2% last quarter."
    assert reply.data == {"rows": [1, 2]}
    assert reply.agent == "fake-analytics-agent"
    assert reply.latency_ms > 0
    [sent] = agent.requests
    assert (sent["method"], sent["path"]) == ("POST", INVOKE)
    assert sent["json"] == {
        "input": "churn by cohort?",
        "user_id": "u1",
        "session_id": "s1",
        "run_id": "r-1",
        "metadata": {"team": "growth"},
    }
    assert sent["headers"]["x-request-id"] == "r-1"


def test_bearer_token_is_sent_only_when_configured(agent: FakeAgentServer) -> None:
    run(make_client(agent))
    run(make_client(agent, auth_token=None))

    assert agent.requests[0]["headers"]["authorization"] == f"Bearer {TOKEN}"
    assert "authorization" not in agent.requests[1]["headers"]


def test_token_provider_is_read_per_call_so_rotation_is_picked_up(agent: FakeAgentServer) -> None:
    tokens = iter(["old-token", "new-token"])
    client = make_client(agent, auth_token=None, token_provider=lambda: next(tokens))

    run(client)
    run(client)

    assert [r["headers"]["authorization"] for r in agent.requests] == ["Bearer old-token", "Bearer new-token"]


def test_503_twice_then_success_retries_with_backoff(agent: FakeAgentServer) -> None:
    agent.fail_next(status=503, times=2)
    clock = FakeClock()

    reply = run(make_client(agent, clock))

    assert reply.text == "Churn was 4.2% last quarter."
    assert len(agent.requests_to(INVOKE)) == 3
    assert len(clock.sleeps) == 2
    assert all(r["headers"]["x-request-id"] == "r-1" for r in agent.requests)  # same idempotency key


def test_exhausted_retries_raise_unavailable(agent: FakeAgentServer) -> None:
    agent.fail_next(status=503, times=3, retry_after="1")
    clock = FakeClock()

    with pytest.raises(ExternalAgentUnavailableError) as caught:
        run(make_client(agent, clock))

    assert len(agent.requests) == 3
    assert clock.sleeps == [1.0, 1.0]
    assert caught.value.code == "external_agent_unavailable"
    assert caught.value.status_code == 503
    assert caught.value.transient is True


def test_client_error_is_not_retried_and_carries_the_body_message(agent: FakeAgentServer) -> None:
    agent.fail_next(status=401, message=f"token {TOKEN} is not valid for this tenant" + "!" * 1000)

    with pytest.raises(ExternalAgentError) as caught:
        run(make_client(agent))

    assert len(agent.requests) == 1
    message = caught.value.message
    assert "HTTP 401" in message and "EXTERNAL_AGENT_AUTH_TOKEN" in message
    assert "is not valid for this tenant" in message
    assert TOKEN not in message  # an echoed token is redacted
    assert len(message) < 500  # the body is truncated
    assert caught.value.status_code == 502
    assert not isinstance(caught.value, ExternalAgentUnavailableError)


def test_a_hanging_agent_times_out_and_is_unavailable(agent: FakeAgentServer) -> None:
    agent.hang_next(5.0, times=2)
    client = make_client(agent, timeout_s=0.2, max_retries=1, budget_s=5.0)
    started = time.perf_counter()

    with pytest.raises(ExternalAgentUnavailableError, match="timed out"):
        run(client)

    assert time.perf_counter() - started < 2.0
    assert len(agent.requests) == 2


def test_one_timeout_then_success(agent: FakeAgentServer) -> None:
    agent.hang_next(5.0)

    reply = run(make_client(agent, timeout_s=0.2, max_retries=1, budget_s=5.0))

    assert reply.text == "Churn was 4.2% last quarter."
    assert len(agent.requests) == 2


def test_a_slow_agent_ends_as_unavailable_by_the_callers_deadline(agent: FakeAgentServer) -> None:
    # Given an agent slower than the time the caller (a node Lambda) has left
    agent.hang_next(3.0)
    client = make_client(agent, timeout_s=10.0, budget_s=20.0)
    started = time.monotonic()

    # When the caller has 1 s left
    with pytest.raises(ExternalAgentUnavailableError, match="timed out") as caught:
        client.run("q", user_id="u1", session_id="s1", run_id="r-1", deadline=started + 1.0)

    # Then the call ends with the typed error by then, never as the caller's own timeout
    assert 0.9 <= time.monotonic() - started < 1.5
    assert caught.value.details["attempts"] == 1


@pytest.mark.parametrize(
    ("script", "match"),
    [
        ("malformed", "not JSON"),
        ({"result": "no output key"}, "'output'"),
        ({"output": 42}, "'output'"),
        ({"output": "ok", "data": [1, 2]}, "'data'"),
    ],
)
def test_malformed_replies_are_agent_errors(agent: FakeAgentServer, script: object, match: str) -> None:
    if script == "malformed":
        agent.malformed_next()
    else:
        agent.reply_next(script)

    with pytest.raises(ExternalAgentError, match=match):
        run(make_client(agent))

    assert len(agent.requests) == 1


def test_health_reports_reachability_and_never_raises(agent: FakeAgentServer) -> None:
    client = make_client(agent)

    healthy = client.health()
    agent.health_status = 503
    sick = client.health()
    unreachable = ExternalAgentClient("http://127.0.0.1:9", timeout_s=0.5).health()

    assert healthy.ok is True and healthy.status_code == 200 and healthy.latency_ms > 0
    assert sick.ok is False and sick.status_code == 503
    assert unreachable.ok is False and unreachable.error
    assert [r["path"] for r in agent.requests] == [HEALTH, HEALTH]


def test_factory_is_none_when_unconfigured_and_uses_the_settings_token(agent: FakeAgentServer) -> None:
    assert build_external_agent_client(Settings(_env_file=None, external_agent_base_url=None)) is None

    settings = Settings(
        _env_file=None,
        external_agent_base_url=agent.base_url + "/",
        external_agent_auth_token=SecretStr("tok-9"),
    )
    client = build_external_agent_client(settings)
    assert client is not None
    run(client)

    assert agent.requests[0]["path"] == INVOKE
    assert agent.requests[0]["headers"]["authorization"] == "Bearer tok-9"
    client.close()
