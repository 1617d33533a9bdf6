"""Given a node handler, usage becomes EMF metrics and errors are counted."""

from __future__ import annotations

import json
from typing import Any

import pytest

from orchestrator.observability import node_handler, node_usage


class Context:
    function_name = "fn"
    memory_limit_in_mb = 128
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:fn"
    aws_request_id = "req-1"


class StubNode:
    """A node that answers with a fixed output (the wrapper, not the node, is under test)."""

    def __init__(self, name: str, output: dict[str, Any]) -> None:
        self.name = name
        self.output = output

    def handle(self, event: dict[str, Any], context: Any = None) -> dict[str, Any]:
        return self.output


def test_node_usage_reads_state_and_step_results() -> None:
    state_out = {"usage": {"llm_agent": {"latency_ms": 5, "tokens_in": 7}, "planner": {"latency_ms": 1}}}
    step_out = {"usage": {"latency_ms": 3, "tokens_in": 2}}

    assert node_usage("llm_agent", state_out) == {"latency_ms": 5, "tokens_in": 7}
    assert node_usage("llm_agent", step_out) == {"latency_ms": 3, "tokens_in": 2}
    assert node_usage("llm_agent", {"ok": True}) is None


def test_handler_emits_usage_metrics(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "Test")
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)

    from aws_lambda_powertools import Metrics

    Metrics().clear_metrics()  # the metric set is shared by every Metrics instance in a process

    output = {
        "usage": {"llm_agent": {"latency_ms": 12.5, "tokens_in": 30, "tokens_out": 9, "cost_usd": 0.01}}
    }

    node_handler(StubNode("llm_agent", output))({"action": "answer"}, Context())  # type: ignore[arg-type]

    blobs = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    metrics = {
        k: v for blob in blobs for k, v in blob.items() if k in {"TokensIn", "TokensOut", "NodeLatency"}
    }
    values = {k: v if isinstance(v, list) else [v] for k, v in metrics.items()}  # EMF may list values
    assert values == {"TokensIn": [30.0], "TokensOut": [9.0], "NodeLatency": [12.5]}


def test_disabled_metrics_collect_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    from aws_lambda_powertools import Metrics

    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    Metrics().clear_metrics()

    stub = StubNode("planner", {"usage": {"planner": {"latency_ms": 1}}})
    node_handler(stub)({"action": "plan"}, Context())  # type: ignore[arg-type]

    assert Metrics().metric_set == {}


def test_a_model_outage_is_its_own_metric(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "Test")
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
    from aws_lambda_powertools import Metrics

    from orchestrator.errors import ModelUnavailableError

    Metrics().clear_metrics()

    class Down(StubNode):
        def handle(self, event: dict[str, Any], context: Any = None) -> dict[str, Any]:
            raise ModelUnavailableError("overloaded")

    with pytest.raises(ModelUnavailableError):
        node_handler(Down("llm_agent", {}))({"action": "answer"}, Context())  # type: ignore[arg-type]

    blobs = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    names = {k for blob in blobs for k in blob if k in {"NodeErrors", "ModelUnavailable"}}
    assert names == {"NodeErrors", "ModelUnavailable"}  # the template's alarm watches the second
