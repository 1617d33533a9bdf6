"""Given the local stack, when /v1/chat is called, then each intent branch of the real ASL runs."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient

from orchestrator import container
from tests.e2e.conftest import chat, reconfigured
from tests.support import zephyr
from tests.support.fake_agent import FakeAgentServer


def user() -> str:
    return f"user-{uuid.uuid4().hex[:8]}"


def test_chat_branch_answers_offline_and_says_so(client: TestClient) -> None:
    response = chat(client, "Hi there! How are you doing this morning?", user())

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["intent"]["name"] == "chat"
    assert body["intent"]["method"] == "embedding"
    assert body["provider"] == "offline"
    assert "offline" in body["response"].lower()
    assert len(body["run_id"]) == 32
    assert body["cached"] is False
    for node in ("memory_store", "intent_router", "llm_agent"):
        assert body["usage"][node]["latency_ms"] >= 0, node
    assert body["usage"]["llm_agent"]["tokens_in"] > 0


def test_rag_branch_retrieves_and_cites_the_users_document(client: TestClient) -> None:
    owner = user()
    store = container.current().retriever.store  # the same store the grounding node reads
    store.ingest(
        "default",
        owner,
        "Refund policy",
        "Annual plans can be refunded pro rata within 30 days of renewal. Monthly plans are not refundable.",
        doc_id="refund-policy",
    )

    response = chat(
        client, "According to my documents, what does the refund policy say about annual plans?", owner
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["intent"]["name"] == "rag"
    assert body["citations"], body
    assert {c["doc_id"] for c in body["citations"]} == {"refund-policy"}
    assert set(body["citations"][0]) == {"doc_id", "title", "chunk_id", "score", "snippet"}
    assert body["citations"][0]["title"] == "Refund policy"
    assert "pro rata" in body["citations"][0]["snippet"]
    assert "grounding" in body["usage"]
    assert "pro rata" in body["response"]


def test_rag_answers_the_fact_among_boilerplate_and_cites_its_passage(client: TestClient) -> None:
    owner = user()
    store = container.current().retriever.store
    store.ingest("default", owner, "Zephyr-9 operations manual", zephyr.MANUAL, doc_id="zephyr-manual")

    response = chat(client, zephyr.QUESTION, owner)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["intent"]["name"] == "rag", body["intent"]
    assert zephyr.ANSWER in body["response"]
    # Only the passage the answer was quoted from is cited.
    assert [(c["doc_id"], c["chunk_id"]) for c in body["citations"]] == [("zephyr-manual", 3)]
    assert zephyr.ANSWER in body["citations"][0]["snippet"]
    assert 0 < body["citations"][0]["score"] <= 1


def test_openai_route_numbers_the_sources_chat_uis_show(client: TestClient) -> None:
    owner = user()
    store = container.current().retriever.store
    store.ingest("default", owner, "Zephyr-9 operations manual", zephyr.MANUAL, doc_id="zephyr-manual")

    response = client.post(
        "/v1/chat/completions",
        json={
            "model": "orchestrator",
            "user": owner,
            "messages": [{"role": "user", "content": zephyr.QUESTION}],
        },
    )

    assert response.status_code == 200, response.text
    body = response.json()
    content = body["choices"][0]["message"]["content"]
    assert f"{zephyr.ANSWER}" in content and "[1]" in content
    assert "Sources:\n[1] Zephyr-9 operations manual (zephyr-manual#3)" in content
    assert [c["doc_id"] for c in body["orchestrator"]["citations"]] == ["zephyr-manual"]


def test_tool_branch_runs_the_calculator_through_the_map_state(client: TestClient) -> None:
    response = chat(client, "Calculate 17 * (3 + 4) for me", user())

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["intent"]["name"] == "tool"
    results = body["tool_results"]
    assert [r["name"] for r in results] == ["calculator"]
    assert results[0]["ok"] is True
    assert "119" in str(results[0]["output"])
    assert "119" in body["response"]


def test_external_agent_branch_calls_the_agent_over_http(
    client: TestClient, fake_agent: FakeAgentServer
) -> None:
    before = len(fake_agent.requests)

    response = chat(client, "What was our customer churn rate last quarter, by cohort?", user())

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["intent"]["name"] == "external_agent"
    assert len(fake_agent.requests) == before + 1
    sent = fake_agent.requests[-1]
    assert sent["json"]["run_id"] == body["run_id"]
    assert body["response"] == fake_agent.reply_text


def test_planning_branch_runs_every_step_and_synthesises(client: TestClient) -> None:
    prompt = "First calculate 12 * 12, then write a short haiku that mentions the result."

    response = chat(client, prompt, user())

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["intent"]["name"] == "planning"
    plan = body["plan"]
    assert len(plan) >= 2
    assert all(item["result"] is not None for item in plan), plan
    assert plan[0]["step"]["node"] == "tool_executor"
    assert "144" in plan[0]["result"]["output"]
    assert plan[1]["step"]["depends_on"] == [plan[0]["step"]["id"]]
    assert "planner" in body["usage"]


def test_second_identical_question_is_served_from_cache(client: TestClient) -> None:
    who = user()
    first = chat(client, "Explain the difference between TCP and UDP.", who)
    second = chat(client, "explain the difference between TCP and UDP.", who)

    assert first.status_code == second.status_code == 200
    assert first.json()["cached"] is False
    assert second.json()["cached"] == "exact"
    assert second.json()["response"] == first.json()["response"]
    # The router answered from the cache: no classification, no model, one hop to memory.
    assert set(second.json()["usage"]) == {"intent_router", "memory_store"}


def test_turns_are_remembered_in_the_session(client: TestClient) -> None:
    who = user()
    first = chat(client, "Hello, my name is Ada.", who, session_id="s-memory")
    chat(client, "Tell me a fun fact about octopuses.", who, session_id="s-memory")

    turns = container.current().conversations.recent("default", who, "s-memory", 10)

    assert [t.prompt for t in turns] == ["Hello, my name is Ada.", "Tell me a fun fact about octopuses."]
    assert turns[0].run_id == first.json()["run_id"]
    record = client.get(f"/v1/runs/{first.json()['run_id']}")
    assert record.status_code == 200
    assert record.json()["status"] == "SUCCEEDED"


def test_background_run_is_accepted_then_finishes(client: TestClient) -> None:
    import time

    accepted = client.post("/v1/runs", json={"prompt": "Calculate 21 * 2 for me", "user_id": user()})
    assert accepted.status_code == 202, accepted.text
    status_url = accepted.json()["status_url"]

    for _ in range(200):  # bounded: 10 s
        record = client.get(status_url).json()
        if record["status"] != "RUNNING":
            break
        time.sleep(0.05)

    assert record["status"] == "SUCCEEDED", record
    assert record["intent"]["name"] == "tool"
    assert "42" in record["response"]["text"]
    assert client.get("/v1/runs/no-such-run").status_code == 404


def test_retried_run_with_the_same_idempotency_key_starts_once(client: TestClient) -> None:
    who = user()
    body = {"prompt": "Calculate 5 * 5", "user_id": who}

    first = client.post("/v1/runs", json=body, headers={"Idempotency-Key": "order-77"})
    again = client.post("/v1/runs", json=body, headers={"Idempotency-Key": "order-77"})
    other = client.post("/v1/runs", json=body, headers={"Idempotency-Key": "order-78"})
    bad = client.post("/v1/runs", json=body, headers={"Idempotency-Key": "has spaces"})

    assert first.status_code == again.status_code == 202
    assert first.json()["status"] == "RUNNING"
    assert again.json() == {**first.json(), "status": "EXISTING"}
    assert other.json()["run_id"] != first.json()["run_id"]
    assert bad.status_code == 422


def test_a_paraphrase_is_served_from_the_semantic_cache_when_enabled(client: TestClient) -> None:
    who = user()
    with reconfigured(SEMANTIC_CACHE_ENABLED="true"):
        first = chat(client, "What is the capital city of France?", who)
        second = chat(client, "Tell me the capital city of France", who)
        elsewhere = chat(client, "What is the capital city of Spain?", who)

    assert first.status_code == second.status_code == elsewhere.status_code == 200
    assert first.json()["cached"] is False and elsewhere.json()["cached"] is False
    body = second.json()
    assert body["cached"] == "semantic" and body["response"] == first.json()["response"]
    # Classified (the route is part of the key), then answered from the cache: no model call.
    assert set(body["usage"]) == {"intent_router", "memory_store"}
    assert body["intent"]["name"] == first.json()["intent"]["name"]


def test_the_semantic_cache_is_off_by_default(client: TestClient) -> None:
    who = user()
    chat(client, "What is the capital city of Italy?", who)

    assert chat(client, "Tell me the capital city of Italy", who).json()["cached"] is False
