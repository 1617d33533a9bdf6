"""Given the local stack (moto, the real ASL, the real handlers), a run record explains itself:
one span per node action in order, the decisions taken, and why a model's plan was not used; the
Studio API lists runs, streams a run's progress, draws the graph from the ASL and searches documents."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from orchestrator.local.runtime import LocalRuntime
from tests.e2e.conftest import chat, reconfigured
from tests.support.fake_openai import CHAT, FakeOpenAIServer, ScriptedReply, completion

ASL = json.loads((Path(__file__).resolve().parents[2] / "statemachine" / "orchestrator.asl.json").read_text())


def user() -> str:
    return f"trace-{uuid.uuid4().hex[:8]}"


def record_of(client: TestClient, run_id: str) -> dict[str, Any]:
    response = client.get(f"/v1/runs/{run_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_a_plan_runs_record_shows_each_node_in_order_and_the_plans_source(client: TestClient) -> None:
    prompt = "First calculate 12 * 12, then write a short haiku that mentions the result."

    response = chat(client, prompt, user())

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["planning"] == {"source": "rule-based", "steps": len(body["plan"]), "rejected": None}
    trace = record_of(client, body["run_id"])["trace"]
    order = [(span["node"], span["action"]) for span in trace]
    steps = [span for span in trace if span["action"] == "step"]
    assert order[:2] == [("intent_router", "route"), ("planner", "plan")]
    assert order[-2:] == [("llm_agent", "answer"), ("memory_store", "record")]
    assert {s["step_id"] for s in steps} == {item["step"]["id"] for item in body["plan"]}
    assert ("planner", "advance") in order
    router, planner = trace[0], trace[1]
    assert router["function"] == "IntentRouterFunction" and router["decision"]["intent"] == "planning"
    assert set(router["decision"]) >= {"confidence", "method", "alternatives", "cache"}
    assert planner["decision"] == body["planning"]
    tool_step = next(s for s in steps if s["node"] == "tool_executor")
    assert tool_step["decision"] == {"tools": ["calculator"], "chosen_by": "rules"}
    assert "144" in tool_step["output"]
    starts = [span["started_at"] for span in trace]
    assert starts == sorted(starts)
    for span in trace:
        assert span["duration_ms"] >= 0 and span["retries"] == 0 and span["error"] is None
        assert len(span["input"]) <= 400 and len(span["output"]) <= 400


def test_a_tool_turn_traces_each_map_iteration_once(client: TestClient) -> None:
    response = chat(client, "Calculate 17 * (3 + 4) for me", user())

    assert response.status_code == 200, response.text
    trace = record_of(client, response.json()["run_id"])["trace"]
    order = [(span["node"], span["action"]) for span in trace]
    assert order == [
        ("intent_router", "route"),
        ("tool_executor", "select"),
        ("tool_executor", "execute"),
        ("llm_agent", "answer"),
        ("memory_store", "record"),
    ]
    assert trace[2]["input"].startswith("calculator(") and "119" in trace[2]["output"]
    assert response.json()["tool_results"][0]["span"] is None  # folded into the trace, not repeated


@pytest.fixture
def bad_planner() -> Iterator[FakeOpenAIServer]:
    """A real (fake) model whose plans never validate; everything else it answers plainly."""

    def respond(path: str, body: dict[str, Any]) -> ScriptedReply | None:
        wanted = (body.get("response_format") or {}).get("json_schema", {}).get("name")
        if path == CHAT and wanted == "plan":
            one_step = {"steps": [{"id": "s1", "description": "all", "node": "llm_agent", "depends_on": []}]}
            return ScriptedReply(body=completion(body, text=json.dumps(one_step)))
        return None

    with (
        FakeOpenAIServer(models=["gpt-test"]) as server,
        reconfigured(
            LLM_PROVIDER="openai",
            LLM_BASE_URL=server.url,
            LLM_DEFAULT_MODEL="gpt-test",
            LLM_API_KEY="sk-trace-secret",
            LLM_MAX_RETRIES="0",
            LLM_READ_TIMEOUT_S="5",
        ),
    ):
        server.responder = respond
        yield server


def test_a_rejected_model_plan_says_rule_based_and_why(
    client: TestClient, bad_planner: FakeOpenAIServer, caplog: pytest.LogCaptureFixture
) -> None:
    prompt = "First calculate 12 * 12, then write a short haiku that mentions the result."

    with caplog.at_level("WARNING", logger="orchestrator.nodes.planner"):
        response = chat(client, prompt, user(), metadata={"no_cache": True})

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["intent"]["name"] == "planning", body["intent"]
    planning = body["planning"]
    assert planning["source"] == "rule-based" and planning["steps"] == len(body["plan"]) >= 2
    assert planning["rejected"] == "a plan needs at least 2 steps, got 1"  # the model's, twice
    record = record_of(client, body["run_id"])
    assert record["planning"] == planning
    (planner,) = [s for s in record["trace"] if (s["node"], s["action"]) == ("planner", "plan")]
    assert planner["decision"] == planning
    warned = [r.getMessage() for r in caplog.records if "model plan rejected" in r.getMessage()]
    assert warned and body["run_id"] in warned[0]
    assert "sk-trace-secret" not in json.dumps(record)


def test_a_failed_run_traces_the_node_that_failed(client: TestClient) -> None:
    with reconfigured(
        LLM_PROVIDER="openai",
        LLM_BASE_URL="http://127.0.0.1:9/v1",
        LLM_DEFAULT_MODEL="gpt-test",
        LLM_MAX_RETRIES="1",
        LLM_BACKOFF_BASE_S="0.01",
    ):
        response = chat(
            client, "Tell me a story about a lighthouse keeper.", user(), metadata={"no_cache": True}
        )

    assert response.status_code == 503, response.text
    run_id = response.json()["run_id"]
    record = record_of(client, run_id)
    assert record["status"] == "FAILED"
    trace = record["trace"]
    failed = [s for s in trace if s["error"] is not None]
    assert [(s["node"], s["action"]) for s in failed] == [("llm_agent", "answer")]
    assert failed[0]["error"]["code"] == "model_unavailable"
    assert failed[0]["function"] == "LlmAgentFunction"
    assert [s["node"] for s in trace][-1] == "memory_store"  # the failure path recorded it
    from orchestrator import container

    container.current().run_store.note_dependency_failure(
        "model", "model_unavailable", "2000-01-01T00:00:00+00:00"
    )


def test_runs_list_filters_by_status_intent_and_user(client: TestClient) -> None:
    who = user()
    tool_turn = chat(client, "Calculate 6 * 7 for me", who).json()
    chat_turn = chat(client, "Explain what a mutex is.", who).json()
    chat(client, "Explain what a semaphore is.", user())  # someone else's

    mine = client.get("/v1/runs", params={"user_id": who}).json()
    tools = client.get("/v1/runs", params={"user_id": who, "intent": "tool"}).json()
    failed = client.get("/v1/runs", params={"user_id": who, "status": "FAILED"}).json()

    assert [r["run_id"] for r in mine["runs"]] == [chat_turn["run_id"], tool_turn["run_id"]]  # newest first
    assert mine["truncated"] is False
    assert [r["run_id"] for r in tools["runs"]] == [tool_turn["run_id"]]
    assert failed["runs"] == []
    row = tools["runs"][0]
    assert (row["status"], row["intent"], row["user_id"], row["error"]) == ("SUCCEEDED", "tool", who, None)
    assert row["latency_ms"] > 0 and row["finished_at"] >= row["started_at"]
    one = client.get("/v1/runs", params={"user_id": who, "limit": 1}).json()
    assert len(one["runs"]) == 1 and one["truncated"] is True
    assert client.get("/v1/runs", params={"status": "BOGUS"}).status_code == 422
    assert client.get("/v1/runs", params={"window": "forever"}).status_code == 422


def test_an_async_runs_events_stream_ends_with_done(client: TestClient) -> None:
    accepted = client.post("/v1/runs", json={"prompt": "Calculate 21 * 2 for me", "user_id": user()})
    assert accepted.status_code == 202, accepted.text
    run_id = accepted.json()["run_id"]

    with client.stream("GET", f"/v1/runs/{run_id}/events") as stream:
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        kinds, last = [], ""
        started = time.monotonic()
        for line in stream.iter_lines():
            assert time.monotonic() - started < 60
            if line.startswith("event:"):
                kinds.append(line.split(":", 1)[1].strip())
            elif line.startswith("data:"):
                last = line.split(":", 1)[1].strip()

    assert kinds[0] == "run" and kinds[-1] == "done", kinds
    assert "intent" in kinds and "tool_result" in kinds
    done = json.loads(last)
    assert done["run_id"] == run_id and done["status"] == "SUCCEEDED" and done["trace"]
    assert client.get("/v1/runs/no-such-run/events").status_code == 404


def test_the_graph_has_every_state_of_the_asl_file(client: TestClient) -> None:
    def names(states: dict[str, Any]) -> set[str]:
        found = set(states)
        for state in states.values():
            if "ItemProcessor" in state:
                found |= names(state["ItemProcessor"]["States"])
        return found

    for machine in ("chat", "runs"):
        response = client.get("/v1/studio/graph", params={"machine": machine})
        assert response.status_code == 200, response.text
        graph = response.json()
        assert graph["definition"] == ASL and graph["start_at"] == ASL["StartAt"]
        assert {n["id"] for n in graph["nodes"]} == names(ASL["States"])
    assert client.get("/v1/studio/graph", params={"machine": "other"}).status_code == 422


def test_studio_agents_lists_routes_with_examples_and_the_agent_without_credentials(
    stack: LocalRuntime,
) -> None:
    from orchestrator.api import create_app
    from orchestrator.config import Settings

    settings = Settings(external_agent_base_url="http://agent-user:hunter2@127.0.0.1:9/api?key=abc")
    with TestClient(create_app(settings), raise_server_exceptions=False) as own:
        body = own.get("/v1/studio/agents").json()

    assert "hunter2" not in json.dumps(body) and "key=abc" not in json.dumps(body)
    (agent,) = [a for a in body["agents"] if a["name"] == "external_agent"]
    assert agent["url"] == "http://127.0.0.1:9/api" and agent["intents"] == ["external_agent"]
    assert agent["protocol"] == "http" and agent["description"]
    routes = {r["name"]: r for r in body["routes"]}
    assert {"chat", "rag", "tool", "external_agent", "planning"} <= set(routes)
    assert all(r["examples"] for r in routes.values())


def test_document_search_ranks_the_users_passages(client: TestClient) -> None:
    who = user()
    stored = client.post(
        "/v1/documents",
        json={
            "user_id": who,
            "title": "Lighthouse handbook",
            "text": "The Fresnel lens of the north lighthouse was replaced in 1987 by a rotating LED beacon.",
        },
    )
    assert stored.status_code == 201, stored.text

    found = client.post(
        "/v1/documents/search", json={"query": "When was the Fresnel lens replaced?", "user_id": who}
    )
    other = client.post("/v1/documents/search", json={"query": "Fresnel lens", "user_id": user()})

    assert found.status_code == 200, found.text
    passages = found.json()["passages"]
    assert passages and passages[0]["doc_id"] == stored.json()["doc_id"] and "1987" in passages[0]["text"]
    assert passages[0]["title"] == "Lighthouse handbook" and passages[0]["score"] > 0
    assert found.json()["latency_ms"] >= 0
    assert other.json()["passages"] == []  # another user's documents are not searched
    too_many = client.post("/v1/documents/search", json={"query": "x", "k": 21, "user_id": who})
    assert too_many.status_code == 422


def test_a_cached_answer_is_a_router_decision_in_the_trace(client: TestClient) -> None:
    who = user()
    chat(client, "Explain the difference between a process and a thread.", who)

    again = chat(client, "Explain the difference between a process and a thread.", who).json()

    trace = record_of(client, again["run_id"])["trace"]
    assert [(s["node"], s["action"]) for s in trace] == [
        ("intent_router", "route"),
        ("memory_store", "record"),
    ]
    assert trace[0]["decision"]["cache"] == {"hit": "exact"}
    assert trace[0]["output"].startswith("intent chat") and "cached (exact)" in trace[0]["output"]
