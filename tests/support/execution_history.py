"""Hops and state transitions of a Step Functions execution, counted from its history.

One counting rule for the hop test (``tests/e2e/test_hops.py``) and the benchmark
(``bench/hops.py``): a Lambda invocation is a ``LambdaFunctionScheduled`` or ``TaskScheduled``
event, a state transition is a ``…StateEntered`` event (what Standard workflows bill; Map
iterations' inner states included). The history comes either from a Standard run
(``GetExecutionHistory``) or from Express executions captured on the local stack, where moto
keeps the history of a ``StartSyncExecution`` in the execution object it returns from.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

INVOCATION_EVENTS = frozenset({"LambdaFunctionScheduled", "TaskScheduled"})


@dataclass(frozen=True)
class Hops:
    """What one execution cost in hops: invocations, transitions, and the states in order."""

    invocations: int
    transitions: int
    entered: tuple[str, ...]


def event_type(event: dict[str, Any]) -> str:
    """The event's type as a plain string (moto's in-process history uses a str enum)."""
    kind = event["type"]
    return str(getattr(kind, "value", kind))


def count_hops(events: Sequence[dict[str, Any]]) -> Hops:
    """Count Lambda invocations and state transitions in an execution history."""
    entered = tuple(
        str(e["stateEnteredEventDetails"]["name"]) for e in events if event_type(e).endswith("StateEntered")
    )
    invocations = sum(1 for e in events if event_type(e) in INVOCATION_EVENTS)
    return Hops(invocations=invocations, transitions=len(entered), entered=entered)


def run_history(
    state_machine_arn: str, client: Any, prompt: str, *, timeout_s: float = 30.0
) -> list[dict[str, Any]]:
    """Start ``prompt`` as a background run (``POST /v1/runs``) and return its execution history."""
    import boto3

    accepted = client.post("/v1/runs", json={"prompt": prompt, "user_id": f"hops-{uuid.uuid4().hex[:6]}"})
    sfn = boto3.client("stepfunctions")
    arn = state_machine_arn.replace(":stateMachine:", ":execution:") + ":" + accepted.json()["run_id"]
    deadline = time.monotonic() + timeout_s
    while sfn.describe_execution(executionArn=arn)["status"] == "RUNNING":
        if time.monotonic() > deadline:
            raise TimeoutError(f"{arn} still running after {timeout_s} s")
        time.sleep(0.02)
    events: list[dict[str, Any]] = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
    return events


@contextmanager
def captured_sync_executions() -> Iterator[list[Any]]:
    """Collect the moto executions that ``StartSyncExecution`` runs while the block is open.

    Each item has ``to_history_output()["events"]`` and ``output``; only for the local stack.
    """
    from moto.stepfunctions.parser.backend.execution import SyncExecution

    captured: list[Any] = []
    own = SyncExecution.__dict__.get("start")  # today inherited from moto's Execution
    inherited = SyncExecution.start

    def start(self: Any) -> None:
        captured.append(self)
        inherited(self)

    SyncExecution.start = start
    try:
        yield captured
    finally:
        if own is None:
            del SyncExecution.start
        else:
            SyncExecution.start = own
