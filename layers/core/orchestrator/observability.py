"""Powertools wiring for node handlers: structured logs, EMF metrics and (opt-in) X-Ray subsegments."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from orchestrator.nodes.base import Node

LambdaHandler = Callable[[dict[str, Any], Any], dict[str, Any]]


def tracing_enabled() -> bool:
    """Powertools' own switch. The X-Ray SDK costs ~300 ms of cold start (it builds a botocore
    client at import), so the template turns it on only with ``DetailedTracing=true``; Lambda's
    Active tracing still records every invocation and the state machine's trace without it."""
    return os.environ.get("POWERTOOLS_TRACE_DISABLED", "false").lower() not in {"1", "true"}


def metrics_enabled() -> bool:
    # Disabled metrics are still collected in memory and never flushed: in a long-lived local
    # process (make run) that would grow without bound, so nothing is recorded at all.
    return os.environ.get("POWERTOOLS_METRICS_DISABLED", "false").lower() not in {"1", "true"}


def node_usage(node: str, result: dict[str, Any]) -> dict[str, Any] | None:
    """This node's usage in its output: a state's ``usage[node]``, or a step result's ``usage``."""
    usage = result.get("usage")
    if not isinstance(usage, dict):
        return None
    own = usage.get(node, usage if "latency_ms" in usage else None)
    return own if isinstance(own, dict) else None


def node_handler(graph_node: Node[Any]) -> LambdaHandler:
    """Wrap a node as a Lambda handler with Logger, Metrics and Tracer.

    One place for the decorators keeps the node handlers identical in shape; the handler files
    themselves only say which node they are. The run id is the correlation id of every log line.
    """
    node = graph_node.name
    from aws_lambda_powertools import Logger, Metrics
    from aws_lambda_powertools.metrics import MetricUnit

    logger = Logger(service=node)
    # The service dimension names the node on every metric (one Lambda, one node).
    metrics = Metrics(service=node) if metrics_enabled() else None

    def count(name: str, value: float, unit: MetricUnit = MetricUnit.Count) -> None:
        if metrics is not None:
            metrics.add_metric(name=name, unit=unit, value=value)

    @logger.inject_lambda_context(log_event=False)
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        state = event.get("state") or {}
        run_id = event.get("run_id") or state.get("run_id")
        logger.append_keys(node=node, action=event.get("action"), run_id=run_id)
        logger.set_correlation_id(run_id)
        count("NodeInvocations", 1)
        try:
            result = graph_node.handle(event, context)
        except Exception as exc:
            count("NodeErrors", 1)
            if getattr(exc, "code", None) == "model_unavailable":
                # Its own metric: the template's model-unavailable alarm watches it.
                count("ModelUnavailable", 1)
            raise
        usage = node_usage(node, result)
        if usage:
            count("NodeLatency", usage.get("latency_ms", 0), MetricUnit.Milliseconds)
            count("TokensIn", usage.get("tokens_in", 0))
            count("TokensOut", usage.get("tokens_out", 0))
            count("CostUSD", usage.get("cost_usd", 0.0), MetricUnit.NoUnit)
        return result

    wrapped: LambdaHandler = handler
    if metrics is not None:
        wrapped = metrics.log_metrics(wrapped, capture_cold_start_metric=True)
    if tracing_enabled():
        from aws_lambda_powertools import Tracer

        wrapped = Tracer(service=node).capture_lambda_handler(wrapped, capture_response=False)
    return wrapped
