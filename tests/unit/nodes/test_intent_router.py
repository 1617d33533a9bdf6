"""Given the router node's deps, a repeated prompt is answered from the cache, else it is classified."""

from __future__ import annotations

from typing import Any

from orchestrator.clients.llm.base import ChatResult, TokenUsage
from orchestrator.nodes.intent_router import RouterDeps, node
from orchestrator.reasoning.router import RoutingOutcome
from orchestrator.state import GraphState, Intent
from tests.support.fakes import FakeCache, deadline_in

CHAT = Intent(name="chat", confidence=0.9, method="embedding")


class FakeRouter:
    def __init__(self, outcome: RoutingOutcome) -> None:
        self.outcome = outcome
        self.prompts: list[str] = []

    def route(self, text: str, *, deadline: float | None = None) -> RoutingOutcome:
        self.prompts.append(text)
        return self.outcome


def run(deps: RouterDeps, state: GraphState, **extra: Any) -> GraphState:
    event = {"action": "route", "state": state.model_dump(mode="json"), **extra}
    price = {"judge": {"input_per_1k": 1.0, "output_per_1k": 1.0}}
    return GraphState.model_validate(node.run(event, deps, deadline=deadline_in(), price_table=price))


def deps_with(router: FakeRouter, cache: FakeCache, ttl: int = 60) -> RouterDeps:
    return RouterDeps(router=router, cache=cache, cache_ttl_s=ttl)  # type: ignore[arg-type]


def test_a_cached_answer_skips_classification() -> None:
    cache, router = FakeCache(), FakeRouter(RoutingOutcome(intent=CHAT, first_stage=CHAT))
    cache.put("acme", "ada", "Hello", {"response": {"text": "Hi!"}, "intent": CHAT.model_dump()}, 60)

    out = run(deps_with(router, cache), GraphState(tenant_id="acme", user_id="ada", prompt="Hello"))

    assert out.cached == "exact" and out.response is not None and out.response.text == "Hi!"
    assert router.prompts == []
    assert "intent_router" in out.usage


def test_another_tenants_cache_entry_is_a_miss() -> None:
    cache, router = FakeCache(), FakeRouter(RoutingOutcome(intent=CHAT, first_stage=CHAT))
    cache.put("globex", "ada", "Hello", {"response": {"text": "Hi!"}}, 60)

    out = run(deps_with(router, cache), GraphState(tenant_id="acme", user_id="ada", prompt="Hello"))

    assert out.cached is False and out.intent == CHAT
    assert router.prompts == ["Hello"]


def test_no_cache_and_a_zero_ttl_always_classify() -> None:
    cache, router = FakeCache(), FakeRouter(RoutingOutcome(intent=CHAT, first_stage=CHAT))
    cache.put("default", "ada", "Hello", {"response": {"text": "Hi!"}}, 60)

    run(deps_with(router, cache), GraphState(user_id="ada", prompt="Hello", metadata={"no_cache": True}))
    run(deps_with(router, cache, ttl=0), GraphState(user_id="ada", prompt="Hello"))

    assert router.prompts == ["Hello", "Hello"]


def test_the_routing_model_call_is_counted_and_priced() -> None:
    judged = ChatResult(
        text="{}", usage=TokenUsage(tokens_in=500, tokens_out=500), model="judge", provider="x"
    )
    router = FakeRouter(RoutingOutcome(intent=CHAT, first_stage=CHAT, model_result=judged))

    out = run(deps_with(router, FakeCache()), GraphState(user_id="ada", prompt="Hmm"))

    usage = out.usage["intent_router"]
    assert (usage.tokens_in, usage.tokens_out, usage.cost_usd) == (500, 500, 1.0)


def test_an_eventbridge_run_takes_its_execution_name_as_run_id() -> None:
    router = FakeRouter(RoutingOutcome(intent=CHAT, first_stage=CHAT))

    out = run(deps_with(router, FakeCache()), GraphState(user_id="ada", prompt="Hi"), execution_name="exec-7")

    assert out.run_id == "exec-7"


def test_a_route_the_client_chose_skips_classification() -> None:
    from orchestrator.reasoning.routes import load_routes_from
    from orchestrator.state import ClientTurn

    router = FakeRouter(RoutingOutcome(intent=CHAT, first_stage=CHAT))
    router.routes = load_routes_from(None, None)  # type: ignore[attr-defined]
    state = GraphState(user_id="ada", prompt="Hello", client=ClientTurn(route="rag"))

    out = run(deps_with(router, FakeCache()), state)

    assert out.intent is not None and (out.intent.name, out.intent.method) == ("rag", "client")
    assert router.prompts == []


def test_the_cache_keys_on_the_clients_conversation_too() -> None:
    from orchestrator.state import ClientMessage, ClientTurn

    cache, router = FakeCache(), FakeRouter(RoutingOutcome(intent=CHAT, first_stage=CHAT))
    cache.put("default", "ada", "And then?", {"response": {"text": "Story A"}}, 60)
    history = [ClientMessage(role="user", content="Tell story B")]
    state = GraphState(user_id="ada", prompt="And then?", client=ClientTurn(history=history))

    out = run(deps_with(router, cache), state)

    assert out.cached is False and router.prompts == ["And then?"]
