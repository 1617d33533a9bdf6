"""From an API request to a run's initial state, and from the final state to the API response."""

from __future__ import annotations

import json
import uuid

from orchestrator.api.schemas import ChatRequest, ChatResponse, StepOutcome
from orchestrator.clients.llm.allowlist import chosen_model
from orchestrator.config import Settings
from orchestrator.errors import ValidationError
from orchestrator.identity import Principal
from orchestrator.state import GraphState, Response
from orchestrator.workflow import WorkflowRunner


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


def status_url(state: GraphState) -> str:
    return f"/v1/runs/{state.run_id}?user_id={state.user_id}"


def run_chat_turn(runner: WorkflowRunner, state: GraphState) -> GraphState:
    """One synchronous turn (Express). A turn whose tools need a person's approval cannot wait
    there, so it continues as the Standard run of the same id, from the approval choice (the
    tools already chosen, no second classification or selection), and answers that it waits."""
    final = runner.run_sync(state)
    if final.approval.status != "required" or final.asynchronous:
        return final
    final.asynchronous = True
    final.watched = True  # the Standard run waits for a person: GET /v1/runs/{id}/events shows it
    runner.start(final)
    calls = "; ".join(f"{c.name} {json.dumps(c.arguments, sort_keys=True)}" for c in final.approval.calls)
    final.response = Response(
        text=(
            f"Approval pending: {calls} needs a person's approval before it runs. The request "
            f"continues as run {final.run_id}: follow it at {status_url(final)}, and approve or reject "
            f"it with POST /v1/runs/{final.run_id}/approve or /reject."
        ),
        complete=False,
    )
    return final


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
        planning=state.planning,
        tool_calls=state.tool_calls,
        tool_results=state.tool_results,
        usage=state.usage,
        cached=state.cached,
        provider=response.provider if response else None,
        model=response.model if response else None,
        **(
            {"status": "waiting_for_approval", "status_url": status_url(state), "approval": state.approval}
            if state.approval.status == "required"
            else {}
        ),
    )
