"""The local runtime next to LangGraph and plain calls, on the same graph, nodes and moto backend.

One process: the local stack on moto (offline provider), then for each branch N requests,
interleaved across

* ``sfn``: the local runtime, i.e. the API's ``StartSyncExecution`` of the ChatStateMachine (the
  real ASL, moto's interpreter, the Lambda handlers in-process), via ``WorkflowRunner.run_sync``;
* ``api``: the same through the FastAPI app (``POST /v1/chat``, in-process ASGI);
* ``langgraph``: a LangGraph ``StateGraph`` that calls the same node entry points
  (``orchestrator.nodes.<x>.node.handle``) with the envelopes the ASL sends, conditional edges
  for the intent routing and ``Send`` fan-out for tool calls and plan waves;
* ``plain``: the same node calls as sequential Python.

Each request has its own session and run id, and ``no_cache`` except in the cached branch, so the
cache hides no work. The three graph paths must give the same answer for the same prompt.

    PYTHONPATH=layers/core .venv/bin/python bench/peer.py [--requests 100] [--quick]
"""

from __future__ import annotations

import argparse
import logging
import operator
import os
import statistics
import time
import uuid
from collections.abc import Callable
from typing import Annotated, Any, TypedDict

from common import percentile

os.environ["LLM_PROVIDER"] = "offline"  # before any settings are read; a .env must not change it
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")

USER = "peer-bench"
DOCUMENT = (
    "Annual plans can be refunded pro rata within 30 days of renewal. Monthly plans are not refundable."
)
BRANCHES: dict[str, tuple[str, bool]] = {  # name: (prompt, use the cache)
    "chat": ("Hi there! How are you doing this morning?", False),
    "rag": ("According to my documents, what does the refund policy say about annual plans?", False),
    "tool": ("Calculate 17 * (3 + 4) for me", False),
    "planning": ("First calculate 12 * 12, then write a haiku about the result.", False),
    "cached": ("Explain how a hash map works in simple terms.", True),
}

Event = dict[str, Any]
Handle = Callable[[Event], Event]


# ---------------------------------------------------------------------------- the node calls
def node_handles() -> dict[str, Handle]:
    """Each node's entry point as its Lambda handler calls it (``Node.handle``), by node name."""
    from orchestrator.nodes import (
        external_agent,
        grounding,
        intent_router,
        llm_agent,
        memory_store,
        planner,
        tool_executor,
    )

    nodes = (intent_router, grounding, tool_executor, planner, llm_agent, memory_store, external_agent)
    return {module.node.name: module.node.handle for module in nodes}


STEP_NODE = {"tool_executor", "grounding", "external_agent"}  # any other step runs on llm_agent


def classify(nodes: dict[str, Handle], state: Event) -> Event:
    return nodes["intent_router"]({"action": "route", "state": state, "execution_name": state["run_id"]})


def route(state: Event) -> str:
    """The ASL's "Route by intent" choice."""
    if isinstance(state.get("cached"), str):
        return "remember"
    name = (state.get("intent") or {}).get("name")
    return {"rag": "retrieve", "tool": "select", "external_agent": "external", "planning": "plan"}.get(
        str(name), "answer"
    )


def tool_items(state: Event) -> list[Event]:
    """The "Run tools" Map's ItemSelector applied to every call."""
    return [
        {
            "action": "execute",
            "call": call,
            "run_id": state["run_id"],
            "tenant_id": state["tenant_id"],
            "approval": state["approval"],
        }
        for call in state.get("tool_calls", [])
    ]


def step_node(step: Event) -> str:
    return step["node"] if step.get("node") in STEP_NODE else "llm_agent"


def after_select(state: Event) -> str:
    if state.get("approval", {}).get("status") == "required":
        raise RuntimeError("the bench's prompts never need approval")
    return "tools" if state.get("tool_calls") else "answer"


def plain_run(nodes: dict[str, Handle], state: Event) -> Event:
    """The state machine as sequential Python: same nodes, same envelopes, fan-outs in order."""
    state = classify(nodes, state)
    branch = route(state)
    if branch == "retrieve":
        state = nodes["grounding"]({"action": "retrieve", "state": state})
    elif branch == "external":
        state = nodes["external_agent"]({"action": "run", "state": state})
    elif branch == "select":
        state = nodes["tool_executor"]({"action": "select", "state": state})
        if after_select(state) == "tools":
            state["tool_results"] = [nodes["tool_executor"](item) for item in tool_items(state)]
    elif branch == "plan":
        state = nodes["planner"]({"action": "plan", "state": state})
        while state.get("pending_steps"):
            results = [
                nodes[step_node(step)]({"action": "step", "step": step, "state": state})
                for step in state["pending_steps"]
            ]
            state["wave_results"] = results
            state = nodes["planner"]({"action": "advance", "state": state, "wave_results": results})
    if branch != "remember":
        state = nodes["llm_agent"]({"action": "answer", "state": state})
    return nodes["memory_store"]({"action": "record", "state": state})


