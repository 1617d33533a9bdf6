"""Intent router: embedded first stage on unseen phrasings, model fallback only when unsure."""

from __future__ import annotations

import pytest

from orchestrator.clients.embeddings.embedded import EmbeddedEmbedder
from orchestrator.clients.llm.base import LLMClient, TokenUsage
from orchestrator.config import Settings
from orchestrator.errors import ModelUnavailableError
from orchestrator.reasoning.router import IntentRouter
from orchestrator.reasoning.routes import RoutesConfig, load_routes
from tests.support.scripted_llm import ScriptedLLM

# Written for this test: in neither routes.json, the shared dev set, nor bench/routing_unseen.jsonl.
UNSEEN = {
    "chat": [
        "What is the difference between a virus and a bacterium?",
        "Write a two-line rhyme about Mondays.",
        "Why do leaves change colour in the fall?",
    ],
    "rag": [
        "What does our travel policy say about per diem rates?",
        "Find the steps for requesting VPN access in our internal wiki.",
        "According to the contract I uploaded, when does the licence expire?",
    ],
    "tool": [
        "Compute 13.2% of 9,875.",
        "Run this snippet and show the output: print(2 ** 10)",
        "Search the web for the latest Kubernetes release.",
    ],
    "external_agent": [
        "Which customer segments churned the most last quarter?",
        "Forecast revenue for the enterprise plan over the next six months.",
        "What is the lifetime value of customers from paid search?",
    ],
    "planning": [
        "Find the three best-rated CI services, compare their pricing, and recommend one for our team.",
        "Summarize the incident timeline, then identify the root cause, and finally write a postmortem.",
        "Gather our top support questions, group them by topic, and write an FAQ page.",
    ],
}
AMBIGUOUS = "Can you look into the numbers and sort it out?"


@pytest.fixture(scope="module")
def embedder() -> EmbeddedEmbedder:
    return EmbeddedEmbedder()


@pytest.fixture(scope="module")
def routes() -> RoutesConfig:
    return load_routes(Settings(_env_file=None))  # type: ignore[call-arg]


@pytest.fixture(scope="module")
def router(routes: RoutesConfig, embedder: EmbeddedEmbedder) -> IntentRouter:
    router = IntentRouter(routes, embedder)
    router.warm_up()
    return router


@pytest.fixture(scope="module")
def unsure_routes(routes: RoutesConfig) -> RoutesConfig:
    """The default routes with thresholds unset, so ``llm_threshold`` decides what counts as unsure."""
    document = routes.model_dump()
    for route in document["routes"]:
        route["threshold"] = None
    return RoutesConfig.model_validate(document)


def _unsure_router(routes: RoutesConfig, embedder: EmbeddedEmbedder, llm: LLMClient | None) -> IntentRouter:
    # A threshold above any probability sends every request to stage two.
    return IntentRouter(routes, embedder, llm, llm_threshold=1.01)


@pytest.mark.parametrize(("intent", "text"), [(i, t) for i, texts in UNSEEN.items() for t in texts])
def test_unseen_phrasings_route_to_their_intent_without_a_model(
    router: IntentRouter, intent: str, text: str
) -> None:
    result = router.classify(text)

    assert (result.name, result.method) == (intent, "embedding")
    assert result.confidence >= router.threshold(intent)


def test_alternatives_are_the_top_three_scores_in_order(router: IntentRouter) -> None:
    result = router.classify("Forecast churn for the enterprise cohort next quarter.")

    assert next(iter(result.alternatives)) == result.name == "external_agent"
    assert len(result.alternatives) == 3
    scores = list(result.alternatives.values())
    assert scores == sorted(scores, reverse=True)
    assert sum(router.scores("anything at all").values()) == pytest.approx(1.0)


def test_an_empty_request_takes_the_default_route(router: IntentRouter) -> None:
    result = router.classify("   ")

    assert (result.name, result.method, result.confidence) == ("chat", "default", 0.0)


def test_an_unsure_request_without_a_model_takes_the_default_route(
    unsure_routes: RoutesConfig, embedder: EmbeddedEmbedder
) -> None:
    result = _unsure_router(unsure_routes, embedder, None).classify(AMBIGUOUS)

    assert (result.name, result.method) == ("chat", "default")
    assert result.alternatives  # the scores stay visible for debugging


def test_a_confident_request_never_calls_the_model(routes: RoutesConfig, embedder: EmbeddedEmbedder) -> None:
    llm = ScriptedLLM([])
    confident = IntentRouter(routes, embedder, llm)

    intent, usage = confident.classify_with_usage("Search the web for the latest Kubernetes release.")

    assert (intent.name, intent.method, usage) == ("tool", "embedding", None)
    assert llm.calls == []


