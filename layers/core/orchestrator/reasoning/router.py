"""Intent router: an embedded classifier first, a model call only when it is unsure and a real model exists.

Stage one (:class:`~orchestrator.reasoning.classifier.RouteClassifier`) runs in well under a
millisecond with no network. Two thresholds apply to its top probability: the route's own
(calibrated, in routes.json; ``llm_threshold`` when unset), below which the answer falls back to
the default route; and ``max(route threshold, llm_threshold)``, below which a real model, when one
is configured, is asked once for a structured verdict. Anything wrong with that verdict (an
exception, text that is not JSON, an unknown route) leaves stage one's answer in place, so routing
never fails because of the model. With no real model, an uncertain request goes to the default
route (``chat``): the cheapest path, with no side effects.

The prompt's language is identified first (:mod:`orchestrator.reasoning.language`, ~0.1 ms). A
prompt in a language the routes' examples do not cover (``languages`` in routes.json) is never a
confident embedding decision: its confidence is capped below every threshold
(``unsupported_language_confidence``), so a real model classifies it; offline the embedding's best
guess stands, with method ``embedding-unsupported-language``.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field, ValidationError

from orchestrator.clients.llm.base import ChatMessage, ChatResult, LLMClient, TokenUsage
from orchestrator.reasoning.classifier import RouteClassifier
from orchestrator.reasoning.language import UNDETERMINED, LanguageGuess, LanguageIdentifier
from orchestrator.reasoning.routes import RoutesConfig, load_routes_from
from orchestrator.state import Intent, IntentMethod

if TYPE_CHECKING:
    from orchestrator.clients.embeddings.base import Embedder
    from orchestrator.config import Settings

logger = logging.getLogger(__name__)

LLMFactory = Callable[[], "LLMClient | None"]

#: A prompt longer than this is cut before it is sent to the model for routing.
_MODEL_PROMPT_CHARS = 4_000
_ALTERNATIVES = 3
_JSON_OBJECT = re.compile(r"\{.*\}", re.DOTALL)
#: A prompt counts as written in a supported language when those languages hold at least this
#: share of the identifier's probability (close relatives such as Galician and Portuguese share it).
_SUPPORTED_SHARE = 0.5
#: Below this probability the identifier is guessing (short English commands, URLs, code score
#: 0.01 to 0.2 for some other language): no evidence of a foreign language, nor a language to name.
_MIN_LANGUAGE_CONFIDENCE = 0.3


class _ModelVerdict(BaseModel):
    intent: str
    confidence: float = Field(ge=0.0, le=1.0)


@dataclass(frozen=True)
class RoutingOutcome:
    intent: Intent
    #: Stage one's own answer (equal to ``intent`` unless the model decided).
    first_stage: Intent
    #: The model's reply when stage two ran (for token usage), else None.
    model_result: ChatResult | None = None
    #: The prompt's language (ISO 639-1); None: no letters, or the identifier was only guessing.
    language: str | None = None

    @property
    def usage(self) -> TokenUsage | None:
        return self.model_result.usage if self.model_result else None


class IntentRouter:
    """Classifies a request into one of the configured routes. One instance per container."""

    def __init__(
        self,
        routes: RoutesConfig,
        embedder: Embedder,
        llm: LLMClient | None = None,
        llm_threshold: float = 0.45,
        *,
        llm_factory: LLMFactory | None = None,
        languages: LanguageIdentifier | None = None,
        unsupported_language_confidence: float = 0.3,
    ) -> None:
        self.routes = routes
        self.llm_threshold = llm_threshold
        self.languages = languages or LanguageIdentifier()
        self.supported_languages = frozenset(routes.languages)
        #: Ceiling on stage one's confidence for a prompt in an unsupported language.
        self.unsupported_language_confidence = unsupported_language_confidence
        self.classifier = RouteClassifier(routes, embedder)
        self._llm = llm
        # The factory runs on the first uncertain request only: confident routing never builds a client.
        self._llm_factory = llm_factory if llm is None else None
        self._llm_lock = threading.Lock()

    def warm_up(self) -> None:
        """Embed the examples, train stage one and load the language model now, not on a request."""
        self.classifier.fit()
        self.languages.warm_up()

    def threshold(self, route: str) -> float:
        """Stage one's answer for ``route`` stands at or above this; below it, the default route."""
        configured = self.routes.route(route)
        if configured is None or configured.threshold is None:
            return self.llm_threshold
        return configured.threshold

    def model_threshold(self, route: str) -> float:
        """Below this, a real model (when configured) is asked: never lower than ``llm_threshold``."""
        return max(self.threshold(route), self.llm_threshold)

    def scores(self, text: str) -> dict[str, float]:
        """Stage one's probability per route."""
        row = self.classifier.probabilities([text])[0]
        return {name: float(p) for name, p in zip(self.routes.names, row, strict=True)}

    def first_stage(self, text: str) -> Intent:
        """The embedded classifier's answer; the default route when it is unsure."""
        return self._first_stage(text)[0]

    def language(self, text: str) -> LanguageGuess:
        """The prompt's language, as the router sees it."""
        return self.languages.identify(text) if text.strip() else UNDETERMINED

    def understands(self, guess: LanguageGuess) -> bool:
        """Whether the routes' examples cover the prompt's language (no letters: nothing to miss)."""
        if guess.code in self.supported_languages or guess.confidence < _MIN_LANGUAGE_CONFIDENCE:
            return True
        return guess.share(self.supported_languages) >= _SUPPORTED_SHARE

    def _first_stage(self, text: str) -> tuple[Intent, float, LanguageGuess]:
        default = self.routes.default_route
        if not text.strip():
            return Intent(name=default, confidence=0.0, method="default"), 0.0, UNDETERMINED
        guess = self.language(text)
        scores = self.scores(text)
        ranked = sorted(scores.items(), key=lambda item: item[1], reverse=True)
        alternatives = {name: round(score, 4) for name, score in ranked[:_ALTERNATIVES]}
        best, confidence = ranked[0]
        if not self.understands(guess):
            # The embedding was not trained on this language: its probabilities are not evidence.
            confidence = min(confidence, self.unsupported_language_confidence)
            intent = self._intent(best, round(confidence, 4), "embedding-unsupported-language", alternatives)
        elif confidence >= self.threshold(best):
            intent = self._intent(best, round(confidence, 4), "embedding", alternatives)
        else:
            intent = Intent(
                name=default,
                confidence=round(scores[default], 4),
                method="default",
                alternatives=alternatives,
            )
        return intent, confidence, guess

    def route(self, text: str, *, deadline: float | None = None) -> RoutingOutcome:
        """Both stages: the model is asked only when stage one is unsure and a real model is configured."""
        first, confidence, guess = self._first_stage(text)
        language = guess.code if guess.confidence >= _MIN_LANGUAGE_CONFIDENCE else None
        top = next(iter(first.alternatives), first.name)
        unsure = first.method == "embedding-unsupported-language" or confidence < self.model_threshold(top)
        if not text.strip() or not unsure:
            return RoutingOutcome(intent=first, first_stage=first, language=language)
        llm = self._model()
        if llm is None or not llm.is_real_model:
            return RoutingOutcome(intent=first, first_stage=first, language=language)
        try:
            result = llm.chat(
                self._model_messages(text), response_format=self._verdict_schema(), deadline=deadline
            )
        except Exception as exc:  # any model failure leaves stage one's answer in place
            logger.warning("model routing failed, keeping the embedded classifier's answer: %s", exc)
            return RoutingOutcome(intent=first, first_stage=first, language=language)
        verdict = self._parse_verdict(result.text)
        if verdict is None:
            return RoutingOutcome(intent=first, first_stage=first, model_result=result, language=language)
        intent = self._intent(verdict.intent, round(verdict.confidence, 4), "llm", first.alternatives)
        return RoutingOutcome(intent=intent, first_stage=first, model_result=result, language=language)

    def _intent(
        self, route: str, confidence: float, method: IntentMethod, alternatives: dict[str, float]
    ) -> Intent:
        """The intent of a route; an agent's route is the ``external_agent`` intent naming the agent."""
        configured = self.routes.route(route)
        agent = configured.agent if configured is not None else None
        return Intent(
            name="external_agent" if agent else route,
            confidence=confidence,
            method=method,
            alternatives=alternatives,
            agent=agent,
        )

    def classify(self, text: str) -> Intent:
        return self.route(text).intent

    def classify_with_usage(self, text: str) -> tuple[Intent, TokenUsage | None]:
        outcome = self.route(text)
        return outcome.intent, outcome.usage

    def _model(self) -> LLMClient | None:
        if self._llm is None and self._llm_factory is not None:
            with self._llm_lock:
                factory, self._llm_factory = self._llm_factory, None
                if factory is not None:
                    try:
                        self._llm = factory()
                    except Exception as exc:  # a misconfigured provider must not break routing
                        logger.warning("no model for routing fallback: %s", exc)
        return self._llm

    def _verdict_schema(self) -> dict[str, object]:
        return {
            "title": "intent_classification",
            "type": "object",
            "properties": {
                "intent": {"type": "string", "enum": self.routes.names},
                "confidence": {"type": "number", "minimum": 0, "maximum": 1},
            },
            "required": ["intent", "confidence"],
            "additionalProperties": False,
        }

    def _model_messages(self, text: str) -> list[ChatMessage]:
        catalogue = "\n".join(f"- {route.name}: {route.description}" for route in self.routes.routes)
        system = (
            "You route requests inside an AI orchestrator. Pick the single route that fits the "
            f"user's request best.\nRoutes:\n{catalogue}\n"
            'Reply with JSON only: {"intent": "<route name>", "confidence": <number from 0 to 1>}.'
        )
        return [
            ChatMessage(role="system", content=system),
            ChatMessage(role="user", content=text[:_MODEL_PROMPT_CHARS]),
        ]

    def _parse_verdict(self, text: str) -> _ModelVerdict | None:
        match = _JSON_OBJECT.search(text or "")
        if match is None:
            logger.warning("model routing reply is not JSON; keeping the embedded classifier's answer")
            return None
        try:
            verdict = _ModelVerdict.model_validate(json.loads(match.group(0)))
        except (ValueError, ValidationError) as exc:
            logger.warning("model routing reply is invalid (%s); keeping the embedded answer", exc)
            return None
        if verdict.intent not in self.routes.names:
            logger.warning("model chose unknown route %r; keeping the embedded answer", verdict.intent)
            return None
        return verdict


def build_router(settings: Settings, llm_factory: LLMFactory | None = None) -> IntentRouter:
    """A router for these settings' routes and threshold (the container keeps one per process)."""
    from orchestrator.agents import agent_routes, load_agents
    from orchestrator.clients.embeddings.embedded import EmbeddedEmbedder

    routes = load_routes_from(settings.routes_config_path, settings.routes_ssm_parameter)
    # Each configured external agent is one more route, trained on its example utterances.
    extra = agent_routes(load_agents(settings), routes.names)
    if extra:
        routes = routes.model_copy(update={"routes": [*routes.routes, *extra]})
    # Always the embedded model: stage one must stay offline and sub-millisecond, and its
    # hyper-parameters and thresholds were chosen on these vectors.
    return IntentRouter(
        routes,
        EmbeddedEmbedder(),
        llm_threshold=settings.router_llm_threshold,
        llm_factory=llm_factory,
        unsupported_language_confidence=settings.router_unsupported_language_confidence,
    )
