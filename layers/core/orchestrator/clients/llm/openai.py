"""Any OpenAI-compatible chat endpoint over httpx: OpenAI, vLLM, Ollama, llama.cpp server, LiteLLM.

``LLM_BASE_URL`` includes the version prefix (``https://api.openai.com/v1``,
``http://localhost:11434/v1``); requests go to ``{base}/chat/completions`` and ``{base}/models``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from orchestrator.clients.llm.base import ChatMessage, ChatResult, ModelInfo, TokenUsage, ToolChoice, ToolSpec
from orchestrator.clients.llm.pricing import estimate_tokens
from orchestrator.clients.llm.remote import RemoteLLMClient
from orchestrator.clients.openai_api import DEFAULT_BASE_URL, OpenAIEndpoint
from orchestrator.clients.retrying import RetryPolicy
from orchestrator.errors import ModelResponseError
from orchestrator.state import ToolCall

if TYPE_CHECKING:
    import httpx

    from orchestrator.config import Settings

__all__ = ["DEFAULT_BASE_URL", "OpenAICompatibleClient", "parse_completion", "to_wire_message"]


def to_wire_message(message: ChatMessage) -> dict[str, Any]:
    """One message in the chat-completions format."""
    if message.role == "tool":
        return {"role": "tool", "tool_call_id": message.tool_call_id or "", "content": message.content}
    wire: dict[str, Any] = {"role": message.role, "content": message.content}
    if message.role == "assistant" and message.tool_calls:
        wire["content"] = message.content or None
        wire["tool_calls"] = [
            {
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": json.dumps(call.arguments)},
            }
            for call in message.tool_calls
        ]
    return wire


def to_wire_tool(tool: ToolSpec) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {"name": tool.name, "description": tool.description, "parameters": tool.parameters},
    }


def to_wire_response_format(schema: dict[str, Any]) -> dict[str, Any]:
    """A bare JSON schema becomes ``json_schema``; an already wrapped format passes through."""
    if schema.get("type") in ("json_schema", "json_object", "text") and "properties" not in schema:
        return schema
    name = str(schema.get("title") or "response").replace(" ", "_")[:64]
    return {"type": "json_schema", "json_schema": {"name": name, "schema": schema}}


def _parse_arguments(raw: Any, name: str) -> dict[str, Any]:
    if isinstance(raw, dict):
        return raw  # some servers (older Ollama) send an object instead of a JSON string
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return {}
    try:
        arguments = json.loads(raw)
    except (TypeError, ValueError):
        raise ModelResponseError(
            f"The model called tool '{name}' with arguments that are not valid JSON",
            details={"tool": name},
        ) from None
    if not isinstance(arguments, dict):
        raise ModelResponseError(
            f"The model called tool '{name}' with arguments that are not a JSON object",
            details={"tool": name},
        )
    return arguments


def parse_completion(body: Any, *, model: str, provider: str, prompt_chars: int) -> ChatResult:
    """A ChatResult from a chat-completions body; missing usage is estimated (~4 chars a token).

    A body of the wrong shape anywhere (a list for the message, text for the token counts) is a
    :class:`ModelResponseError`, like a body without choices.
    """
    try:
        return _completion(body, model=model, provider=provider, prompt_chars=prompt_chars)
    except (AttributeError, KeyError, IndexError, TypeError, ValueError):
        raise ModelResponseError(
            f"The {provider} endpoint returned a malformed reply", details={"provider": provider}
        ) from None


def _completion(body: Any, *, model: str, provider: str, prompt_chars: int) -> ChatResult:
    try:
        choice = body["choices"][0]
        message = choice["message"]
    except (KeyError, IndexError, TypeError):
        raise ModelResponseError(
            f"The {provider} endpoint returned a reply without choices", details={"provider": provider}
        ) from None
    content = message.get("content") or ""
    if isinstance(content, list):  # content parts, as some servers send
        content = "".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    text = str(content)
    calls: list[ToolCall] = []
    for index, raw in enumerate(message.get("tool_calls") or []):
        function = raw.get("function") or {}
        name = str(function.get("name") or "")
        if not name:
            raise ModelResponseError("The model asked for a tool call without a tool name")
        call_id = str(raw.get("id") or f"call_{index}")
        calls.append(
            ToolCall(id=call_id, name=name, arguments=_parse_arguments(function.get("arguments"), name))
        )
    usage = body.get("usage") or {}
    tokens_in = usage.get("prompt_tokens")
    tokens_out = usage.get("completion_tokens")
    return ChatResult(
        text=text,
        tool_calls=calls,
        usage=TokenUsage(
            tokens_in=int(tokens_in) if tokens_in is not None else -(-prompt_chars // 4),
            tokens_out=int(tokens_out) if tokens_out is not None else estimate_tokens(text),
        ),
        # The id we asked for, not the server's dated alias, so price-table keys match.
        model=model,
        provider=provider,
        finish_reason=choice.get("finish_reason"),
    )


class OpenAICompatibleClient(RemoteLLMClient):
    provider = "openai"

    def __init__(
        self,
        *,
        base_url: str = DEFAULT_BASE_URL,
        default_model: str,
        api_key: Callable[[], str | None] | str | None = None,
        fallback_model: str | None = None,
        max_tokens: int = 1024,
        temperature: float = 0.2,
        connect_timeout_s: float = 3.0,
        read_timeout_s: float = 20.0,
        retry_policy: RetryPolicy | None = None,
        http_client: httpx.Client | None = None,
    ) -> None:
        self.retry_policy = retry_policy or RetryPolicy()
        self._endpoint = OpenAIEndpoint(
            base_url,
            api_key=api_key,
            connect_timeout_s=connect_timeout_s,
            read_timeout_s=read_timeout_s,
            provider=self.provider,
            policy=self.retry_policy,
            http_client=http_client,
        )
        self.base_url = self._endpoint.base_url
        self.default_model = default_model
        self.fallback_model = fallback_model
        self.max_tokens = max_tokens
        self.temperature = temperature

    @classmethod
    def from_settings(cls, settings: Settings) -> OpenAICompatibleClient:
        from orchestrator.secrets import get_llm_api_key

        return cls(
            base_url=settings.llm_base_url or DEFAULT_BASE_URL,
            default_model=settings.llm_default_model,
            api_key=lambda: get_llm_api_key(settings),
            fallback_model=settings.llm_fallback_model,
            max_tokens=settings.llm_max_tokens,
            temperature=settings.llm_temperature,
            connect_timeout_s=settings.llm_connect_timeout_s,
            read_timeout_s=settings.llm_read_timeout_s,
            retry_policy=RetryPolicy.for_models(settings),
        )

    def __repr__(self) -> str:
        return f"OpenAICompatibleClient(base_url={self.base_url!r}, default_model={self.default_model!r})"

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
        payload = self._payload(
            messages,
            tools=tools,
            response_format=response_format,
            tool_choice=tool_choice,
            max_tokens=max_tokens,
            temperature=temperature,
        )
        prompt_chars = sum(len(m.content) for m in messages)

        def call(model_id: str, end: float) -> ChatResult:
            reply = self._endpoint.request(
                "POST", "/chat/completions", model=model_id, body={**payload, "model": model_id}, deadline=end
            )
            result = parse_completion(
                reply.body, model=model_id, provider=self.provider, prompt_chars=prompt_chars
            )
            result.latency_ms = reply.latency_ms
            return result

        return self._chat_with_fallback(call, model, deadline)

    def _payload(
        self,
        messages: list[ChatMessage],
        *,
        tools: list[ToolSpec] | None = None,
        response_format: dict[str, Any] | None = None,
        tool_choice: ToolChoice = "auto",
        max_tokens: int | None = None,
        temperature: float | None = None,
    ) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "messages": [to_wire_message(m) for m in messages],
            "max_tokens": max_tokens or self.max_tokens,
            "temperature": self.temperature if temperature is None else temperature,
        }
        if tools:
            payload["tools"] = [to_wire_tool(t) for t in tools]
            payload["tool_choice"] = tool_choice
        if response_format:
            payload["response_format"] = to_wire_response_format(response_format)
        return payload

    def stream_chat(
        self,
        messages: list[ChatMessage],
        *,
        tools: list[ToolSpec] | None = None,
        model: str | None = None,
        deadline: float | None = None,
        **options: Any,
    ) -> Iterator[str | ChatResult]:
        """:meth:`chat` with ``"stream": true``: text deltas as the server sends them, then the result.

        Opening the stream is retried, then tried on the fallback model, as a chat is; a stream
        that breaks after it began is not retried (its text has already been passed on).
        """
        from orchestrator.clients.llm.openai_stream import read_stream

        payload = self._payload(messages, tools=tools, **options)
        payload |= {"stream": True, "stream_options": {"include_usage": True}}
        opened: list[tuple[str, httpx.Response]] = []

        def open_on(model_id: str, end: float) -> ChatResult:
            body = {**payload, "model": model_id}
            opened.append(
                (
                    model_id,
                    self._endpoint.open_stream("/chat/completions", model=model_id, body=body, deadline=end),
                )
            )
            return ChatResult(model=model_id, provider=self.provider)  # the reply is read below

        self._chat_with_fallback(open_on, model, deadline)
        model_id, response = opened[-1]
        prompt_chars = sum(len(m.content) for m in messages)
        yield from read_stream(response, model=model_id, provider=self.provider, prompt_chars=prompt_chars)

    def list_models(self) -> list[ModelInfo]:
        body = self._endpoint.request("GET", "/models", model=self.default_model).body
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, list):
            raise ModelResponseError(f"The {self.provider} endpoint's /models reply has no 'data' list")
        return [
            ModelInfo(id=str(item["id"]), provider=self.provider, owned_by=item.get("owned_by"))
            for item in data
            if isinstance(item, dict) and item.get("id")
        ]
