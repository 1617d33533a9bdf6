"""Amazon Bedrock through the Converse API (one request shape for every model family).

Botocore's own retries are switched off so the shared retry policy (backoff, budget, fallback
model) is the only one in play. The boto3 clients are injectable, which is how the tests use
botocore's Stubber (moto does not implement Converse).
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from orchestrator.caching import Lazy
from orchestrator.clients.llm.base import ChatMessage, ChatResult, ModelInfo, TokenUsage, ToolSpec
from orchestrator.clients.llm.remote import RemoteLLMClient
from orchestrator.clients.llm.retry import RetryableFailure, RetryPolicy
from orchestrator.errors import ModelResponseError
from orchestrator.state import ToolCall

if TYPE_CHECKING:
    from mypy_boto3_bedrock import BedrockClient as BedrockControlClient
    from mypy_boto3_bedrock_runtime import BedrockRuntimeClient

    from orchestrator.config import Settings

_RETRYABLE_CODES = frozenset(
    {
        "ThrottlingException",
        "TooManyRequestsException",
        "ServiceUnavailableException",
        "InternalServerException",
        "ModelNotReadyException",
        "ModelTimeoutException",
        "RequestTimeout",
    }
)
_FENCE = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.DOTALL)


def boto_config(connect_timeout_s: float, read_timeout_s: float) -> Any:
    from botocore.config import Config

    return Config(
        connect_timeout=connect_timeout_s,
        read_timeout=read_timeout_s,
        retries={"total_max_attempts": 1, "mode": "standard"},
    )


def boto_client(service: str, *, region: str, connect_timeout_s: float, read_timeout_s: float) -> Any:
    """A boto3 client for ``service`` with botocore's retries off (imported only when first used)."""
    import boto3

    config = boto_config(connect_timeout_s, read_timeout_s)
    # The stubs type clients per literal service name; callers annotate the client they get.
    return boto3.client(service, region_name=region, config=config)  # type: ignore[call-overload]


def translate_boto_error(error: Exception, *, provider: str) -> Exception:
    """The retry policy's view of a botocore failure: retryable, or a response error."""
    from botocore.exceptions import ClientError, ConnectionError, HTTPClientError

    if isinstance(error, ClientError):
        code = str(error.response.get("Error", {}).get("Code", "Unknown"))
        status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        message = str(error.response.get("Error", {}).get("Message", ""))[:300]
        if code in _RETRYABLE_CODES or status == 429 or status >= 500:
            return RetryableFailure(f"{code}: {message}" if message else code)
        return ModelResponseError(
            f"Bedrock rejected the request ({code}): {message}",
            details={"provider": provider, "code": code, "status": status},
        )
    if isinstance(error, ConnectionError | HTTPClientError):
        return RetryableFailure(f"{type(error).__name__} talking to Bedrock")
    return ModelResponseError(f"Bedrock call failed: {type(error).__name__}", details={"provider": provider})


def _append(messages: list[dict[str, Any]], role: str, blocks: list[dict[str, Any]]) -> None:
    if not blocks:
        return
    # Converse wants user and assistant turns to alternate: merge neighbours of the same role.
    if messages and messages[-1]["role"] == role:
        messages[-1]["content"].extend(blocks)
    else:
        messages.append({"role": role, "content": blocks})


