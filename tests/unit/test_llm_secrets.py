"""Secrets: environment first, Secrets Manager (moto) through Powertools on AWS; never leaked."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from aws_lambda_powertools.utilities import parameters

from orchestrator.clients.llm import ChatMessage, build_llm_client
from orchestrator.clients.llm.openai import OpenAICompatibleClient
from orchestrator.clients.retrying import RetryPolicy
from orchestrator.config import Settings
from orchestrator.errors import ConfigurationError, ModelUnavailableError
from orchestrator.secrets import get_external_agent_token, get_llm_api_key, is_placeholder
from tests.support import FakeClock
from tests.support.aws import mocked_parameter_store
from tests.support.fake_openai import FakeOpenAIServer

KEY = "sk-live-SUPERSECRET-4242"


def _settings(**values: Any) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
def secretsmanager(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    with mocked_parameter_store(monkeypatch, "secretsmanager") as client:
        yield client


def test_environment_key_wins_and_placeholders_count_as_unset() -> None:
    assert get_llm_api_key(_settings(llm_api_key=KEY)) == KEY
    assert get_llm_api_key(_settings(llm_api_key="REPLACE_ME")) is None
    assert get_llm_api_key(_settings()) is None
    assert all(is_placeholder(v) for v in ["", "  ", "changeme", "<your key>", "PLEASE_REPLACE_ME"])
    assert not is_placeholder(KEY)


def test_key_comes_from_secrets_manager_on_aws(secretsmanager: Any) -> None:
    secretsmanager.create_secret(Name="orchestrator/dev/llm-api-key", SecretString=KEY)
    secretsmanager.create_secret(
        Name="orchestrator/dev/agent", SecretString=json.dumps({"token": "agent-tok-1"})
    )
    settings = _settings(
        llm_api_key_secret_id="orchestrator/dev/llm-api-key",
        external_agent_token_secret_id="orchestrator/dev/agent",
    )
    assert get_llm_api_key(settings) == KEY
    assert get_external_agent_token(settings) == "agent-tok-1"


def test_secret_is_cached_for_five_minutes(secretsmanager: Any) -> None:
    secretsmanager.create_secret(Name="k", SecretString=KEY)
    settings = _settings(llm_api_key_secret_id="k")
    assert get_llm_api_key(settings) == KEY
    secretsmanager.put_secret_value(SecretId="k", SecretString="sk-rotated-0000")
    assert get_llm_api_key(settings) == KEY  # served from the Powertools cache
    parameters.clear_caches()
    assert get_llm_api_key(settings) == "sk-rotated-0000"


def test_placeholder_secret_is_unset_and_json_secrets_are_read(secretsmanager: Any) -> None:
    secretsmanager.create_secret(Name="placeholder", SecretString="REPLACE_ME")
    secretsmanager.create_secret(Name="json", SecretString=json.dumps({"LLM_API_KEY": KEY}))
    assert get_llm_api_key(_settings(llm_api_key_secret_id="placeholder")) is None
    assert get_llm_api_key(_settings(llm_api_key_secret_id="json")) == KEY


def test_missing_secret_is_a_configuration_error(secretsmanager: Any) -> None:
    with pytest.raises(ConfigurationError, match="no-such-secret"):
        get_llm_api_key(_settings(llm_api_key_secret_id="no-such-secret"))


def test_key_never_appears_in_repr_logs_or_errors(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    settings = _settings(llm_provider="openai", llm_default_model="fake-model", llm_api_key=KEY)
    client = build_llm_client(settings)
    assert KEY not in repr(client) and KEY not in str(settings) and KEY not in repr(settings)

    clock = FakeClock()
    with FakeOpenAIServer(api_key=KEY) as server:
        server.reply_rate_limited(retry_after="0")
        server.reply_error(500, message=f"upstream echoed {KEY}")
        server.reply_text("fine")
        direct = OpenAICompatibleClient(
            base_url=server.url,
            default_model="fake-model",
            api_key=KEY,
            retry_policy=RetryPolicy(sleep=clock.sleep, clock=clock.now, max_retries=2),
        )
        assert direct.chat([ChatMessage(role="user", content="hi")]).text == "fine"
        assert server.chat_requests[0].headers["Authorization"] == f"Bearer {KEY}"  # it was sent
        server.reply_server_errors(5)
        with pytest.raises(ModelUnavailableError) as caught:
            direct.chat([ChatMessage(role="user", content="hi")])
        server.reply_error(500, message=f"upstream echoed {KEY}")
        server.reply_error(500, message=f"upstream echoed {KEY}")
        server.reply_error(500, message=f"upstream echoed {KEY}")
        with pytest.raises(ModelUnavailableError) as echoed:
            direct.chat([ChatMessage(role="user", content="hi")])

    assert "upstream echoed ***" in echoed.value.message
    assert KEY not in echoed.value.message and KEY not in str(caught.value)
    assert any("retrying" in record.getMessage() for record in caplog.records)
    logged = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert KEY not in logged