def test_between_the_thresholds_the_model_decides_only_when_one_is_configured(
    routes: RoutesConfig, embedder: EmbeddedEmbedder
) -> None:
    # Given a request stage one puts above the route threshold but below llm_threshold
    text = "Morning! Hope your week is going well."
    without_model = IntentRouter(routes, embedder, None, llm_threshold=0.9)
    llm = ScriptedLLM(['{"intent": "chat", "confidence": 0.97}'])
    with_model = IntentRouter(routes, embedder, llm, llm_threshold=0.9)

    alone, asked = without_model.classify(text), with_model.classify(text)

    assert routes.route("chat").threshold <= alone.confidence < 0.9  # type: ignore[union-attr]
    assert (alone.name, alone.method) == ("chat", "embedding")
    assert (asked.name, asked.method, asked.confidence) == ("chat", "llm", 0.97)
    assert len(llm.calls) == 1


def test_a_valid_model_verdict_decides_an_unsure_request(
    unsure_routes: RoutesConfig, embedder: EmbeddedEmbedder
) -> None:
    llm = ScriptedLLM(['{"intent": "external_agent", "confidence": 0.82}'])

    intent, usage = _unsure_router(unsure_routes, embedder, llm).classify_with_usage(AMBIGUOUS)

    assert (intent.name, intent.method, intent.confidence) == ("external_agent", "llm", 0.82)
    assert usage == TokenUsage(tokens_in=120, tokens_out=9)
    schema = llm.calls[0]["response_format"]
    assert schema["properties"]["intent"]["enum"] == unsure_routes.names
    assert AMBIGUOUS in llm.calls[0]["messages"][-1].content


@pytest.mark.parametrize(
    "reply",
    [
        "I think this is probably analytics.",
        '{"intent": "astrology", "confidence": 0.9}',
        '{"intent": "tool", "confidence": 7}',
        '{"intent": "tool"',
    ],
)
def test_a_bad_model_verdict_keeps_the_first_stage_answer(
    unsure_routes: RoutesConfig, embedder: EmbeddedEmbedder, reply: str
) -> None:
    first = _unsure_router(unsure_routes, embedder, None).classify(AMBIGUOUS)
    llm = ScriptedLLM([reply])

    outcome = _unsure_router(unsure_routes, embedder, llm).route(AMBIGUOUS)

    assert outcome.intent == first
    assert outcome.intent.method == "default"
    assert outcome.usage == TokenUsage(tokens_in=120, tokens_out=9)  # the model ran: its tokens count
    assert len(llm.calls) == 1


def test_a_failing_model_keeps_the_first_stage_answer(
    unsure_routes: RoutesConfig, embedder: EmbeddedEmbedder
) -> None:
    llm = ScriptedLLM([ModelUnavailableError("model down")])

    outcome = _unsure_router(unsure_routes, embedder, llm).route(AMBIGUOUS)

    assert (outcome.intent.name, outcome.intent.method, outcome.usage) == ("chat", "default", None)


def test_the_offline_stand_in_is_never_asked(unsure_routes: RoutesConfig, embedder: EmbeddedEmbedder) -> None:
    llm = ScriptedLLM([], real=False)

    result = _unsure_router(unsure_routes, embedder, llm).classify(AMBIGUOUS)

    assert result.method == "default"
    assert llm.calls == []


def test_the_model_factory_runs_once_and_only_when_needed(
    unsure_routes: RoutesConfig, routes: RoutesConfig, embedder: EmbeddedEmbedder
) -> None:
    built: list[ScriptedLLM] = []

    def factory() -> LLMClient:
        built.append(ScriptedLLM(['{"intent": "rag", "confidence": 0.7}'] * 2))
        return built[-1]

    confident = IntentRouter(routes, embedder, llm_factory=factory)
    confident.classify("Write a two-line rhyme about Mondays.")
    assert built == []

    unsure = IntentRouter(unsure_routes, embedder, llm_threshold=1.01, llm_factory=factory)
    first, second = unsure.classify(AMBIGUOUS), unsure.classify(AMBIGUOUS)

    assert len(built) == 1
    assert first.method == second.method == "llm"
    assert len(built[0].calls) == 2


def test_a_broken_model_factory_does_not_break_routing(
    unsure_routes: RoutesConfig, embedder: EmbeddedEmbedder
) -> None:
    def factory() -> LLMClient:
        raise RuntimeError("provider misconfigured")

    result = IntentRouter(unsure_routes, embedder, llm_threshold=1.01, llm_factory=factory).classify(
        AMBIGUOUS
    )

    assert (result.name, result.method) == ("chat", "default")
