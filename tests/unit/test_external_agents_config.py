"""Given several external agents as configuration, then each is a route of the router, requests
reach the right agent through the one ``external_agent`` branch, and the state machine is untouched."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from orchestrator.agents import AgentRegistry, ExternalAgentsConfig, agent_routes, load_agents
from orchestrator.agents.config import parse_agents
from orchestrator.clients.a2a_agent import A2AAgentClient
from orchestrator.clients.external_agent import AgentHealth, ExternalAgentClient, ExternalAgentReply
from orchestrator.config import Settings
from orchestrator.errors import ConfigurationError
from orchestrator.nodes import external_agent
from orchestrator.reasoning.decompose import heuristic_plan
from orchestrator.reasoning.router import IntentRouter, build_router
from orchestrator.state import GraphState, Intent
from tests.support.fakes import deadline_in

ROOT = Path(__file__).resolve().parents[2]
ASL = ROOT / "statemachine" / "orchestrator.asl.json"

AGENTS = {
    "agents": [
        {
            "name": "billing",
            "description": "Invoices, refunds, payment methods and charges on the customer's account.",
            "examples": [
                "Why was I charged twice this month?",
                "Refund my last invoice, please.",
                "Update the credit card on file for my subscription.",
                "When is my next invoice due?",
                "I was billed for a plan I cancelled.",
                "Send me a copy of the March invoice.",
            ],
            "url": "https://billing.agents.internal",
            "protocol": "a2a",
            "auth_secret_id": "/orchestrator/test/agents/billing",
        },
        {
            "name": "logistics",
            "description": "Shipments, deliveries, parcel tracking, carriers and warehouse stock.",
            "examples": [
                "Where is my parcel right now?",
                "Track shipment 1Z999 for me.",
                "When will my order be delivered?",
                "Which carrier is handling my delivery?",
                "My package has been stuck in transit for a week.",
                "Is the blue jacket in stock at the warehouse?",
            ],
            "url": "http://logistics.agents.internal:8080/",
            "protocol": "http",
            "auth_token_env": "LOGISTICS_AGENT_TOKEN",
        },
    ]
}

UNSEEN = {
    "billing": ["Why did my card get charged two times?", "Can I get my money back for the last invoice?"],
    "logistics": ["Where is my package?", "Has my order shipped yet, and with which carrier?"],
}


@pytest.fixture(scope="module")
def agents_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("agents") / "agents.json"
    path.write_text(json.dumps(AGENTS), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def settings(agents_file: Path) -> Settings:
    return Settings(_env_file=None, external_agents_config_path=str(agents_file))  # type: ignore[call-arg]


@pytest.fixture(scope="module")
def router(settings: Settings) -> IntentRouter:
    return build_router(settings)


def test_agents_load_from_a_file(settings: Settings) -> None:
    agents = load_agents(settings)

    assert [a.name for a in agents.agents] == ["billing", "logistics"]
    assert agents.agents[1].url == "http://logistics.agents.internal:8080"


def test_bad_agents_configuration_fails_fast() -> None:
    with pytest.raises(ConfigurationError, match="unique"):
        parse_agents([AGENTS["agents"][0], AGENTS["agents"][0]], source="test")
    with pytest.raises(ConfigurationError, match="token"):
        parse_agents([{**AGENTS["agents"][0], "token": "inline-secrets-are-refused"}], source="test")
    with pytest.raises(ConfigurationError, match="name of a route"):
        agent_routes(parse_agents([{**AGENTS["agents"][0], "name": "rag"}], source="t"), ["chat", "rag"])


@pytest.mark.parametrize(("agent", "prompt"), [(a, p) for a, prompts in UNSEEN.items() for p in prompts])
def test_each_agents_utterances_route_to_it_through_the_external_agent_intent(
    router: IntentRouter, agent: str, prompt: str
) -> None:
    intent = router.classify(prompt)

    assert (intent.name, intent.agent) == ("external_agent", agent)


def test_the_packaged_routes_still_route_as_before(router: IntentRouter) -> None:
    assert router.classify("Explain recursion like I'm five.").name == "chat"
    assert router.classify("Calculate 17 * (3 + 4)").name == "tool"
    legacy = router.classify("Which customer segments churned the most last quarter?")
    assert (legacy.name, legacy.agent) == ("external_agent", None)


def test_a_plan_step_on_an_agents_route_names_the_agent(router: IntentRouter) -> None:
    steps = heuristic_plan("First track shipment 1Z999 for me, then write a haiku about it.", router, 6)

    assert steps[0].node == "external_agent"
    assert steps[0].inputs["agent"] == "logistics"


def test_registry_builds_each_agent_for_its_protocol(settings: Settings) -> None:
    registry = AgentRegistry.from_settings(settings)

    assert isinstance(registry.get("billing"), A2AAgentClient)
    assert isinstance(registry.get("logistics"), ExternalAgentClient)
    assert registry.get("external_agent") is None  # no EXTERNAL_AGENT_BASE_URL
    assert registry.get("nobody") is None
    assert registry.names == ["billing", "logistics"]


def test_the_legacy_base_url_is_the_agent_named_external_agent(agents_file: Path) -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        external_agents_config_path=str(agents_file),
        external_agent_base_url="http://127.0.0.1:9",
    )

    registry = AgentRegistry.from_settings(settings)

    assert isinstance(registry.get("external_agent"), ExternalAgentClient)
    assert registry.names == ["external_agent", "billing", "logistics"]


class FakeAgent:
    def __init__(self, name: str) -> None:
        self.name = name
        self.prompts: list[str] = []

    def run(self, prompt: str, **kwargs: Any) -> ExternalAgentReply:
        self.prompts.append(prompt)
        return ExternalAgentReply(text=f"{self.name} says hi", agent=self.name)

    def health(self) -> AgentHealth:
        return AgentHealth(ok=True, latency_ms=0.0)

    def close(self) -> None:
        pass


def run_node(intent: Intent, registry: AgentRegistry) -> GraphState:
    state = GraphState(user_id="u1", prompt="Where is my parcel?", intent=intent)
    out = external_agent.node.run(
        {"action": "run", "state": state.model_dump(mode="json")},
        external_agent.ExternalAgentDeps(agents=registry),
        deadline=deadline_in(),
    )
    return GraphState.model_validate(out)


def test_the_node_calls_the_agent_the_intent_names() -> None:
    billing, logistics = FakeAgent("billing"), FakeAgent("logistics")
    registry = AgentRegistry(clients={"billing": billing, "logistics": logistics})  # type: ignore[dict-item]

    state = run_node(
        Intent(name="external_agent", confidence=0.9, method="embedding", agent="logistics"), registry
    )

    assert state.response is not None and state.response.text == "logistics says hi"
    assert logistics.prompts == ["Where is my parcel?"] and billing.prompts == []


def test_an_unknown_agent_is_a_clear_answer() -> None:
    state = run_node(
        Intent(name="external_agent", confidence=0.9, method="embedding", agent="gone"), AgentRegistry()
    )

    assert state.response is not None and "No external agent named 'gone'" in state.response.text
    assert state.results[-1].error == "not_configured"


def test_adding_agents_needs_no_state_machine_change() -> None:
    """The committed ASL has one external_agent branch and names no configured agent."""
    text = ASL.read_text(encoding="utf-8")
    definition = json.loads(text)
    choice = definition["States"]["Route by intent"]

    targets = {c["StringEquals"]: c["Next"] for c in choice["Choices"] if "StringEquals" in c}
    assert targets["external_agent"] == "Call external agent"
    assert choice["Default"] == "Answer with model"
    for agent in ExternalAgentsConfig.model_validate(AGENTS).agents:
        assert agent.name not in text
