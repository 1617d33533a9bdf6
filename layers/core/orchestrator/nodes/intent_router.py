"""Intent router node: answer from the response cache when it can, else classify the prompt.

The cache check lives here rather than in a Task of its own: a plain chat turn then takes three
Lambda invocations (router, agent, memory) instead of four, and the execution history still shows
a cached turn (``cached: "exact"`` or ``"semantic"``). The exact lookup comes first; the semantic
one (opt-in) needs the route, so it follows classification, which is sub-millisecond offline.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from orchestrator.memory.cache import CACHEABLE_INTENTS
from orchestrator.nodes.base import Invocation, Node
from orchestrator.state import GraphState, Intent, Response

if TYPE_CHECKING:
    from orchestrator.memory import ResponseCache
    from orchestrator.memory.semantic_cache import SemanticCache
    from orchestrator.reasoning.router import IntentRouter

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RouterDeps:
    router: IntentRouter
    cache: ResponseCache
    cache_ttl_s: int
    #: None unless SEMANTIC_CACHE_ENABLED.
    semantic_cache: SemanticCache | None = None


node: Node[RouterDeps] = Node(
    "intent_router",
    deps=lambda c: RouterDeps(
        router=c.router,
        cache=c.response_cache,
        cache_ttl_s=c.settings.cache_ttl_s,
        semantic_cache=c.semantic_cache,
    ),
)


def answer_from_cache(state: GraphState, cache: ResponseCache, ttl_s: int) -> bool:
    """Fill ``state`` from a cached answer of the same tenant, user and prompt; False on a miss."""
    if state.metadata.get("no_cache") or ttl_s <= 0 or (state.client is not None and state.client.background):
        return False
    hit = cache.get(state.tenant_id, state.user_id, state.cache_prompt())
    if hit is None:
        return False
    state.response = Response.model_validate(hit["response"])
    state.intent = Intent.model_validate(hit["intent"]) if hit.get("intent") else None
    state.cached = "exact"
    return True


def answer_from_semantic_cache(
    state: GraphState, cache: SemanticCache | None, ttl_s: int, *, deadline: float | None = None
) -> bool:
    """Fill ``state`` from the user's cached answer to a paraphrase on the classified route."""
    intent = state.intent.name if state.intent else None
    if cache is None or state.metadata.get("no_cache") or ttl_s <= 0 or intent not in CACHEABLE_INTENTS:
        return False
    if state.client is not None:
        # A paraphrase of the prompt in another conversation (system prompt, history) is another question.
        return False
    hit = cache.lookup(state.tenant_id, state.user_id, intent, state.prompt, deadline=deadline)
    if hit is None:
        return False
    logger.info("semantic cache hit on %s (similarity %.3f)", intent, hit.similarity)
    state.response = Response.model_validate(hit.value["response"])
    state.cached = "semantic"
    return True


@node.action("route")
def route(call: Invocation, deps: RouterDeps) -> GraphState:
    state = _route(call, deps)
    call.decision = decision_of(state)
    return state


def decision_of(state: GraphState) -> dict[str, Any]:
    """The span's decision: the intent with its runners-up, and whether the cache answered."""
    decision: dict[str, Any] = {"cache": {"hit": state.cached}}
    if state.intent is not None:
        decision |= {
            "intent": state.intent.name,
            "confidence": state.intent.confidence,
            "method": state.intent.method,
            "alternatives": state.intent.alternatives,
        }
        if state.intent.agent:
            decision["agent"] = state.intent.agent
    return decision


def _route(call: Invocation, deps: RouterDeps) -> GraphState:
    state = call.state
    if call.event.execution_name:
        # The API names executions by run id; EventBridge does not, so the name becomes the id.
        state.run_id = call.event.execution_name
    if answer_from_cache(state, deps.cache, deps.cache_ttl_s):
        return state
    if state.client is not None and state.client.route:
        # The client chose the route (an ``orchestrator/<route>`` model): nothing to classify.
        configured = deps.router.routes.route(state.client.route)
        agent = configured.agent if configured is not None else None
        # An agent's route is the external_agent intent naming the agent, as when classified.
        name = "external_agent" if agent else state.client.route
        state.intent = Intent(name=name, confidence=1.0, method="client", agent=agent)
        return state
    outcome = deps.router.route(state.prompt, deadline=call.deadline)
    call.meter.record_result(outcome.model_result)
    state.intent = outcome.intent
    client = state.client
    if (
        client is not None
        and (client.tools or client.response_format)
        and state.intent.name == "external_agent"
    ):
        # An external agent cannot take the client's tools or output format; the agent node can.
        state.intent = Intent(name=deps.router.routes.default_route, confidence=0.0, method="client")
    state.language = outcome.language
    answer_from_semantic_cache(state, deps.semantic_cache, deps.cache_ttl_s, deadline=call.deadline)
    return state


handle = node.handle