# ---------------------------------------------------------------------------- LangGraph
def _fan_in(current: list[Any], update: list[Any] | None) -> list[Any]:
    """Fan-out results accumulate; ``None`` empties the list for the next fan-out."""
    return [] if update is None else current + update


class PeerState(TypedDict, total=False):
    state: Event
    fan: Annotated[list[tuple[int, Event]], _fan_in]


def build_langgraph(nodes: dict[str, Handle]) -> Any:
    """The ASL's graph as a LangGraph ``StateGraph`` over the same node calls."""
    from langgraph.graph import END, START, StateGraph
    from langgraph.types import Send

    def task(node: str, action: str) -> Callable[[PeerState], PeerState]:
        def call(peer: PeerState) -> PeerState:
            return {"state": nodes[node]({"action": action, "state": peer["state"]})}

        return call

    def classify_node(peer: PeerState) -> PeerState:
        return {"state": classify(nodes, peer["state"])}

    def run_tool(item: Event) -> PeerState:
        return {"fan": [(item["index"], nodes["tool_executor"](item["event"]))]}

    def collect_tools(peer: PeerState) -> PeerState:
        state = dict(peer["state"])
        state["tool_results"] = [result for _, result in sorted(peer["fan"], key=operator.itemgetter(0))]
        return {"state": state, "fan": None}  # type: ignore[typeddict-item]

    def run_step(item: Event) -> PeerState:
        return {"fan": [(item["index"], nodes[item["node"]](item["event"]))]}

    def advance(peer: PeerState) -> PeerState:
        state = dict(peer["state"])
        state["wave_results"] = [result for _, result in sorted(peer["fan"], key=operator.itemgetter(0))]
        event = {"action": "advance", "state": state, "wave_results": state["wave_results"]}
        return {"state": nodes["planner"](event), "fan": None}  # type: ignore[typeddict-item]

    def send_tools(peer: PeerState) -> Any:
        items = tool_items(peer["state"])
        return [Send("run_tool", {"index": i, "event": event}) for i, event in enumerate(items)]

    def steps_left(peer: PeerState) -> Any:
        state = peer["state"]
        if not state.get("pending_steps"):
            return "answer"
        return [
            Send(
                "run_step",
                {
                    "index": i,
                    "node": step_node(step),
                    "event": {"action": "step", "step": step, "state": state},
                },
            )
            for i, step in enumerate(state["pending_steps"])
        ]

    graph = StateGraph(PeerState)
    graph.add_node("classify", classify_node)
    graph.add_node("retrieve", task("grounding", "retrieve"))
    graph.add_node("external", task("external_agent", "run"))
    graph.add_node("select", task("tool_executor", "select"))
    graph.add_node("run_tool", run_tool)
    graph.add_node("collect_tools", collect_tools)
    graph.add_node("plan", task("planner", "plan"))
    graph.add_node("run_step", run_step)
    graph.add_node("advance", advance)
    graph.add_node("answer", task("llm_agent", "answer"))
    graph.add_node("remember", task("memory_store", "record"))
    graph.add_edge(START, "classify")
    graph.add_conditional_edges(
        "classify",
        lambda peer: route(peer["state"]),
        ["remember", "retrieve", "select", "external", "plan", "answer"],
    )
    graph.add_edge("retrieve", "answer")
    graph.add_edge("external", "remember")
    graph.add_conditional_edges(
        "select",
        lambda peer: send_tools(peer) if after_select(peer["state"]) == "tools" else "answer",
        ["run_tool", "answer"],
    )
    graph.add_edge("run_tool", "collect_tools")
    graph.add_edge("collect_tools", "answer")
    graph.add_conditional_edges("plan", steps_left, ["run_step", "answer"])
    graph.add_edge("run_step", "advance")
    graph.add_conditional_edges("advance", steps_left, ["run_step", "answer"])
    graph.add_edge("answer", "remember")
    graph.add_edge("remember", END)
    return graph.compile()


# ---------------------------------------------------------------------------- the bench
def new_state(prompt: str, cached: bool) -> Any:
    from orchestrator.state import GraphState

    metadata = {} if cached else {"no_cache": True}
    return GraphState(user_id=USER, session_id=uuid.uuid4().hex, prompt=prompt, metadata=metadata)


