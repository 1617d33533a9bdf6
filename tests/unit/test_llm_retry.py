"""Model calls: the policy read from the settings, the fallback model, one deadline for both.

The retry mechanics themselves (backoff, Retry-After, budget) are tested in test_retrying.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from orchestrator.clients.llm.base import ChatMessage, ChatResult, ModelInfo, ToolSpec
from orchestrator.clients.llm.remote import RemoteLLMClient
from orchestrator.clients.retrying import RetryPolicy, TransientFailure, call_with_retries
from orchestrator.config import Settings
from orchestrator.errors import ModelUnavailableError
from tests.support import FakeClock


class ScriptedRemote(RemoteLLMClient):
    """A remote client whose one attempt is ``answer(model)``: raise to fail, return text to answer."""

    provider = "p"

    def __init__(self, clock: FakeClock, *, fallback_model: str | None, max_retries: int = 1) -> None:
        self.default_model = "primary"
        self.fallback_model = fallback_model
        self.retry_policy = RetryPolicy(
            max_retries=max_retries, budget_s=30.0, sleep=clock.sleep, clock=clock.now
        )
        self.asked: list[tuple[str, float]] = []
        self.down: set[str] = {"primary"}

    def chat(
        self,
        messages: list[ChatMessage],
        *,
        tools: list[ToolSpec] | None = None,
        response_format: dict[str, Any] | None = None,
        model: str | None = None,
        deadline: float | None = None,
    ) -> ChatResult:
        def call(model_id: str, end: float) -> ChatResult:
            def attempt(remaining_s: float) -> ChatResult:
                self.asked.append((model_id, remaining_s))
                if model_id in self.down:
                    raise TransientFailure(f"{model_id} down")
                return ChatResult(text=f"answered by {model_id}", model=model_id, provider=self.provider)

            return call_with_retries(
                attempt, policy=self.retry_policy, give_up=self.model_unavailable(model_id), deadline=end
            )

        return self._chat_with_fallback(call, model, deadline)

    def list_models(self) -> list[ModelInfo]:
        return []


def test_the_model_policy_comes_from_the_settings() -> None:
    settings = Settings(
        _env_file=None,
        llm_max_retries=1,
        llm_retry_budget_s=12.0,
        llm_backoff_base_s=0.25,
        llm_backoff_max_s=2.0,
        llm_retry_after_max_s=3.0,
    )
    policy = RetryPolicy.for_models(settings)
    assert (policy.max_retries, policy.budget_s, policy.backoff_base_s) == (1, 12.0, 0.25)
    assert (policy.backoff_max_s, policy.retry_after_max_s) == (2.0, 3.0)


def test_exhausted_retries_name_provider_and_model() -> None:
    client = ScriptedRemote(FakeClock(), fallback_model=None, max_retries=2)
    with pytest.raises(ModelUnavailableError) as caught:
        client.chat([])
    assert caught.value.code == "model_unavailable"
    assert "The p model 'primary' is unavailable after 3 attempt(s)" in caught.value.message
    assert "primary down" in caught.value.message
    assert caught.value.details["attempts"] == 3


def test_fallback_model_answers_when_the_primary_stays_down() -> None:
    client = ScriptedRemote(FakeClock(), fallback_model="backup")
    result = client.chat([])
    assert result.text == "answered by backup"
    assert [model for model, _ in client.asked] == ["primary", "primary", "backup"]


def test_fallback_failure_reports_both_models() -> None:
    client = ScriptedRemote(FakeClock(), fallback_model="backup", max_retries=0)
    client.down.add("backup")
    with pytest.raises(ModelUnavailableError) as caught:
        client.chat([])
    assert "primary down" in caught.value.message and "backup down" in caught.value.message
    assert caught.value.details["fallback_model"] == "backup"


def test_primary_and_fallback_share_one_deadline() -> None:
    clock = FakeClock()
    client = ScriptedRemote(clock, fallback_model="backup")

    client.chat([], deadline=clock.now() + 10.0)

    (_, first), (_, second), (_, fallback) = client.asked
    assert first == pytest.approx(10.0)
    assert fallback == pytest.approx(10.0 - sum(clock.sleeps))  # what the primary's waits left
    assert second == pytest.approx(fallback)
