"""Hops, state transitions, durations and AWS calls per branch, from real executions on the local stack.

Each branch (plain chat, rag, one tool call, two-step plan, cached repeat, external agent) is sent
to ``POST /v1/chat`` on the local stack (moto + the real ASL + the real handlers, offline model):
the chat path's Express execution, as on AWS. Per branch it records, median of ``--runs``
requests after one warm-up (warm Lambdas):

* Lambda invocations and state transitions, counted from the execution history with the rule of
  ``tests/e2e/test_hops.py`` (``tests/support/execution_history.py``);
* each function's handler time per request (what Lambda bills, in-process here: a lower bound),
  the nodes' own ``usage`` latencies, the execution's and the API call's wall time;
* every AWS API call the functions make (a botocore hook), with DynamoDB read/write request
  units estimated from the items' sizes (on-demand rounding: 4 KB reads, 1 KB writes).

Prints a table and writes ``bench/results/hops.json`` (git-ignored) for ``bench/cost.py``.

    PYTHONPATH=layers/core .venv/bin/python bench/hops.py [--runs 5] [--out bench/results/hops.json]
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import platform
import statistics
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # tests.support is a package of the repository, not of the layer
    sys.path.insert(0, str(ROOT))

from tests.support.execution_history import captured_sync_executions, count_hops  # noqa: E402

#: The caller of AWS calls made outside any function: the API function (FastAPI in this process).
API = "ApiFunction"
#: Step Functions' own calls (its Lambda invocations), billed as transitions/requests, not calls.
STATES = "states"

RAG_DOCUMENT = (
    "Refund policy",
    "Annual plans can be refunded pro rata within 30 days of renewal. Monthly plans are not refundable.",
)


@dataclass(frozen=True)
class Branch:
    name: str
    prompt: str
    intent: str
    #: The request is asked once before, by the same user, so this one is answered from the cache.
    repeat: bool = False
    #: The user owns the refund-policy document.
    document: bool = False


BRANCHES = (
    Branch("plain chat", "Explain how a hash map works in simple terms.", "chat"),
    Branch(
        "rag",
        "According to my documents, what does the refund policy say about annual plans?",
        "rag",
        document=True,
    ),
    Branch("one tool call", "Calculate 17 * (3 + 4) for me", "tool"),
    Branch(
        "two-step plan",
        "First calculate 12 * 12, then write a short haiku that mentions the result.",
        "planning",
    ),
    Branch("cached repeat", "Explain the difference between TCP and UDP.", "chat", repeat=True),
    Branch("external agent", "What was our customer churn rate last quarter, by cohort?", "external_agent"),
)


# ---------------------------------------------------------------------- counting AWS calls
_READS = {"GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems"}
_WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}


def _size(value: Any) -> int:
    """Approximate DynamoDB item size in bytes: attribute names plus values, type tags included."""
    if value is None:
        return 0
    if isinstance(value, bytes | bytearray):
        return len(value)
    if isinstance(value, str):
        return len(value.encode("utf-8"))
    if isinstance(value, dict):
        return sum(_size(key) + _size(item) for key, item in value.items())
    if isinstance(value, list | tuple | set | frozenset):
        return sum(_size(item) for item in value)
    raw = getattr(value, "value", None)  # boto3's Binary
    return _size(raw) if isinstance(raw, bytes | bytearray) else len(str(value))


def dynamodb_units(
    operation: str, params: dict[str, Any], response: dict[str, Any] | None
) -> tuple[float, float]:
    """(read request units, write request units) of one DynamoDB call, on-demand rounding.

    Reads: 4 KB per unit, half for eventually consistent reads, transactions double. Writes: 1 KB
    per unit, transactions double. Sizes are estimated from the request (writes) or the response
    (reads); a failed call (no response) is counted as one unit of its kind.
    """
    response = response or {}
    factor = 1.0 if params.get("ConsistentRead") else 0.5
    if operation == "GetItem":
        return max(1, math.ceil(_size(response.get("Item")) / 4096)) * factor, 0.0
    if operation in {"Query", "Scan"}:
        return max(1, math.ceil(sum(_size(i) for i in response.get("Items", [])) / 4096)) * factor, 0.0
    if operation == "BatchGetItem":
        items = [i for table in response.get("Responses", {}).values() for i in table]
        return sum(max(1, math.ceil(_size(i) / 4096)) * factor for i in items) or factor, 0.0
    if operation == "TransactGetItems":
        items = [r.get("Item") for r in response.get("Responses", [])]
        return sum(2 * max(1, math.ceil(_size(i) / 4096)) for i in items) or 2.0, 0.0
    if operation == "PutItem":
        return 0.0, float(max(1, math.ceil(_size(params.get("Item")) / 1024)))
    if operation == "UpdateItem":
        written = _size(params.get("Key")) + _size(params.get("ExpressionAttributeValues"))
        return 0.0, float(max(1, math.ceil(written / 1024)))
    if operation == "DeleteItem":
        return 0.0, 1.0
    if operation == "BatchWriteItem":
        requests = [r for table in params.get("RequestItems", {}).values() for r in table]
        return 0.0, float(
            sum(max(1, math.ceil(_size(r.get("PutRequest", {}).get("Item")) / 1024)) for r in requests)
        )
    if operation == "TransactWriteItems":
        return 0.0, float(2 * len(params.get("TransactItems", [])))
    return 0.0, 0.0


@dataclass
class Meter:
    """Per-request record of function durations and AWS calls, filled by the two hooks."""

    durations_ms: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    calls: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    read_units: float = 0.0
    write_units: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        with self.lock:
            self.durations_ms = defaultdict(list)
            self.calls = defaultdict(Counter)
            self.read_units = self.write_units = 0.0


_current = threading.local()


@contextmanager
def instrumented(meter: Meter) -> Iterator[None]:
    """Time every in-process Lambda invocation and count every botocore call, by function."""
    import botocore.client

    from orchestrator.local.lambda_seam import InProcessLambdas

    invoke: Callable[..., Any] = InProcessLambdas.invoke
    make_api_call: Callable[..., Any] = botocore.client.BaseClient._make_api_call

    def timed_invoke(self: InProcessLambdas, function_name: str, event: Any) -> Any:
        spec = self._specs.get(function_name)
        logical_id = spec.logical_id if spec is not None else function_name
        outer = getattr(_current, "function", None)
        _current.function = logical_id
        started = time.perf_counter()
        try:
            return invoke(self, function_name, event)
        finally:
            elapsed = (time.perf_counter() - started) * 1000
            _current.function = outer
            with meter.lock:
                meter.durations_ms[logical_id].append(elapsed)

    def counted_call(self: Any, operation: str, params: dict[str, Any]) -> Any:
        service = self.meta.service_model.service_name
        caller = getattr(_current, "function", None) or (STATES if service == "lambda" else API)
        response = None
        try:
            response = make_api_call(self, operation, params)
            return response
        finally:
            with meter.lock:
                meter.calls[caller][f"{service}:{operation}"] += 1
                if service == "dynamodb":
                    reads, writes = dynamodb_units(operation, params, response)
                    meter.read_units += reads
                    meter.write_units += writes

    InProcessLambdas.invoke = timed_invoke  # type: ignore[method-assign]
    botocore.client.BaseClient._make_api_call = counted_call  # type: ignore[method-assign]
    try:
        yield
    finally:
        InProcessLambdas.invoke = invoke  # type: ignore[method-assign]
        botocore.client.BaseClient._make_api_call = make_api_call  # type: ignore[method-assign]


# ---------------------------------------------------------------------- one request
def ask(client: Any, branch: Branch, meter: Meter) -> dict[str, Any]:
    """Send the branch's request once (after its setup) and return what it cost."""
    from orchestrator import container

    user_id = f"hops-{uuid.uuid4().hex[:8]}"
    body = {"prompt": branch.prompt, "user_id": user_id}
    if branch.document:
        container.current().retriever.store.ingest("default", user_id, *RAG_DOCUMENT, doc_id="refund-policy")
    if branch.repeat:
        first = client.post("/v1/chat", json=body)
        first.raise_for_status()
    meter.reset()
    with captured_sync_executions() as executions:
        started = time.perf_counter()
        response = client.post("/v1/chat", json=body)
        api_ms = (time.perf_counter() - started) * 1000
    response.raise_for_status()
    answer = response.json()
    if len(executions) != 1:
        raise RuntimeError(f"{branch.name}: expected one chat execution, got {len(executions)}")
    execution = executions[0]
    hops = count_hops(execution.to_history_output()["events"])
    with meter.lock:
        return {
            "intent": answer["intent"]["name"],
            "cached": answer.get("cached"),
            "invocations": hops.invocations,
            "transitions": hops.transitions,
            "entered": list(hops.entered),
            "api_ms": api_ms,
            "execution_ms": (execution.stop_date - execution.start_date).total_seconds() * 1000,
            "function_ms": {name: sum(values) for name, values in meter.durations_ms.items()},
            "function_invocations": {name: len(values) for name, values in meter.durations_ms.items()},
            "usage_ms": {node: usage["latency_ms"] for node, usage in answer.get("usage", {}).items()},
            "calls": {caller: dict(counter) for caller, counter in meter.calls.items()},
            "dynamodb_read_units": meter.read_units,
            "dynamodb_write_units": meter.write_units,
        }


