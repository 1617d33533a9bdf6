"""From an API request to a run's initial state, and from the final state to the API response."""

from __future__ import annotations

import json
import uuid

from orchestrator.api.schemas import ChatRequest, ChatResponse, StepOutcome
from orchestrator.clients.llm.allowlist import chosen_model
from orchestrator.config import Settings
from orchestrator.errors import ValidationError
from orchestrator.identity import Principal
from orchestrator.state import GraphState


def new_state(request: ChatRequest, settings: Settings, principal: Principal) -> GraphState:
    """Validate what a schema cannot (configurable caps) and build the state the run starts from.

    The run belongs to the caller's tenant; the user is the one the request names inside it (a
    user token may only name its own user).
    """
    user_id = principal.end_user(request.user_id) or request.user_id
    prompt = request.prompt.strip()
    if not prompt:
        raise ValidationError("prompt: must not be empty", details={"field": "prompt", "problem": "empty"})
    if len(prompt) > settings.max_prompt_chars:
        raise ValidationError(
            f"prompt: {len(prompt)} characters is over the limit of {settings.max_prompt_chars}",
            details={"field": "prompt", "problem": "too long", "limit": settings.max_prompt_chars},
        )
    metadata_size = len(json.dumps(request.metadata, default=str).encode())
    if metadata_size > settings.max_metadata_bytes:
        raise ValidationError(
            f"metadata: {metadata_size} bytes is over the limit of {settings.max_metadata_bytes}",
            details={"field": "metadata", "problem": "too large", "limit": settings.max_metadata_bytes},
        )
    chosen_model(request.metadata, settings)  # 422 for a metadata.model not configured
    return GraphState(
        tenant_id=principal.tenant_id,
        user_id=user_id,
        session_id=request.session_id or uuid.uuid4().hex,
        prompt=prompt,
        metadata=request.metadata,
    )


def to_response(state: GraphState) -> ChatResponse:
    by_step = {r.step_id: r for r in state.results if r.step_id}
    plan = [StepOutcome(step=step, result=by_step.get(step.id)) for step in state.plan] or None
    response = state.response
    return ChatResponse(
        run_id=state.run_id,
        session_id=state.session_id,
        response=response.text if response else "",
        citations=response.citations if response else [],
        intent=state.intent,
        plan=plan,
        tool_calls=state.tool_calls,
        tool_results=state.tool_results,
        usage=state.usage,
        cached=state.cached,
        provider=response.provider if response else None,
        model=response.model if response else None,
    )
