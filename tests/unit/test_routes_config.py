"""Routes are configuration: packaged default, a file path, or an SSM parameter; new routes need no code."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from orchestrator.clients.embeddings.embedded import EmbeddedEmbedder
from orchestrator.config import Settings
from orchestrator.errors import ConfigurationError
from orchestrator.reasoning.router import IntentRouter
from orchestrator.reasoning.routes import DEFAULT_ROUTES_PATH, load_routes
from tests.support.aws import mocked_parameter_store

DEFAULT_INTENTS = ["chat", "rag", "tool", "external_agent", "planning"]


def _settings(**values: Any) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def _default_document() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(DEFAULT_ROUTES_PATH.read_text(encoding="utf-8"))
    return document


@pytest.fixture(scope="module")
def embedder() -> EmbeddedEmbedder:
    return EmbeddedEmbedder()


@pytest.fixture
def ssm(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    with mocked_parameter_store(monkeypatch, "ssm") as client:
        yield client


def test_packaged_routes_are_the_five_default_intents_with_their_nodes() -> None:
    routes = load_routes(_settings())

    assert routes.names == DEFAULT_INTENTS
    assert routes.default_route == "chat"
    nodes = {route.name: route.node for route in routes.routes}
    assert nodes == {
        "chat": "llm_agent",
        "rag": "grounding",
        "tool": "tool_executor",
        "external_agent": "external_agent",
        "planning": "llm_agent",
    }
    assert all(len(route.examples) >= 20 and route.description for route in routes.routes)


def test_packaged_examples_do_not_copy_the_shared_dev_set() -> None:
    dev_path = Path(__file__).resolve().parents[3] / "shared" / "intents" / "dev.jsonl"
    if not dev_path.exists():
        pytest.skip("shared dev set not present")
    dev = {json.loads(line)["text"].lower() for line in dev_path.read_text().splitlines() if line.strip()}
    examples = {text.lower() for route in load_routes(_settings()).routes for text in route.examples}

    assert not dev & examples


def test_a_config_file_overrides_the_packaged_routes(tmp_path: Path) -> None:
    document = _default_document()
    document["default_route"] = "rag"
    path = tmp_path / "routes.json"
    path.write_text(json.dumps(document))

    routes = load_routes(_settings(routes_config_path=str(path)))

    assert routes.default_route == "rag"


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["routes"].append(dict(d["routes"][0])), "unique"),
        (lambda d: d.update(default_route="nowhere"), "default_route"),
        (lambda d: d["routes"][0].update(examples=[]), "examples"),
        (lambda d: d["routes"][0].update(node="warp_drive"), "node"),
    ],
)
def test_an_invalid_routes_file_fails_fast_naming_the_problem(
    tmp_path: Path, mutate: Any, message: str
) -> None:
    document = _default_document()
    mutate(document)
    path = tmp_path / "routes.json"
    path.write_text(json.dumps(document))

    with pytest.raises(ConfigurationError) as caught:
        load_routes(_settings(routes_config_path=str(path)))

    assert message in caught.value.message
    assert caught.value.details["source"] == str(path)


def test_a_missing_routes_file_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot read routes"):
        load_routes(_settings(routes_config_path=str(tmp_path / "absent.json")))


def test_routes_come_from_ssm_when_no_file_is_set(ssm: Any) -> None:
    document = _default_document()
    document["default_route"] = "tool"
    ssm.put_parameter(Name="/orchestrator/test/routes", Value=json.dumps(document), Type="String")

    routes = load_routes(_settings(routes_ssm_parameter="/orchestrator/test/routes"))

    assert routes.default_route == "tool"
    assert routes.names == DEFAULT_INTENTS


def test_a_missing_ssm_parameter_is_a_configuration_error(ssm: Any) -> None:
    with pytest.raises(ConfigurationError, match="SSM parameter"):
        load_routes(_settings(routes_ssm_parameter="/orchestrator/test/absent"))


def test_a_route_added_in_a_config_file_is_chosen_for_requests_like_its_examples(
    tmp_path: Path, embedder: EmbeddedEmbedder
) -> None:
    # Given a routes file with one more route and no code change
    document = _default_document()
    document["routes"].append(
        {
            "name": "travel_booking",
            "description": "Book or change trips: flights, trains, hotels, rental cars.",
            "node": "tool_executor",
            "keywords": ["book*", "reserve", "reservation", "flight*", "hotel*", "itinerary"],
            "examples": [
                "Book me a flight from Madrid to Rome next Friday.",
                "Reserve a hotel room in Berlin for two nights.",
                "Change my train reservation to the earlier departure.",
                "Find and book a rental car at the Lisbon airport.",
                "Cancel my hotel booking for the conference.",
                "Get me a window seat on the morning flight to London.",
                "I need a double room near the venue from the 3rd to the 5th.",
                "Rebook my connecting flight, the first one is delayed.",
            ],
        }
    )
    path = tmp_path / "routes.json"
    path.write_text(json.dumps(document))
    router = IntentRouter(load_routes(_settings(routes_config_path=str(path))), embedder)

    # When requests phrased like its examples arrive
    intents = [
        router.classify("Please book a flight to Oslo for Monday morning."),
        router.classify("Reserve two hotel nights in Vienna next week."),
    ]

    # Then the new route wins, and the old routes still work
    assert [intent.name for intent in intents] == ["travel_booking", "travel_booking"]
    assert router.classify("What's our customer churn by cohort this year?").name == "external_agent"


def test_the_container_builds_one_router_per_configuration(tmp_path: Path) -> None:
    from orchestrator.container import Container

    path = tmp_path / "routes.json"
    path.write_text(json.dumps(_default_document()))
    container = Container(_settings())

    first, again = container.router, container.router
    other = Container(_settings(routes_config_path=str(path))).router

    assert first is again
    assert other is not first
    assert other.threshold("chat") == first.threshold("chat")
