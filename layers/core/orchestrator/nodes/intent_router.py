"""Intent router node: classify the prompt into one of the configured routes."""

from __future__ import annotations

from typing import Any

from orchestrator import services
from orchestrator.nodes._dispatch import handle as _handle
from orchestrator.nodes._dispatch import require_state, timed, usage
from orchestrator.state import GraphState, NodeEvent

NODE = "intent_router"


def route(event: NodeEvent) -> GraphState:
    state: GraphState = require_state(event, NODE)
    router = services.router()
    with timed() as watch:
        outcome = router.route(state.prompt)
    state.intent = outcome.intent
    tokens_in, tokens_out, model = 0, 0, None
    if outcome.model_result is not None:
        tokens_in = outcome.model_result.usage.tokens_in
        tokens_out = outcome.model_result.usage.tokens_out
        model = outcome.model_result.model
    state.add_usage(NODE, usage(watch.elapsed_ms, tokens_in=tokens_in, tokens_out=tokens_out, model=model))
    return state


def handle(event: dict[str, Any]) -> dict[str, Any]:
    return _handle(NODE, event, {"route": route})
