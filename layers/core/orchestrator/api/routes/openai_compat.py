"""OpenAI-compatible surface, so OpenAI SDKs, LangChain and chat UIs (Open WebUI, LibreChat, n8n)
can call the orchestrator.

``messages`` are the turn (the client keeps the conversation; see
:mod:`orchestrator.api.openai.request`), ``model`` picks the whole graph, one route or a provider
model (:mod:`orchestrator.api.openai.catalog`), and errors come in OpenAI's shape.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sse_starlette import EventSourceResponse

from orchestrator.api.auth import PrincipalDep
from orchestrator.api.deps import ContainerDep, RunnerDep, SettingsDep
from orchestrator.api.openai import catalog, reply
from orchestrator.api.openai.request import CompletionRequest, to_state
from orchestrator.api.openai.stream import completion_chunks
from orchestrator.api.schemas import ErrorBody
from orchestrator.api.turns import run_chat_turn
from orchestrator.identity import Principal

router = APIRouter(prefix="/v1", tags=["openai-compatible"])

MODEL_ID = catalog.ORCHESTRATOR


def _end_user(principal: Principal, user: str | None) -> str:
    """OpenAI's ``user`` names the end user inside the caller's tenant; without it, each key (or
    token) is its own user, so callers that send none never share memory, cache or documents."""
    if user:
        return principal.end_user(user) or user
    if principal.user_id:
        return principal.user_id
    return principal.subject if principal.via == "api_key" else "openai-compat"


@router.get("/models")
def list_models(settings: SettingsDep, container: ContainerDep) -> dict[str, Any]:
    """The whole graph, one model per route, and the provider models this deployment allows."""
    ids = catalog.model_ids(settings, container.router.routes.names)
    return {
        "object": "list",
        "data": [{"id": model, "object": "model", "created": 0, "owned_by": "orchestrator"} for model in ids],
    }


@router.post(
    "/chat/completions",
    responses={
        400: {"model": ErrorBody},
        404: {"model": ErrorBody},
        413: {"model": ErrorBody},
        422: {"model": ErrorBody},
        502: {"model": ErrorBody},
    },
    response_model=None,
)
def chat_completions(
    body: CompletionRequest,
    settings: SettingsDep,
    runner: RunnerDep,
    container: ContainerDep,
    principal: PrincipalDep,
) -> dict[str, Any] | EventSourceResponse:
    """OpenAI chat completion: the conversation in ``messages`` runs through the graph as one turn."""
    routes = container.router.routes
    external = [r.name for r in routes.routes if r.agent or r.name == "external_agent"]
    choice = catalog.resolve(body.model, settings, routes.names, external)
    state = to_state(body, choice, settings, principal, _end_user(principal, body.user))
    if not body.stream:
        state.watched = False
        return reply.completion(run_chat_turn(runner, state), body.model)
    # Request errors are already out as JSON with a status; the run's own come inside the stream.
    chunks = completion_chunks(
        runner,
        state,
        container.run_events,
        container.run_store,
        model=body.model,
        include_usage=bool(body.stream_options and body.stream_options.include_usage),
        poll_s=settings.stream_poll_ms / 1000,
    )
    return EventSourceResponse(chunks, ping=settings.stream_ping_s)
