"""Given the real ASL file, the Studio graph has every state and transition of it, no more; on AWS
the same graph comes from the deployed definition (DescribeStateMachine, here on moto)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
from moto import mock_aws

from orchestrator.monitoring.graph import asl_graph, describe_rule, function_of, load_graph

ROOT = Path(__file__).resolve().parents[2]
ASL: dict[str, Any] = json.loads((ROOT / "statemachine" / "orchestrator.asl.json").read_text())


def _states(
    states: dict[str, Any], parent: str | None = None
) -> dict[str, tuple[dict[str, Any], str | None]]:
    found = {}
    for name, state in states.items():
        found[name] = (state, parent)
        if "ItemProcessor" in state:
            found |= _states(state["ItemProcessor"]["States"], name)
    return found


def test_every_state_is_a_node_with_its_type_parent_function_and_action() -> None:
    graph = asl_graph(ASL)
    states = _states(ASL["States"])

    assert [n.id for n in graph.nodes] == list(states)
    for node in graph.nodes:
        state, parent = states[node.id]
        assert (node.type, node.parent, node.comment) == (state["Type"], parent, state.get("Comment"))
        if state["Type"] == "Task":
            assert f"${{{node.function}Arn}}" == state["Parameters"]["FunctionName"]
            assert node.action == state["Parameters"]["Payload"]["action"]
        else:
            assert node.function is None and node.action is None
        assert node.end == (bool(state.get("End")) or state["Type"] in ("Succeed", "Fail"))
    assert graph.start_at == ASL["StartAt"] and graph.definition == ASL


def test_every_transition_is_an_edge_of_its_kind() -> None:
    graph = asl_graph(ASL)
    expected = set()
    for name, (state, _) in _states(ASL["States"]).items():
        if "Next" in state:
            expected.add((name, state["Next"], "next"))
        expected |= {(name, rule["Next"], "choice") for rule in state.get("Choices", [])}
        if "Default" in state:
            expected.add((name, state["Default"], "default"))
        expected |= {(name, catch["Next"], "catch") for catch in state.get("Catch", [])}
        if "ItemProcessor" in state:
            expected.add((name, state["ItemProcessor"]["StartAt"], "start"))

    edges = {(e.source, e.target, e.kind) for e in graph.edges}

    assert edges == expected
    node_ids = {n.id for n in graph.nodes}
    assert all(e.source in node_ids and e.target in node_ids for e in graph.edges)
    (tools_start,) = [e for e in graph.edges if e.source == "Run tools" and e.kind == "start"]
    assert tools_start.target == "Run tool call"
    labels = {e.label for e in graph.edges if e.source == "Route by intent" and e.kind == "choice"}
    assert "$.intent.name == rag" in labels and "$.cached is string" in labels
    catch = next(e for e in graph.edges if e.kind == "catch" and e.source == "Wait for approval")
    assert catch.label == "ApprovalRejectedError, States.Timeout"


def test_choice_rules_read_as_short_labels() -> None:
    rule = {
        "And": [{"Variable": "$.a", "IsPresent": True}, {"Not": {"Variable": "$.b", "BooleanEquals": True}}]
    }

    assert describe_rule(rule) == "$.a present and not ($.b == true)"
    assert describe_rule({"Variable": "$.n", "NumericGreaterThanPath": "$.m"}) == "$.n > $.m"


def test_a_deployed_function_arn_is_read_back_as_its_logical_id() -> None:
    deployed = "arn:aws:lambda:eu-west-1:123456789012:function:orchestrator-dev-IntentRouterFunction-Ab12Cd34"

    assert function_of({"Parameters": {"FunctionName": deployed}}) == "IntentRouterFunction"
    assert function_of({"Parameters": {"FunctionName": "${PlannerFunctionArn}"}}) == "PlannerFunction"
    assert function_of({"Resource": "arn:aws:states:::lambda:invoke"}) is None


def test_on_aws_the_graph_is_the_deployed_definition(tmp_path: Path) -> None:
    deployed = json.loads(
        json.dumps(ASL).replace(
            "${IntentRouterFunctionArn}",
            "arn:aws:lambda:us-east-1:123456789012:function:orchestrator-dev-IntentRouterFunction-X1",
        )
    )
    with mock_aws():
        client = boto3.client("stepfunctions", region_name="us-east-1")
        arn = client.create_state_machine(
            name="chat",
            definition=json.dumps(deployed),
            roleArn="arn:aws:iam::123456789012:role/sfn",
            type="EXPRESS",
        )["stateMachineArn"]

        graph = load_graph("runs", arn=arn, client=client, template_path=tmp_path / "no-template.yaml")

    assert graph.machine == "runs" and graph.definition == deployed
    router = next(n for n in graph.nodes if n.id == "Classify intent")
    assert router.function == "IntentRouterFunction" and router.action == "route"
    assert len(graph.nodes) == len(_states(ASL["States"]))


def test_locally_the_graph_is_the_file_the_template_names() -> None:
    assert load_graph("chat", arn=None).definition == ASL