def _median_by_key(samples: list[dict[str, float]]) -> dict[str, float]:
    keys = sorted({key for sample in samples for key in sample})
    return {key: round(statistics.median(s.get(key, 0.0) for s in samples), 3) for key in keys}


def summarise(branch: Branch, samples: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians of the samples; hop counts must agree across them (they are deterministic)."""
    shapes = {(s["invocations"], s["transitions"], tuple(s["entered"])) for s in samples}
    if len(shapes) != 1:
        raise RuntimeError(f"{branch.name}: hop counts differ between runs: {shapes}")
    intents = {s["intent"] for s in samples}
    if intents != {branch.intent}:
        raise RuntimeError(f"{branch.name}: routed to {intents}, expected {branch.intent}")
    first = samples[0]
    return {
        "prompt": branch.prompt,
        "intent": branch.intent,
        "cached": first["cached"],
        "invocations": first["invocations"],
        "transitions": first["transitions"],
        "entered": first["entered"],
        "function_invocations": first["function_invocations"],
        "api_ms": round(statistics.median(s["api_ms"] for s in samples), 3),
        "execution_ms": round(statistics.median(s["execution_ms"] for s in samples), 3),
        "function_ms": _median_by_key([s["function_ms"] for s in samples]),
        "usage_ms": _median_by_key([s["usage_ms"] for s in samples]),
        "calls": first["calls"],
        "dynamodb_read_units": statistics.median(s["dynamodb_read_units"] for s in samples),
        "dynamodb_write_units": statistics.median(s["dynamodb_write_units"] for s in samples),
    }


def measure(runs: int) -> dict[str, Any]:
    """Run every branch on a fresh local stack; the offline provider whatever .env says."""
    from fastapi.testclient import TestClient

    from orchestrator.local.server import local_stack
    from tests.support.fake_agent import FakeAgentServer

    meter = Meter()
    results: dict[str, Any] = {}
    with FakeAgentServer() as agent:
        os.environ.update({"LLM_PROVIDER": "offline", "EXTERNAL_AGENT_BASE_URL": agent.base_url})
        with local_stack() as _stack, instrumented(meter):
            from orchestrator.api import create_app

            with TestClient(create_app()) as client:
                for branch in BRANCHES:
                    ask(client, branch, meter)  # warm-up: the functions' cold starts are not billed here
                    results[branch.name] = summarise(
                        branch, [ask(client, branch, meter) for _ in range(runs)]
                    )
    return {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "runs": runs,
        "note": "In-process handlers on moto: durations are lower bounds (no network to AWS services).",
        "branches": results,
    }


def print_table(report: dict[str, Any]) -> None:
    print(f"Hops per branch, counted from execution histories (median of {report['runs']} warm requests, ms)")
    header = (
        f"{'branch':<16} {'Lambdas':>7} {'+API':>5} {'transitions':>11} {'nodes ms':>9} {'execution':>9} "
        f"{'API call':>9} {'DDB R/W units':>14}"
    )
    print(header)
    print("-" * len(header))
    for name, b in report["branches"].items():
        nodes_ms = sum(b["function_ms"].values())
        print(
            f"{name:<16} {b['invocations']:>7} {b['invocations'] + 1:>5} {b['transitions']:>11} "
            f"{nodes_ms:>9.1f} {b['execution_ms']:>9.1f} {b['api_ms']:>9.1f} "
            f"{b['dynamodb_read_units']:>6.1f}/{b['dynamodb_write_units']:<7.1f}"
        )
    print()
    print("Handler time per function and request (ms; usage latency of the node in brackets)")
    for name, b in report["branches"].items():
        parts = []
        for function, ms in b["function_ms"].items():
            count = b["function_invocations"].get(function, 1)
            parts.append(f"{function.removesuffix('Function')}×{count} {ms:.1f}")
        usage = ", ".join(f"{node} {ms:.1f}" for node, ms in b["usage_ms"].items())
        print(f"  {name:<16} {'; '.join(parts)}  [{usage}]")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "hops.json")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    for handler in logging.getLogger().handlers:  # bm25s sets its own logger to DEBUG
        handler.setLevel(logging.WARNING)
    report = measure(max(1, args.runs))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print_table(report)
    print(f"\nwrote {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")


if __name__ == "__main__":
    main()
