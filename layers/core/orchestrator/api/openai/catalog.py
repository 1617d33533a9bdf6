"""The models ``/v1/models`` lists and ``/v1/chat/completions`` accepts.

``orchestrator`` runs the whole graph, routing on intent; ``orchestrator/<route>`` forces a route
(no classification); a provider model the deployment allows (``LLM_ALLOWED_MODELS`` plus the
default and fallback models) answers with one model call on the chat route. Anything else is 404.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from orchestrator.clients.llm.allowlist import allowed_models
from orchestrator.errors import ModelNotFoundError

if TYPE_CHECKING:
    from orchestrator.config import Settings

ORCHESTRATOR = "orchestrator"
ROUTE_PREFIX = "orchestrator/"


@dataclass(frozen=True)
class ModelChoice:
    id: str
    #: The route the model forces; None: the graph classifies.
    route: str | None = None
    #: The provider model answering directly (one call, no orchestrator tools).
    provider_model: str | None = None
    #: The forced route hands the turn to an external agent (which takes no tools, no format).
    external: bool = False


def model_ids(settings: Settings, routes: Sequence[str]) -> list[str]:
    """Every model a caller may name, the whole graph first."""
    graph = [ORCHESTRATOR, *(ROUTE_PREFIX + route for route in routes)]
    return graph + sorted(m for m in allowed_models(settings) if m not in graph)


def resolve(
    model: str, settings: Settings, routes: Sequence[str], external: Collection[str] = ("external_agent",)
) -> ModelChoice:
    """What ``model`` means here; :class:`ModelNotFoundError` (404) for a model not offered.
    ``external`` names the routes answered by external agents."""
    if model == ORCHESTRATOR:
        return ModelChoice(model)
    route = model[len(ROUTE_PREFIX) :]
    if model.startswith(ROUTE_PREFIX) and route in routes:
        return ModelChoice(model, route=route, external=route in external)
    if model in allowed_models(settings):
        return ModelChoice(model, route="chat", provider_model=model)
    raise ModelNotFoundError(
        f"The model '{model[:100]}' does not exist or you do not have access to it; "
        f"GET /v1/models lists the {len(model_ids(settings, routes))} models on offer.",
        details={"field": "model"},
    )
