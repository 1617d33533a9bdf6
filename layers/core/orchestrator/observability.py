"""Powertools wiring for node handlers: structured logs, X-Ray traces and EMF metrics."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

NodeHandle = Callable[[dict[str, Any]], dict[str, Any]]
LambdaHandler = Callable[[dict[str, Any], Any], dict[str, Any]]


def node_handler(node: str, handle: NodeHandle) -> LambdaHandler:
    """Wrap a node's ``handle(event)`` as a Lambda handler with Logger, Tracer and Metrics.

    One place for the decorators keeps the seven node handlers identical in shape; the
    handler files themselves only say which node they are.
    """
    from aws_lambda_powertools import Logger, Metrics, Tracer
    from aws_lambda_powertools.metrics import MetricUnit

    logger = Logger(service=node)
    tracer = Tracer(service=node)
    # The service dimension names the node on every metric (one Lambda, one node).
    metrics = Metrics(service=node)

    @metrics.log_metrics(capture_cold_start_metric=True)
    @tracer.capture_lambda_handler(capture_response=False)
    @logger.inject_lambda_context(log_event=False)
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        state = event.get("state") or {}
        logger.append_keys(
            node=node, action=event.get("action"), run_id=event.get("run_id") or state.get("run_id")
        )
        metrics.add_metric(name="NodeInvocations", unit=MetricUnit.Count, value=1)
        try:
            return handle(event)
        except Exception:
            metrics.add_metric(name="NodeErrors", unit=MetricUnit.Count, value=1)
            raise

    wrapped: LambdaHandler = handler
    return wrapped
