"""Amazon Bedrock through the Converse API (one request shape for every model family).

The request and reply mapping lives in :mod:`orchestrator.clients.llm.converse`; the boto3
clients and the sorting of botocore's errors in :mod:`orchestrator.clients.bedrock_runtime`.
Botocore's own retries are off so tenacity's (backoff, deadline, fallback model) are the only
ones in play. The boto3 clients are injectable, which is how the tests use botocore's Stubber
(moto does not implement Converse).

Botocore fixes the read timeout per client, so an attempt is bounded by ``read_timeout_s``
(``LLM_READ_TIMEOUT_S``), not by what is left of the deadline; the deadline stops the retries.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from orchestrator.caching import Lazy
from orchestrator.clients.bedrock_runtime import bedrock_client, bedrock_failure
from orchestrator.clients.llm.base import ChatMessage, ChatResult, ModelInfo, ToolChoice, ToolSpec
from orchestrator.clients.llm.converse import converse_request, parse_converse, strip_json_fence
from orchestrator.clients.llm.remote import RemoteLLMClient
from orchestrator.clients.retrying import RetryPolicy, call_with_retries

if TYPE_CHECKING:
    from mypy_boto3_bedrock import BedrockClient as BedrockControlClient
    from mypy_boto3_bedrock_runtime import BedrockRuntimeClient

    from orchestrator.config import Settings


class BedrockClient(RemoteLLMClient):
    provider = "bedrock"

    def __init__(
        self,
        *,
        default_model: str,
        region: str = "us-east-1",
        runtime_client: BedrockRuntimeClient | None = None,
        control_client: BedrockControlClient | None = None,
        fallback_model: str | None = None,
        max_tokens: int = 1024,
        temperature: float = 0.2,
        connect_timeout_s: float = 3.0,
        read_timeout_s: float = 20.0,
        retry_policy: RetryPolicy | None = None,
    ) -> None:
        self.default_model = default_model
        self.region = region
        self.fallback_model = fallback_model
        self.max_tokens = max_tokens
        self.temperature = temperature
        self.retry_policy = retry_policy or RetryPolicy()
        options: dict[str, Any] = {
            "region": region,
            "connect_timeout_s": connect_timeout_s,
            "read_timeout_s": read_timeout_s,
        }
        self._runtime: Lazy[BedrockRuntimeClient] = Lazy(
            lambda: bedrock_client("bedrock-runtime", **options), runtime_client
        )
        self._control: Lazy[BedrockControlClient] = Lazy(
            lambda: bedrock_client("bedrock", **options), control_client
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> BedrockClient:
        return cls(
            default_model=settings.llm_default_model,
            region=settings.aws_region,
            fallback_model=settings.llm_fallback_model,
            max_tokens=settings.llm_max_tokens,
            temperature=settings.llm_temperature,
            connect_timeout_s=settings.llm_connect_timeout_s,
            read_timeout_s=settings.llm_read_timeout_s,
            retry_policy=RetryPolicy.for_models(settings),
        )

    def __repr__(self) -> str:
        return f"BedrockClient(region={self.region!r}, default_model={self.default_model!r})"

    def runtime(self) -> BedrockRuntimeClient:
        return self._runtime.get()

    def control(self) -> BedrockControlClient:
        return self._control.get()

    def chat(
        self,
        messages: list[ChatMessage],
        *,
        tools: list[ToolSpec] | None = None,
        response_format: dict[str, Any] | None = None,
        model: str | None = None,
        deadline: float | None = None,
        tool_choice: ToolChoice = "auto",
        max_tokens: int | None = None,
        temperature: float | None = None,
    ) -> ChatResult:
        request = converse_request(
            messages,
            tools=tools,
            response_format=response_format,
            tool_choice=tool_choice,
            max_tokens=max_tokens or self.max_tokens,
            temperature=self.temperature if temperature is None else temperature,
        )

        def attempt(model_id: str) -> ChatResult:
            started = time.perf_counter()
            try:
                response = self.runtime().converse(modelId=model_id, **request)
            except Exception as error:
                raise bedrock_failure(error, provider=self.provider) from None
            result = parse_converse(dict(response), model=model_id, provider=self.provider)
            if response_format:
                result.text = strip_json_fence(result.text)
            result.latency_ms = round((time.perf_counter() - started) * 1000, 2)
            return result

        def call(model_id: str, end: float) -> ChatResult:
            return call_with_retries(
                lambda _remaining_s: attempt(model_id),
                policy=self.retry_policy,
                give_up=self.model_unavailable(model_id),
                deadline=end,
                log_extra={"provider": self.provider, "model": model_id},
            )

        return self._chat_with_fallback(call, model, deadline)

    def stream_chat(
        self,
        messages: list[ChatMessage],
        *,
        tools: list[ToolSpec] | None = None,
        model: str | None = None,
        deadline: float | None = None,
        **options: Any,
    ) -> Iterator[str | ChatResult]:
        """:meth:`chat` through ``ConverseStream``: text deltas as they arrive, then the result.

        Opening the stream is retried, then tried on the fallback model; a stream that breaks
        after it began is not retried (its text has already been passed on).
        """
        from orchestrator.clients.llm.converse_stream import read_converse_stream

        response_format = options.get("response_format")
        temperature = options.get("temperature")
        request = converse_request(
            messages,
            tools=tools,
            response_format=response_format,
            tool_choice=options.get("tool_choice", "auto"),
            max_tokens=options.get("max_tokens") or self.max_tokens,
            temperature=self.temperature if temperature is None else temperature,
        )
        opened: list[tuple[str, Any]] = []

        def attempt(model_id: str) -> ChatResult:
            try:
                response = self.runtime().converse_stream(modelId=model_id, **request)
            except Exception as error:
                raise bedrock_failure(error, provider=self.provider) from None
            opened.append((model_id, response["stream"]))
            return ChatResult(model=model_id, provider=self.provider)  # the events are read below

        def call(model_id: str, end: float) -> ChatResult:
            return call_with_retries(
                lambda _remaining_s: attempt(model_id),
                policy=self.retry_policy,
                give_up=self.model_unavailable(model_id),
                deadline=end,
                log_extra={"provider": self.provider, "model": model_id},
            )

        self._chat_with_fallback(call, model, deadline)
        model_id, events = opened[-1]
        started = time.perf_counter()
        for piece in read_converse_stream(
            events, model=model_id, provider=self.provider, json_reply=bool(response_format)
        ):
            if isinstance(piece, ChatResult):
                piece.latency_ms = round((time.perf_counter() - started) * 1000, 2)
            yield piece

    def list_models(self) -> list[ModelInfo]:
        def attempt(_remaining_s: float) -> list[ModelInfo]:
            try:
                response = self.control().list_foundation_models(byOutputModality="TEXT")
            except Exception as error:
                raise bedrock_failure(error, provider=self.provider) from None
            return [
                ModelInfo(id=summary["modelId"], provider=self.provider, owned_by=summary.get("providerName"))
                for summary in response.get("modelSummaries", [])
                if "TEXT" in summary.get("outputModalities", ["TEXT"])
            ]

        return call_with_retries(
            attempt, policy=self.retry_policy, give_up=self.model_unavailable(self.default_model)
        )
