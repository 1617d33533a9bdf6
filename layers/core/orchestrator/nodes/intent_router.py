"""Intent router node: answer from the response cache when it can, else classify the prompt.

The cache check lives here rather than in a Task of its own: a plain chat turn then takes three
Lambda invocations (router, agent, memory) instead of four, and the execution history still shows
a cached turn (``cached: true``, the ``cache`` method on the intent).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from orchestrator.nodes.base import Invocation, Node
from orchestrator.state import GraphState, Intent, Response

if TYPE_CHECKING:
    from orchestrator.memory import ResponseCache
    from orchestrator.reasoning.router import IntentRouter


@dataclass(frozen=True)
class RouterDeps:
    router: IntentRouter
    cache: ResponseCache
    cache_ttl_s: int


node: Node[RouterDeps] = Node(
    "intent_router",
    deps=lambda c: RouterDeps(router=c.router, cache=c.response_cache, cache_ttl_s=c.settings.cache_ttl_s),
)


def answer_from_cache(state: GraphState, cache: ResponseCache, ttl_s: int) -> bool:
    """Fill ``state`` from a cached answer of the same tenant, user and prompt; False on a miss."""
    if state.metadata.get("no_cache") or ttl_s <= 0:
        return False
    hit = cache.get(state.tenant_id, state.user_id, state.prompt)
    if hit is None:
        return False
    state.response = Response.model_validate(hit["response"])
    state.intent = Intent.model_validate(hit["intent"]) if hit.get("intent") else None
    state.cached = True
    return True


@node.action("route")
def route(call: Invocation, deps: RouterDeps) -> GraphState:
    state = call.state
    if call.event.execution_name:
        # The API names executions by run id; EventBridge does not, so the name becomes the id.
        state.run_id = call.event.execution_name
    if answer_from_cache(state, deps.cache, deps.cache_ttl_s):
        return state
    outcome = deps.router.route(state.prompt, deadline=call.deadline)
    call.meter.record_result(outcome.model_result)
    state.intent = outcome.intent
    return state


handle = node.handle
