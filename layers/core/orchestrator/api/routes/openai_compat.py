"""OpenAI-compatible surface, so OpenAI SDKs and tools (n8n, LibreChat) can call the orchestrator.

The conversation lives in the orchestrator's memory, so only the last user message is sent as
the prompt; earlier messages in the request are not replayed.
"""

from __future__ import annotations

import re
import time
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from orchestrator.api.auth import PrincipalDep
from orchestrator.api.citations import with_sources
from orchestrator.api.deps import RunnerDep, SettingsDep
from orchestrator.api.schemas import ID_PATTERN, ChatRequest, ErrorBody
from orchestrator.api.turns import new_state, run_chat_turn
from orchestrator.errors import ValidationError
from orchestrator.identity import Principal

router = APIRouter(prefix="/v1", tags=["openai-compatible"])

MODEL_ID = "orchestrator"


class CompatMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    role: Literal["system", "user", "assistant", "tool", "developer"]
    content: str | list[dict[str, Any]] | None = None


class CompletionRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    model: str = MODEL_ID
    messages: list[CompatMessage] = Field(min_length=1, max_length=200)
    user: str | None = Field(default=None, max_length=128, pattern=ID_PATTERN)
    stream: bool = False
    metadata: dict[str, Any] = Field(default_factory=dict)


def _end_user(principal: Principal, user: str | None) -> str:
    """OpenAI's ``user`` names the end user inside the caller's tenant; without it, each key (or
    token) is its own user, so callers that send none never share memory, cache or documents."""
    if user:
        return principal.end_user(user) or user
    if principal.user_id:
        return principal.user_id
    return principal.subject if principal.via == "api_key" else "openai-compat"


def _text(message: CompatMessage) -> str:
    if isinstance(message.content, str):
        return message.content
    parts = message.content or []
    return "".join(str(p.get("text", "")) for p in parts if p.get("type") == "text")


@router.get("/models")
def list_models() -> dict[str, Any]:
    """The orchestrator as one OpenAI-style model."""
    return {
        "object": "list",
        "data": [{"id": MODEL_ID, "object": "model", "created": 0, "owned_by": "orchestrator"}],
    }


@router.post("/chat/completions", responses={422: {"model": ErrorBody}, 502: {"model": ErrorBody}})
def chat_completions(
    body: CompletionRequest, settings: SettingsDep, runner: RunnerDep, principal: PrincipalDep
) -> dict[str, Any]:
    """OpenAI chat completion: the last user message runs through the graph."""
    if body.stream:
        raise ValidationError("stream: streaming is not supported (API Gateway + Mangum buffer responses)")
    users = [m for m in body.messages if m.role == "user"]
    if not users:
        raise ValidationError("messages: at least one message with role 'user' is required")
    session = body.metadata.get("session_id")
    if isinstance(session, str) and not (len(session) <= 128 and re.fullmatch(ID_PATTERN, session)):
        raise ValidationError("metadata.session_id: must be 1 to 128 of A-Z a-z 0-9 _ . : @ -")
    request = ChatRequest(
        prompt=_text(users[-1]),
        user_id=_end_user(principal, body.user),
        session_id=session if isinstance(session, str) else None,
        metadata={k: v for k, v in body.metadata.items() if k != "session_id"},
    )
    state = run_chat_turn(runner, new_state(request, settings, principal))
    citations = state.response.citations if state.response else []
    tokens_in = sum(u.tokens_in for u in state.usage.values())
    tokens_out = sum(u.tokens_out for u in state.usage.values())
    return {
        "id": f"chatcmpl-{state.run_id}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.model,
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": with_sources(state.response.text, citations) if state.response else "",
                },
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": tokens_in,
            "completion_tokens": tokens_out,
            "total_tokens": tokens_in + tokens_out,
        },
        "orchestrator": {
            "run_id": state.run_id,
            "session_id": state.session_id,
            "intent": state.intent.model_dump() if state.intent else None,
            # The same sources as data, numbered as in the text ([1] is the first).
            "citations": [c.model_dump() for c in citations],
        },
    }
