"""The state machine as a graph of nodes and edges, read from the ASL itself (the Studio draws it).

Never a hand-drawn copy: locally the definition is the file ``template.yaml`` names in the state
machine's ``DefinitionUri``; on AWS (no template beside the layer) it is the deployed definition,
read with ``states:DescribeStateMachine``. :func:`asl_graph` is plain Python over the definition:
every state becomes a node (a Map's inner states name the Map as their ``parent``), and every
transition an edge: ``next``, ``choice`` (labelled with its rule), ``default``, ``catch``
(labelled with the error names) and ``start`` (a Map to its iterator's first state).
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from orchestrator.errors import ConfigurationError

Machine = Literal["chat", "runs"]
EdgeKind = Literal["next", "choice", "default", "catch", "retry-none", "start"]

#: The template's logical id of each state machine the API starts.
STATE_MACHINES: dict[str, str] = {"chat": "ChatStateMachine", "runs": "RunsStateMachine"}
#: Where ``template.yaml`` is in a checkout (layers/core/orchestrator/monitoring/ → repository root).
REPO_ROOT = Path(__file__).resolve().parents[4]

#: ``${IntentRouterFunctionArn}`` (the file) or a deployed name ``stack-IntentRouterFunction-Ab12``.
_SUBSTITUTION = re.compile(r"^\$\{(\w+?)Arn\}$")
_LOGICAL_ID = re.compile(r"([A-Z][A-Za-z0-9]*Function)(?:-[A-Za-z0-9]+)?$")
_COMPARATORS = {
    "StringEquals": "==",
    "NumericEquals": "==",
    "BooleanEquals": "==",
    "StringMatches": "matches",
    "IsPresent": "present",
    "IsString": "is string",
    "IsNull": "is null",
    "NumericGreaterThan": ">",
    "NumericLessThan": "<",
    "NumericGreaterThanEquals": ">=",
    "NumericLessThanEquals": "<=",
}


class GraphNode(BaseModel):
    id: str
    type: str
    #: The Map or Parallel state this state runs inside; None at the top level.
    parent: str | None = None
    #: The template's logical id of the Lambda a Task invokes (``IntentRouterFunction``).
    function: str | None = None
    #: The node action a Task sends (``classify``, ``route``, ``execute``…).
    action: str | None = None
    comment: str | None = None
    #: Whether the state ends its (sub)graph: ``End``, Succeed or Fail.
    end: bool = False


class GraphEdge(BaseModel):
    source: str
    target: str
    kind: EdgeKind
    label: str | None = None


class StateMachineGraph(BaseModel):
    machine: Machine
    start_at: str
    nodes: list[GraphNode] = Field(default_factory=list)
    edges: list[GraphEdge] = Field(default_factory=list)
    #: The raw ASL, as read.
    definition: dict[str, Any]


def function_of(task: dict[str, Any]) -> str | None:
    """The logical id of the function a Task invokes, from the file's substitution or a deployed ARN."""
    parameters = task.get("Parameters") or {}
    name = parameters.get("FunctionName") or task.get("Resource")
    if not isinstance(name, str):
        return None
    substituted = _SUBSTITUTION.match(name)
    if substituted:
        return substituted.group(1)
    deployed = _LOGICAL_ID.search(name.split(":")[-1] if ":function:" in name else name)
    return deployed.group(1) if deployed else None


def action_of(task: dict[str, Any]) -> str | None:
    payload = (task.get("Parameters") or {}).get("Payload")
    action = payload.get("action") if isinstance(payload, dict) else None
    return action if isinstance(action, str) else None


def describe_rule(rule: dict[str, Any]) -> str:
    """A Choice rule as a short label: ``$.intent.name == rag``, ``a and b``, ``not a``."""
    if "And" in rule:
        return " and ".join(describe_rule(r) for r in rule["And"])
    if "Or" in rule:
        return " or ".join(describe_rule(r) for r in rule["Or"])
    if "Not" in rule:
        return f"not ({describe_rule(rule['Not'])})"
    variable = str(rule.get("Variable", "?"))
    for key, value in rule.items():
        if key in ("Variable", "Next"):
            continue
        operator = _COMPARATORS.get(key.removesuffix("Path"), key)
        if isinstance(value, bool) and key in ("IsPresent", "IsString", "IsNull"):
            return f"{variable} {operator}" if value else f"{variable} not {operator}"
        return f"{variable} {operator} {json.dumps(value) if not isinstance(value, str) else value}"
    return variable