def to_converse(
    messages: list[ChatMessage], *, with_tools: bool
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(system blocks, messages) for Converse.

    Without a toolConfig, Converse rejects toolUse/toolResult blocks, so when no tools are
    offered (the loop's forced final answer) earlier tool turns are written out as text.
    """
    system: list[dict[str, Any]] = []
    out: list[dict[str, Any]] = []
    for message in messages:
        text_block: list[dict[str, Any]] = [{"text": message.content}] if message.content.strip() else []
        if message.role == "system":
            system.extend(text_block)
        elif message.role == "user":
            _append(out, "user", text_block)
        elif message.role == "assistant":
            blocks = list(text_block)
            for call in message.tool_calls:
                if with_tools:
                    blocks.append(
                        {"toolUse": {"toolUseId": call.id, "name": call.name, "input": call.arguments}}
                    )
                else:
                    blocks.append({"text": f"[called tool {call.name} with {json.dumps(call.arguments)}]"})
            _append(out, "assistant", blocks)
        elif with_tools:
            result = {"toolUseId": message.tool_call_id or "", "content": [{"text": message.content or "{}"}]}
            _append(out, "user", [{"toolResult": result}])
        else:
            _append(
                out, "user", [{"text": f"[result of tool call {message.tool_call_id}: {message.content}]"}]
            )
    if out and out[0]["role"] != "user":
        out.insert(0, {"role": "user", "content": [{"text": "(earlier conversation follows)"}]})
    return system, out


def parse_converse(response: dict[str, Any], *, model: str, provider: str) -> ChatResult:
    try:
        blocks = response["output"]["message"]["content"]
    except (KeyError, TypeError):
        raise ModelResponseError(
            "Bedrock returned a reply without a message", details={"model": model}
        ) from None
    texts: list[str] = []
    calls: list[ToolCall] = []
    for block in blocks:
        if "text" in block:
            texts.append(str(block["text"]))
        elif "toolUse" in block:
            use = block["toolUse"]
            arguments = use.get("input") or {}
            if not isinstance(arguments, dict):
                raise ModelResponseError(f"The model called tool '{use.get('name')}' with non-object input")
            calls.append(ToolCall(id=str(use["toolUseId"]), name=str(use["name"]), arguments=arguments))
    usage = response.get("usage") or {}
    return ChatResult(
        text="".join(texts),
        tool_calls=calls,
        usage=TokenUsage(
            tokens_in=int(usage.get("inputTokens", 0)), tokens_out=int(usage.get("outputTokens", 0))
        ),
        model=model,
        provider=provider,
        finish_reason=response.get("stopReason"),
    )


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
        read_timeout_s: float = 60.0,
        retry_policy: RetryPolicy | None = None,
    ) -> None:
        self.default_model = default_model
        self.region = region
        self.fallback_model = fallback_model
        self.max_tokens = max_tokens
        self.temperature = temperature
        self.connect_timeout_s = connect_timeout_s
        self.read_timeout_s = read_timeout_s
        self.retry_policy = retry_policy or RetryPolicy()
        timeouts = {"connect_timeout_s": connect_timeout_s, "read_timeout_s": read_timeout_s}
        self._runtime: Lazy[BedrockRuntimeClient] = Lazy(
            lambda: boto_client("bedrock-runtime", region=region, **timeouts), runtime_client
        )
        self._control: Lazy[BedrockControlClient] = Lazy(
            lambda: boto_client("bedrock", region=region, **timeouts), control_client
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
            retry_policy=RetryPolicy.from_settings(settings),
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
    ) -> ChatResult:
        system, converse_messages = to_converse(messages, with_tools=bool(tools))
        if response_format:
            # Converse has no portable structured-output switch; an instruction works on every family.
            schema = json.dumps(response_format.get("json_schema", {}).get("schema", response_format))
            instruction = (
                f"Reply with one JSON value that follows this JSON schema, and nothing else: {schema}"
            )
            system.append({"text": instruction})
        request: dict[str, Any] = {
            "messages": converse_messages,
            "inferenceConfig": {"maxTokens": self.max_tokens, "temperature": self.temperature},
        }
        if system:
            request["system"] = system
        if tools:
            request["toolConfig"] = {
                "tools": [
                    {
                        "toolSpec": {
                            "name": t.name,
                            "description": t.description,
                            "inputSchema": {"json": t.parameters},
                        }
                    }
                    for t in tools
                ]
            }

        def attempt(model_id: str, _remaining_s: float) -> ChatResult:
            try:
                response = self.runtime().converse(modelId=model_id, **request)
            except Exception as error:
                raise translate_boto_error(error, provider=self.provider) from None
            result = parse_converse(dict(response), model=model_id, provider=self.provider)
            if response_format:
                match = _FENCE.match(result.text.strip())
                result.text = match.group(1) if match else result.text
            return result

        return self._chat_with_fallback(attempt, model)

    def list_models(self) -> list[ModelInfo]:
        def attempt(_remaining_s: float) -> list[ModelInfo]:
            try:
                response = self.control().list_foundation_models(byOutputModality="TEXT")
            except Exception as error:
                raise translate_boto_error(error, provider=self.provider) from None
            return [
                ModelInfo(id=summary["modelId"], provider=self.provider, owned_by=summary.get("providerName"))
                for summary in response.get("modelSummaries", [])
                if "TEXT" in summary.get("outputModalities", ["TEXT"])
            ]

        return self._with_retries(attempt)
