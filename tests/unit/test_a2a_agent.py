"""Given real A2A agents on 127.0.0.1 (a2a-sdk's server), when the A2A client calls them, then
answers, questions back and failures are each clear, and a slow agent ends at the deadline."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from orchestrator.clients.a2a_agent import A2AAgentClient
from orchestrator.clients.external_agent import ExternalAgentReply, build_external_agent_client
from orchestrator.config import Settings
from orchestrator.errors import ExternalAgentError, ExternalAgentUnavailableError
from tests.support.a2a_agents import ANSWERS, FAILURE, NEEDS_INPUT, A2AAgentServer

TOKEN = "a2a-token-123"


@pytest.fixture(scope="module")
def agents() -> Iterator[A2AAgentServer]:
    with A2AAgentServer(slow_s=3.0) as server:
        yield server


def client(url: str, **options: object) -> A2AAgentClient:
    defaults: dict[str, object] = {"timeout_s": 5.0, "max_retries": 1, "sleep": lambda _s: None}
    return A2AAgentClient(url, name="analytics", **{**defaults, **options})  # type: ignore[arg-type]


def ask(
    agent: A2AAgentClient, prompt: str = "What was churn by cohort?", **kwargs: object
) -> ExternalAgentReply:
    return agent.run(prompt, user_id="u1", session_id="s1", run_id="r-1", **kwargs)  # type: ignore[arg-type]


def test_reads_the_agent_card_from_the_well_known_path(agents: A2AAgentServer) -> None:
    card = client(agents.url("answer")).card()

    assert card.name == "answer-agent"
    assert [i.protocol_version for i in card.supported_interfaces] == ["0.3"]


def test_completed_task_answers_with_its_artifact_text_over_message_send(agents: A2AAgentServer) -> None:
    before = len(agents.methods)

    reply = ask(client(agents.url("answer"), token_provider=lambda: TOKEN))

    assert reply.text == ANSWERS["churn"]
    assert reply.agent == "answer-agent"
    assert reply.data["a2a"]["state"] == "completed"
    assert reply.data["a2a"]["context_id"] == "s1"
    assert agents.methods[before:] == ["message/send"]
    assert agents.authorizations[-1] == f"Bearer {TOKEN}"
    assert agents.prompts[-1] == "What was churn by cohort?"


def test_the_card_is_read_once_per_ttl(agents: A2AAgentServer) -> None:
    now = [0.0]
    agent = client(agents.url("answer"), clock=lambda: now[0], card_ttl_s=60.0)
    first = agent.card()

    assert agent.card() is first
    now[0] = 61.0
    assert agent.card() is not first


def test_input_required_is_a_clear_answer_not_an_error(agents: A2AAgentServer) -> None:
    reply = ask(client(agents.url("needs_input")))

    assert reply.text == f"The agent 'needs_input-agent' needs more input to continue: {NEEDS_INPUT}"
    assert reply.data["a2a"]["state"] == "input-required"
    assert reply.data["a2a"]["task_id"]


def test_failed_task_is_a_typed_error_with_the_agents_reason(agents: A2AAgentServer) -> None:
    with pytest.raises(ExternalAgentError) as caught:
        ask(client(agents.url("fails")))

    assert FAILURE in caught.value.message
    assert caught.value.details["state"] == "failed"
    assert caught.value.code == "external_agent_error"


def test_slow_agent_ends_at_the_deadline_as_unavailable(agents: A2AAgentServer) -> None:
    started = time.monotonic()

    with pytest.raises(ExternalAgentUnavailableError) as caught:
        ask(client(agents.url("slow"), timeout_s=10.0, max_retries=3), deadline=time.monotonic() + 1.0)

    elapsed = time.monotonic() - started
    assert 0.9 <= elapsed < 2.0
    assert "timed out" in caught.value.message


def test_a_slow_attempt_is_cut_by_the_read_timeout_and_retried(agents: A2AAgentServer) -> None:
    before = len(agents.methods)

    with pytest.raises(ExternalAgentUnavailableError) as caught:
        ask(client(agents.url("slow"), timeout_s=0.4, max_retries=1))

    assert caught.value.details["attempts"] == 2
    assert agents.methods[before:] == ["message/send", "message/send"]


def test_no_card_is_a_typed_error_not_retried(agents: A2AAgentServer) -> None:
    with pytest.raises(ExternalAgentError, match="agent card"):
        ask(client(agents.url("nobody-here")))


def test_unreachable_agent_is_unavailable() -> None:
    with pytest.raises(ExternalAgentUnavailableError, match="connection failed"):
        ask(client("http://127.0.0.1:9", timeout_s=0.5))


def test_a1_0_agent_gets_send_message() -> None:
    with A2AAgentServer(protocol_version="1.0") as server:
        reply = ask(client(server.url("answer")), "Is invoice INV-1042 paid?")

        assert reply.text == ANSWERS["invoice"]
        assert server.methods == ["SendMessage"]


def test_health_reads_the_card_and_never_raises(agents: A2AAgentServer) -> None:
    assert client(agents.url("answer")).health().ok
    down = client("http://127.0.0.1:9").health()
    assert not down.ok and down.error


def test_protocol_setting_picks_the_a2a_client(agents: A2AAgentServer) -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        external_agent_base_url=agents.url("answer"),
        external_agent_protocol="a2a",
        external_agent_auth_token=SecretStr(TOKEN),
    )

    agent = build_external_agent_client(settings)

    assert isinstance(agent, A2AAgentClient)
    assert ask(agent).text == ANSWERS["churn"]
    assert agents.authorizations[-1] == f"Bearer {TOKEN}"


def test_http_remains_the_default_protocol() -> None:
    settings = Settings(_env_file=None, external_agent_base_url="http://127.0.0.1:9")  # type: ignore[call-arg]

    assert not isinstance(build_external_agent_client(settings), A2AAgentClient)
