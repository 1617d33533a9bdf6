"""Given the semantic cache (opt-in), a paraphrase by the same user on the same route is a hit.

The router looks up after classifying (the route is part of the key); the memory node writes.
``FakeSemanticCache`` keeps entries in memory but scores them as the DynamoDB one does, with the
embedded model, so "paraphrase" here means what it means in production.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from orchestrator.clients.embeddings.embedded import EmbeddedEmbedder
from orchestrator.memory.semantic_cache import SemanticEntry, SemanticHit, closest, guard_terms
from orchestrator.nodes import intent_router, memory_store
from orchestrator.reasoning.router import RoutingOutcome
from orchestrator.state import GraphState, Intent, Response
from tests.support.fakes import FakeCache, FakeConversations, FakeRuns, deadline_in

CHAT = Intent(name="chat", confidence=0.9, method="embedding")
RAG = Intent(name="rag", confidence=0.9, method="embedding")
TOOL = Intent(name="tool", confidence=0.9, method="embedding")


class FakeSemanticCache:
    def __init__(
        self, embedder: EmbeddedEmbedder, *, threshold: float = 0.86, max_entries: int = 100
    ) -> None:
        self.embedder, self.threshold, self.max_entries = embedder, threshold, max_entries
        #: (tenant, user) -> {(intent, prompt digest): entry}, oldest first.
        self.entries: dict[tuple[str, str], dict[tuple[str, str], SemanticEntry]] = {}

    def lookup(
        self, tenant_id: str, user_id: str, intent: str, prompt: str, *, deadline: float | None = None
    ) -> SemanticHit | None:
        mine = self.entries.get((tenant_id, user_id), {})
        candidates = [entry for (route, _), entry in mine.items() if route == intent]
        return closest(self.embedder.embed([prompt])[0], guard_terms(prompt), candidates, self.threshold)

    def put(
        self,
        tenant_id: str,
        user_id: str,
        intent: str,
        prompt: str,
        value: dict[str, Any],
        *,
        ttl_s: int,
        deadline: float | None = None,
    ) -> None:
        mine = self.entries.setdefault((tenant_id, user_id), {})
        key = (intent, hashlib.sha256(prompt.lower().encode()).hexdigest())
        mine.pop(key, None)
        mine[key] = SemanticEntry(self.embedder.embed([prompt])[0], guard_terms(prompt), value)
        while len(mine) > self.max_entries:
            del mine[next(iter(mine))]


class FakeRouter:
    def __init__(self, intent: Intent) -> None:
        self.intent = intent

    def route(self, text: str, *, deadline: float | None = None) -> RoutingOutcome:
        return RoutingOutcome(intent=self.intent, first_stage=self.intent)


@pytest.fixture(scope="module")
def embedder() -> EmbeddedEmbedder:
    return EmbeddedEmbedder()


@pytest.fixture
def semantic(embedder: EmbeddedEmbedder) -> FakeSemanticCache:
    return FakeSemanticCache(embedder)


def remember(
    semantic: FakeSemanticCache, prompt: str, answer: str, *, intent: Intent = CHAT, **who: str
) -> GraphState:
    """The memory node records an answered turn (and caches it)."""
    deps = memory_store.MemoryDeps(
        conversations=FakeConversations(),  # type: ignore[arg-type]
        cache=FakeCache(),  # type: ignore[arg-type]
        runs=FakeRuns(),  # type: ignore[arg-type]
        cache_ttl_s=60,
        semantic_cache=semantic,  # type: ignore[arg-type]
    )
    state = GraphState(
        **({"tenant_id": "acme", "user_id": "ada"} | who),
        prompt=prompt,
        intent=intent,
        response=Response(text=answer),
    )
    event = {"action": "record", "state": state.model_dump(mode="json")}
    return GraphState.model_validate(memory_store.node.run(event, deps, deadline=deadline_in()))


def ask(
    semantic: FakeSemanticCache | None,
    prompt: str,
    *,
    intent: Intent = CHAT,
    exact: FakeCache | None = None,
    metadata: dict[str, Any] | None = None,
    **who: str,
) -> GraphState:
    """The router node routes a new turn."""
    deps = intent_router.RouterDeps(
        router=FakeRouter(intent),  # type: ignore[arg-type]
        cache=exact or FakeCache(),  # type: ignore[arg-type]
        cache_ttl_s=60,
        semantic_cache=semantic,  # type: ignore[arg-type]
    )
    state = GraphState(
        **({"tenant_id": "acme", "user_id": "ada"} | who), prompt=prompt, metadata=metadata or {}
    )
    event = {"action": "route", "state": state.model_dump(mode="json")}
    return GraphState.model_validate(intent_router.node.run(event, deps, deadline=deadline_in()))


def test_a_paraphrase_on_the_same_route_is_answered_from_the_cache(semantic: FakeSemanticCache) -> None:
    remember(semantic, "What's the capital of France?", "Paris.")

    out = ask(semantic, "Tell me France's capital")

    assert out.cached == "semantic"
    assert out.response is not None and out.response.text == "Paris."
    assert out.intent == CHAT  # classified: the route is part of the lookup


def test_the_same_prompt_is_still_an_exact_hit_first(semantic: FakeSemanticCache) -> None:
    exact = FakeCache()
    exact.put("acme", "ada", "Hello", {"response": {"text": "Hi!"}, "intent": CHAT.model_dump()}, 60)
    remember(semantic, "Hello", "Hi!")

    assert ask(semantic, "Hello", exact=exact).cached == "exact"


@pytest.mark.parametrize(
    ("asked", "intent", "who"),
    [
        ("Tell me France's capital", RAG, {}),  # another route
        ("Tell me France's capital", TOOL, {}),  # a route that is never cached
        ("Tell me France's capital", CHAT, {"user_id": "bob"}),
        ("Tell me France's capital", CHAT, {"tenant_id": "globex"}),
        ("What's the capital of Spain?", CHAT, {}),
    ],
    ids=["other-route", "uncacheable-route", "other-user", "other-tenant", "other-country"],
)
def test_a_paraphrase_elsewhere_or_another_question_is_a_miss(
    semantic: FakeSemanticCache, asked: str, intent: Intent, who: dict[str, str]
) -> None:
    remember(semantic, "What's the capital of France?", "Paris.")

    out = ask(semantic, asked, intent=intent, **who)

    assert out.cached is False and out.response is None and out.intent == intent


def test_different_numbers_are_a_miss(semantic: FakeSemanticCache) -> None:
    remember(semantic, "Convert 10 miles to kilometers", "16.09 km")

    assert ask(semantic, "Convert 12 miles to kilometers").cached is False
    assert ask(semantic, "convert 10 miles into kilometers").cached == "semantic"


def test_disabled_or_no_cache_is_a_miss(semantic: FakeSemanticCache) -> None:
    remember(semantic, "What's the capital of France?", "Paris.")

    assert ask(None, "Tell me France's capital").cached is False
    assert ask(semantic, "Tell me France's capital", metadata={"no_cache": True}).cached is False


def test_only_fresh_cacheable_answers_are_stored_and_a_user_keeps_a_bounded_number(
    embedder: EmbeddedEmbedder,
) -> None:
    semantic = FakeSemanticCache(embedder, max_entries=2)

    remember(semantic, "Use the calculator on 2 + 2", "4", intent=TOOL)
    remember(semantic, "What's the capital of France?", "Paris.")
    remember(semantic, "Who painted the Mona Lisa?", "Leonardo.")
    remember(semantic, "How do I reset my password?", "Click 'Forgot password'.")

    entries = semantic.entries[("acme", "ada")]
    assert len(entries) == 2 and all(route == "chat" for route, _ in entries)
    assert ask(semantic, "Tell me France's capital").cached is False  # the oldest went
    assert ask(semantic, "Who was the painter of the Mona Lisa?").cached == "semantic"


def test_a_semantic_hit_is_remembered_as_a_turn_but_not_cached_again(semantic: FakeSemanticCache) -> None:
    remember(semantic, "What's the capital of France?", "Paris.")
    hit = ask(semantic, "Tell me France's capital")
    deps = memory_store.MemoryDeps(
        conversations=FakeConversations(),  # type: ignore[arg-type]
        cache=FakeCache(),  # type: ignore[arg-type]
        runs=FakeRuns(),  # type: ignore[arg-type]
        cache_ttl_s=60,
        semantic_cache=semantic,  # type: ignore[arg-type]
    )

    memory_store.node.run(
        {"action": "record", "state": hit.model_dump(mode="json")}, deps, deadline=deadline_in()
    )

    assert len(semantic.entries[("acme", "ada")]) == 1
    assert deps.runs.get("acme", hit.run_id).cached == "semantic"  # type: ignore[union-attr]