def answer_of(state: Event) -> tuple[Any, ...]:
    """What must agree across the three paths: intent, tool results, step outputs, answer."""
    response = state.get("response") or {}
    return (
        (state.get("intent") or {}).get("name"),
        [(r["name"], r["ok"], r["output"]) for r in state.get("tool_results", [])],
        sorted((r.get("step_id"), r.get("ok"), r.get("output")) for r in state.get("results", [])),
        response.get("text"),
        [c["doc_id"] for c in response.get("citations", [])],
        isinstance(state.get("cached"), str),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--requests", type=int, default=100, help="requests per branch and path")
    parser.add_argument("--quick", action="store_true", help="20 requests per branch and path")
    parser.add_argument("--branches", default=",".join(BRANCHES), help="comma-separated subset")
    args = parser.parse_args()
    requests = 20 if args.quick else max(1, min(args.requests, 2000))
    branches = [name for name in args.branches.split(",") if name]
    logging.basicConfig(level=logging.WARNING)

    from fastapi.testclient import TestClient

    from orchestrator import container
    from orchestrator.api import create_app
    from orchestrator.local.server import local_stack
    from orchestrator.workflow import WorkflowRunner

    started = time.perf_counter()
    with local_stack():
        current = container.current()
        current.router.classify("warm up")
        current.retriever.store.ingest("default", USER, "Refund policy", DOCUMENT, doc_id="refund-policy")
        print(f"local stack ready in {time.perf_counter() - started:.2f} s; {requests} requests per branch")
        runner = WorkflowRunner(current.settings)
        nodes = node_handles()
        graph = build_langgraph(nodes)
        paths: dict[str, Callable[[Any], Event]] = {
            "sfn": lambda state: runner.run_sync(state).model_dump(mode="json"),
            "langgraph": lambda state: graph.invoke({"state": state.model_dump(mode="json")})["state"],
            "plain": lambda state: plain_run(nodes, state.model_dump(mode="json")),
        }
        with TestClient(create_app()) as client:

            def through_api(state: Any) -> Event:
                body = {"prompt": state.prompt, "user_id": state.user_id, "session_id": state.session_id}
                response = client.post("/v1/chat", json={**body, "metadata": state.metadata})
                response.raise_for_status()
                return {"response": {"text": response.json()["response"]}}

            paths["api"] = through_api
            rows = [run_branch(name, *BRANCHES[name], paths, requests) for name in branches]
    print_table(rows, requests)


def run_branch(
    name: str, prompt: str, cached: bool, paths: dict[str, Callable[[Any], Event]], requests: int
) -> dict[str, Any]:
    # Warm-up (and, for the cached branch, the entry every later request hits), then check that
    # the graph paths agree before timing them.
    answers = {
        path: answer_of(call(new_state(prompt, cached))) for path, call in paths.items() if path != "api"
    }
    answers = {
        path: answer_of(call(new_state(prompt, cached))) for path, call in paths.items() if path != "api"
    }
    reference = answers["sfn"]
    for path, answer in answers.items():
        assert answer == reference, f"{name}: {path} answered {answer!r}, the state machine {reference!r}"
    assert reference[5] is cached, f"{name}: cached={reference[5]}, expected {cached}"
    api_text = paths["api"](new_state(prompt, cached))["response"]["text"]
    assert api_text == reference[3], f"{name}: /v1/chat answered {api_text!r}"
    latencies: dict[str, list[float]] = {path: [] for path in paths}
    for _ in range(requests):
        for path, call in paths.items():  # interleaved: drift hits every path alike
            state = new_state(prompt, cached)
            t0 = time.perf_counter()
            call(state)
            latencies[path].append((time.perf_counter() - t0) * 1000)
    return {"branch": name, **{path: values for path, values in latencies.items()}}


def print_table(rows: list[dict[str, Any]], requests: int) -> None:
    paths = ("sfn", "api", "langgraph", "plain")
    header = "| branch | " + " | ".join(f"{p} p50 / p95 ms" for p in paths) + " | sfn / langgraph (p50) |"
    print()
    print(header)
    print("|" + "---|" * (len(paths) + 2))
    for row in rows:
        cells = [f"{statistics.median(row[p]):.1f} / {percentile(row[p], 0.95):.1f}" for p in paths]
        ratio = statistics.median(row["sfn"]) / statistics.median(row["langgraph"])
        print(f"| {row['branch']} | " + " | ".join(cells) + f" | {ratio:.2f}x |")
    print(f"\n{requests} requests per branch and path, interleaved; ms per request.")


if __name__ == "__main__":
    main()
