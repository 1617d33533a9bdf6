"""Given a known sequence of runs through the local stack, when /v1/monitoring/metrics is read,
then its figures are exactly those of the run records."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi.testclient import TestClient

from tests.e2e.conftest import chat
from tests.support.fake_agent import FakeAgentServer


def _sum(records: list[dict[str, Any]], node: str | None, field: str) -> float:
    return sum(
        usage[field] for r in records for name, usage in r["usage"].items() if node is None or name == node
    )


def test_metrics_count_a_users_runs_exactly(client: TestClient, fake_agent: FakeAgentServer) -> None:
    # Given five runs of one user: a chat, a question and its cached repeat, a tool, a failure
    who = f"user-{uuid.uuid4().hex[:8]}"
    prompts = [
        "Hi there! How are you doing this morning?",
        "Explain the difference between TCP and UDP.",
        "explain the difference between TCP and UDP.",
        "Calculate 17 * (3 + 4) for me",
    ]
    run_ids = []
    for prompt in prompts:
        response = chat(client, prompt, who)
        assert response.status_code == 200, response.text
        run_ids.append(response.json()["run_id"])
    fake_agent.fail_next(status=401, times=1)
    failed = chat(client, "Forecast next quarter's revenue and churn for our customers.", who)
    assert failed.status_code == 502, failed.text
    run_ids.append(failed.json()["run_id"])
    records = [client.get(f"/v1/runs/{run_id}").json() for run_id in run_ids]

    # When
    response = client.get("/v1/monitoring/metrics", params={"window": "1h", "user_id": who})

    # Then
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["user_id"] == who and body["window"] == "1h" and body["truncated"] is False
    assert body["requests"] == 5
    assert body["by_status"] == {"SUCCEEDED": 4, "FAILED": 1}
    assert body["errors_by_code"] == {"external_agent_error": 1}
    assert body["cache"] == {"exact": 1, "semantic": 0, "hit_rate": 0.2}
    assert body["tools"] == {
        "calls": 1,
        "failures": 0,
        "by_tool": {"calculator": {"calls": 1, "failures": 0}},
    }
    intents: dict[str, int] = {}
    methods: dict[str, int] = {}
    for record in records:
        intents[record["intent"]["name"]] = intents.get(record["intent"]["name"], 0) + 1
        methods[record["intent"]["method"]] = methods.get(record["intent"]["method"], 0) + 1
    assert body["routing"] == {"intents": intents, "methods": methods}
    assert intents["tool"] == 1 and sum(methods.values()) == 5
    assert body["latency_ms"]["count"] == 5
    assert body["latency_ms"]["p50_ms"] <= body["latency_ms"]["p95_ms"]
    nodes = {name for r in records for name in r["usage"]}
    assert set(body["node_latency_ms"]) == set(body["usage_by_node"]) == nodes
    for node in nodes:
        calls = sum(node in r["usage"] for r in records)
        assert body["node_latency_ms"][node]["count"] == calls
        assert body["usage_by_node"][node]["calls"] == calls
        assert body["usage_by_node"][node]["tokens_in"] == _sum(records, node, "tokens_in")
        assert body["usage_by_node"][node]["tokens_out"] == _sum(records, node, "tokens_out")
    assert body["usage"]["tokens_in"] == _sum(records, None, "tokens_in") > 0
    assert body["usage"]["cost_usd"] == round(_sum(records, None, "cost_usd"), 8)
    models = {u["model"] for r in records for u in r["usage"].values() if u.get("model")}
    assert set(body["usage_by_model"]) == models


def test_the_tenant_view_counts_every_users_runs(client: TestClient) -> None:
    chat(client, "Hi there! How are you doing this morning?", f"user-{uuid.uuid4().hex[:8]}")

    body = client.get("/v1/monitoring/metrics").json()

    assert body["user_id"] is None and body["tenant_id"] == "default"
    assert body["requests"] == body["runs_read"] >= 1


def test_a_window_that_is_not_a_duration_is_refused(client: TestClient) -> None:
    for window in ("1y", "0h", "31d", "soon"):
        response = client.get("/v1/monitoring/metrics", params={"window": window})
        assert response.status_code == 422, window