def asl_graph(definition: dict[str, Any], machine: Machine = "chat") -> StateMachineGraph:
    """Every state of ``definition`` as a node and every transition as an edge."""
    graph = StateMachineGraph(
        machine=machine, start_at=str(definition.get("StartAt", "")), definition=definition
    )
    _add_states(graph, definition.get("States") or {}, parent=None)
    return graph


def _add_states(graph: StateMachineGraph, states: dict[str, Any], parent: str | None) -> None:
    for name, state in states.items():
        kind = str(state.get("Type", ""))
        task = kind == "Task"
        graph.nodes.append(
            GraphNode(
                id=name,
                type=kind,
                parent=parent,
                function=function_of(state) if task else None,
                action=action_of(state) if task else None,
                comment=state.get("Comment"),
                end=bool(state.get("End")) or kind in ("Succeed", "Fail"),
            )
        )
        if "Next" in state:
            graph.edges.append(GraphEdge(source=name, target=state["Next"], kind="next"))
        for rule in state.get("Choices") or []:
            graph.edges.append(
                GraphEdge(source=name, target=rule["Next"], kind="choice", label=describe_rule(rule))
            )
        if "Default" in state:
            graph.edges.append(GraphEdge(source=name, target=state["Default"], kind="default"))
        for catch in state.get("Catch") or []:
            label = ", ".join(catch.get("ErrorEquals") or [])
            graph.edges.append(GraphEdge(source=name, target=catch["Next"], kind="catch", label=label))
        branches = [state[key] for key in ("ItemProcessor", "Iterator") if key in state]
        branches += state.get("Branches") or []
        for branch in branches:
            graph.edges.append(GraphEdge(source=name, target=branch["StartAt"], kind="start"))
            _add_states(graph, branch.get("States") or {}, parent=name)


def definition_from_template(template_path: Path, machine: Machine) -> dict[str, Any]:
    """The ASL file the template's state machine names in ``DefinitionUri``."""
    uri = _definition_uri(str(template_path), template_path.stat().st_mtime_ns, STATE_MACHINES[machine])
    loaded: dict[str, Any] = json.loads((template_path.parent / uri).read_text(encoding="utf-8"))
    return loaded


@lru_cache(maxsize=8)
def _definition_uri(template_path: str, mtime_ns: int, logical_id: str) -> str:
    # Parsing the template takes a quarter of a second; it changes only when edited (mtime).
    from orchestrator.local.template import load_template

    del mtime_ns  # part of the cache key only
    template = load_template(Path(template_path))
    return str(template["Resources"][logical_id]["Properties"]["DefinitionUri"])


def definition_from_aws(arn: str | None, client: Any) -> dict[str, Any]:
    """The deployed definition (``states:DescribeStateMachine``)."""
    if not arn:
        raise ConfigurationError("The state machine's ARN is not configured; there is no graph to show.")
    described = client.describe_state_machine(stateMachineArn=arn)
    loaded: dict[str, Any] = json.loads(described["definition"])
    return loaded


def load_graph(
    machine: Machine,
    *,
    arn: str | None,
    region: str | None = None,
    client: Any | None = None,
    template_path: Path | None = None,
) -> StateMachineGraph:
    """The graph of ``machine``: from the template's ASL file when there is one, else from AWS."""
    path = template_path if template_path is not None else REPO_ROOT / "template.yaml"
    if path.is_file():
        return asl_graph(definition_from_template(path, machine), machine)
    from orchestrator.aws.boto import build_boto3_client

    return asl_graph(
        definition_from_aws(arn, build_boto3_client("stepfunctions", region=region, client=client)), machine
    )
