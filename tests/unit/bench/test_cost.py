"""The cost model's arithmetic and template reading (bench/cost.py), with no measurements needed."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from bench.cost import (
    API_FUNCTION,
    FunctionConfig,
    Options,
    Prices,
    costs,
    express_cost,
    function_configs,
    lambda_cost,
    ratio,
    standard_run_cost,
)

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def prices() -> Prices:
    return Prices.load(ROOT / "bench" / "prices.json")


def plain_chat(**overrides: Any) -> dict[str, Any]:
    """A measured branch as bench/hops.py writes it: router → agent → memory."""
    branch: dict[str, Any] = {
        "invocations": 3,
        "transitions": 6,
        "api_ms": 60.0,
        "execution_ms": 50.0,
        "function_invocations": {"IntentRouterFunction": 1, "LlmAgentFunction": 1, "MemoryStoreFunction": 1},
        "function_ms": {"IntentRouterFunction": 5.0, "LlmAgentFunction": 6.0, "MemoryStoreFunction": 10.0},
        "calls": {"MemoryStoreFunction": {"dynamodb:PutItem": 3, "events:PutEvents": 1}},
        "dynamodb_read_units": 1.0,
        "dynamodb_write_units": 8.0,
    }
    branch.update(overrides)
    return branch


@pytest.fixture(scope="module")
def functions() -> dict[str, FunctionConfig]:
    return {
        API_FUNCTION: FunctionConfig(API_FUNCTION, 512, "arm64"),
        "IntentRouterFunction": FunctionConfig("IntentRouterFunction", 1024, "arm64"),
        "LlmAgentFunction": FunctionConfig("LlmAgentFunction", 512, "arm64"),
        "MemoryStoreFunction": FunctionConfig("MemoryStoreFunction", 512, "arm64"),
    }


def test_memory_and_architecture_come_from_the_function_or_else_from_globals(tmp_path: Path) -> None:
    template = tmp_path / "template.yaml"
    template.write_text(
        "Transform: AWS::Serverless-2016-10-31\n"
        "Globals:\n  Function:\n    MemorySize: 512\n    Architectures: [arm64]\n"
        "Resources:\n"
        "  Big:\n    Type: AWS::Serverless::Function\n"
        "    Properties:\n      CodeUri: a/\n      MemorySize: 1024\n"
        "  Plain:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: b/\n"
        "  Table:\n    Type: AWS::DynamoDB::Table\n    Properties: {}\n"
    )

    configs = function_configs(template)

    assert configs == {
        "Big": FunctionConfig("Big", 1024, "arm64"),
        "Plain": FunctionConfig("Plain", 512, "arm64"),
    }


def test_the_real_template_is_read_with_its_memory_sizes() -> None:
    configs = function_configs(ROOT / "template.yaml")

    assert configs["IntentRouterFunction"].memory_mb == 1024
    assert configs[API_FUNCTION].memory_mb == 512
    assert {c.architecture for c in configs.values()} == {"arm64"}


def test_lambda_cost_is_requests_plus_gb_seconds_rounded_up_per_invocation(prices: Prices) -> None:
    one_gb = FunctionConfig("F", 1024, "arm64")

    one_second = lambda_cost(one_gb, 1, 1000.0, prices)
    # Two invocations of 1.5 ms each bill 2 ms each.
    rounded = lambda_cost(one_gb, 2, 3.0, prices)

    assert one_second == pytest.approx(0.20 / 1e6 + 0.0000133334)
    assert rounded == pytest.approx(2 * 0.20 / 1e6 + 0.004 * 0.0000133334)
    assert lambda_cost(one_gb, 0, 0.0, prices) == 0.0


def test_express_bills_100_ms_steps_and_64_mb_chunks(prices: Prices) -> None:
    chunk_gb = 64 / 1024

    assert express_cost(50.0, prices) == pytest.approx(1e-6 + 0.1 * chunk_gb * 0.00001667)
    assert express_cost(150.0, prices) == pytest.approx(1e-6 + 0.2 * chunk_gb * 0.00001667)
    assert express_cost(50.0, prices, memory_mb=100) == pytest.approx(1e-6 + 0.1 * 2 * chunk_gb * 0.00001667)


def test_today_bills_the_model_wait_twice_and_the_direct_designs_once(
    prices: Prices, functions: dict[str, FunctionConfig]
) -> None:
    designs = costs(plain_chat(), functions, prices, wait_s=2.0)

    assert designs["A"].billed_wait_s == pytest.approx(4.0)
    assert designs["B-http"].billed_wait_s == pytest.approx(2.0)
    assert designs["B-rest"].billed_wait_s == pytest.approx(2.0)
    assert designs["C"].billed_wait_s == pytest.approx(2.0)
    # The API Lambda waits for the whole execution (its own 10 ms + the run + the model): 2.06 s at 512 MB.
    assert designs["A"].parts["API Lambda"] == pytest.approx(0.2e-6 + 0.5 * 2.060 * 0.0000133334)
    assert designs["A"].total - designs["B-http"].total == pytest.approx(designs["A"].parts["API Lambda"])
    assert designs["B-rest"].total - designs["B-http"].total == pytest.approx(2.5e-6)


def test_the_single_lambda_runs_at_the_largest_memory_and_pays_no_orchestration(
    prices: Prices, functions: dict[str, FunctionConfig]
) -> None:
    designs = costs(plain_chat(), functions, prices, wait_s=0.0)

    single = designs["C"]
    assert set(single.parts) == {"API Gateway", "one Lambda", "DynamoDB", "EventBridge"}
    # API's own 10 ms + the nodes' 21 ms, at 1 GB (the router's memory).
    assert single.parts["one Lambda"] == pytest.approx(0.2e-6 + 1.0 * 0.031 * 0.0000133334)
    # The same items are written whatever runs the graph.
    assert len({round(d.parts["DynamoDB"], 12) for d in designs.values()}) == 1
    assert designs["A"].parts["DynamoDB"] == pytest.approx(1.0 * 0.125e-6 + 8.0 * 0.625e-6)
    assert designs["A"].parts["EventBridge"] == pytest.approx(1e-6)


def test_ratio_can_leave_out_what_every_design_pays(
    prices: Prices, functions: dict[str, FunctionConfig]
) -> None:
    designs = costs(plain_chat(), functions, prices, wait_s=0.0)

    whole = ratio(designs["A"], designs["C"])
    compute_only = ratio(designs["A"], designs["C"], exclude=frozenset({"DynamoDB", "EventBridge"}))

    assert whole == pytest.approx(designs["A"].total / designs["C"].total)
    assert compute_only > whole > 1.0
    assert math.isnan(
        ratio(
            designs["A"],
            costs(plain_chat(), functions, prices, 0.0)["C"],
            exclude=frozenset({"API Gateway", "one Lambda", "DynamoDB", "EventBridge"}),
        )
    )


def test_a_standard_run_pays_per_transition(prices: Prices) -> None:
    assert standard_run_cost(plain_chat(transitions=6), prices) == pytest.approx(6 * 0.025 / 1000)


def test_every_price_names_its_source_and_how_it_was_checked() -> None:
    raw = json.loads((ROOT / "bench" / "prices.json").read_text())

    sections = {k: v for k, v in raw.items() if isinstance(v, dict)}
    assert raw["region"] == "us-east-1" and raw["checked_on"]
    assert len(sections) == 5
    for name, section in sections.items():
        assert section["source"].startswith("https://aws.amazon.com/"), name
        assert section["verified"], name
        assert all(v > 0 for v in section.values() if isinstance(v, int | float)), name


def test_an_uncached_authorizer_adds_one_small_invocation_to_the_rest_design(
    prices: Prices, functions: dict[str, FunctionConfig]
) -> None:
    cached = costs(plain_chat(), functions, prices, 0.0)
    uncached = costs(plain_chat(), functions, prices, 0.0, Options(authorizer_calls_per_request=1.0))

    added = uncached["B-rest"].total - cached["B-rest"].total
    assert added == pytest.approx(0.2e-6 + 0.125 * 0.005 * 0.0000133334)
    assert uncached["A"].total == pytest.approx(cached["A"].total)
