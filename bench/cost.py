"""What a request costs on AWS, per branch and design, from template.yaml, measured hops and public prices.

Reads the functions' memory sizes and architectures from ``template.yaml`` (Globals merged),
the per-branch hops, handler times, DynamoDB request units and events from ``bench/hops.py``'s
JSON, and the prices from ``bench/prices.json`` (source and date in the file). Model cost is
excluded; a model wait (seconds per model call, ``--wait``) is added to every function that waits
for it. Designs:

* **A, today**: HTTP API → API Lambda that waits for ``StartSyncExecution`` → Express state
  machine → one Lambda per node. The model wait is billed in the agent node *and* in the API
  Lambda (and, at 64 MB, in the Express duration).
* **B, direct**: API Gateway calls ``StartSyncExecution`` itself, no API Lambda on the chat path.
  ``B-http``: HTTP API service integration (cheapest, but see the README: it cannot compose the
  input with the caller's identity safely and returns the raw StartSyncExecution JSON);
  ``B-rest``: REST API with VTL mapping templates and a cached Lambda authorizer.
* **C, one Lambda**: HTTP API → one function running the same graph in-process (the baseline).

Durations measured in-process on moto are lower bounds (no network between services); the
ratio to C is the number to watch.

    PYTHONPATH=layers/core .venv/bin/python bench/cost.py [--hops bench/results/hops.json] [--wait 0 2]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
MILLION = 1_000_000

API_FUNCTION = "ApiFunction"
AGENT_FUNCTION = "LlmAgentFunction"
#: Designs in print order; C is the baseline every ratio is taken against.
DESIGNS = ("A", "B-http", "B-rest", "C")
DESIGN_NAMES = {
    "A": "A today: HTTP API → API Lambda → Express → node Lambdas",
    "B-http": "B-http: HTTP API StartSyncExecution integration → Express → node Lambdas",
    "B-rest": "B-rest: REST API (VTL, cached authorizer) → Express → node Lambdas",
    "C": "C: HTTP API → one Lambda running the whole graph",
}


@dataclass(frozen=True)
class Prices:
    """The numbers of ``bench/prices.json`` that the model uses (USD)."""

    lambda_gb_second: dict[str, float]
    lambda_requests_per_million: float
    express_requests_per_million: float
    express_gb_second: float
    express_memory_chunk_mb: int
    express_duration_rounding_ms: int
    standard_per_thousand_transitions: float
    http_api_per_million: float
    rest_api_per_million: float
    ddb_write_units_per_million: float
    ddb_read_units_per_million: float
    events_per_million: float
    checked_on: str

    @classmethod
    def load(cls, path: Path) -> Prices:
        raw = json.loads(path.read_text(encoding="utf-8"))
        lam, sfn, apigw = raw["lambda"], raw["step_functions"], raw["api_gateway"]
        ddb, events = raw["dynamodb_on_demand"], raw["eventbridge"]
        return cls(
            lambda_gb_second={"arm64": lam["arm64_gb_second"], "x86_64": lam["x86_64_gb_second"]},
            lambda_requests_per_million=lam["requests_per_million"],
            express_requests_per_million=sfn["express_requests_per_million"],
            express_gb_second=sfn["express_gb_second"],
            express_memory_chunk_mb=sfn["express_memory_chunk_mb"],
            express_duration_rounding_ms=sfn["express_duration_rounding_ms"],
            standard_per_thousand_transitions=sfn["standard_per_thousand_transitions"],
            http_api_per_million=apigw["http_api_per_million"],
            rest_api_per_million=apigw["rest_api_per_million"],
            ddb_write_units_per_million=ddb["write_request_units_per_million"],
            ddb_read_units_per_million=ddb["read_request_units_per_million"],
            events_per_million=events["custom_events_per_million"],
            checked_on=raw["checked_on"],
        )


@dataclass(frozen=True)
class FunctionConfig:
    logical_id: str
    memory_mb: int
    architecture: str


def function_configs(template_path: Path) -> dict[str, FunctionConfig]:
    """Every ``AWS::Serverless::Function``'s memory and architecture, SAM Globals merged in."""
    from orchestrator.local.template import Template

    template = Template.from_file(template_path, region="us-east-1", stack_name="cost")
    configs: dict[str, FunctionConfig] = {}
    for logical_id in template.resources("AWS::Serverless::Function"):
        merged = template.function_properties(logical_id)
        props = template.resolve(
            {key: merged[key] for key in ("MemorySize", "Architectures") if key in merged},
            ref=lambda name: name,
            get_att=lambda name, attribute: f"{name}.{attribute}",
        )
        architectures = props.get("Architectures") or ["x86_64"]
        configs[logical_id] = FunctionConfig(
            logical_id=logical_id,
            memory_mb=int(props.get("MemorySize", 128)),  # Lambda's default when none is set
            architecture=str(architectures[-1]),  # a resource's own list comes after Globals'
        )
    return configs


# ---------------------------------------------------------------------- unit costs (USD per request)
def lambda_cost(config: FunctionConfig, invocations: int, total_ms: float, prices: Prices) -> float:
    """Requests plus GB-seconds, each invocation's duration rounded up to the millisecond."""
    if invocations <= 0:
        return 0.0
    billed_ms = math.ceil(total_ms / invocations) * invocations
    gb_seconds = config.memory_mb / 1024 * billed_ms / 1000
    return (
        invocations * prices.lambda_requests_per_million / MILLION
        + gb_seconds * prices.lambda_gb_second[config.architecture]
    )


def express_cost(duration_ms: float, prices: Prices, memory_mb: int | None = None) -> float:
    """One Express execution: the request plus its duration in 100 ms steps and 64 MB chunks."""
    step = prices.express_duration_rounding_ms
    billed_s = max(1, math.ceil(duration_ms / step)) * step / 1000
    chunks = max(1, math.ceil((memory_mb or prices.express_memory_chunk_mb) / prices.express_memory_chunk_mb))
    gb = chunks * prices.express_memory_chunk_mb / 1024
    return prices.express_requests_per_million / MILLION + billed_s * gb * prices.express_gb_second


@dataclass
class Breakdown:
    """One design's cost per request, by component (USD)."""

    parts: dict[str, float] = field(default_factory=dict)
    #: Seconds of model wait that are billed (per request, any memory size).
    billed_wait_s: float = 0.0

    def add(self, component: str, usd: float) -> None:
        self.parts[component] = self.parts.get(component, 0.0) + usd

    @property
    def total(self) -> float:
        return sum(self.parts.values())

    def per_million(self) -> float:
        return self.total * MILLION


@dataclass(frozen=True)
class Options:
    """Assumptions that are not in the template or the measurements (printed with the tables)."""

    #: Memory of the single-Lambda baseline C; None: the largest MemorySize among its nodes and the API.
    single_memory_mb: int | None = None
    #: Lambda authorizer invocations per request in B-rest (0 = every token's answer cached).
    authorizer_calls_per_request: float = 0.0
    authorizer_memory_mb: int = 128
    authorizer_ms: float = 5.0
    #: Express execution memory (definition + payload); one 64 MB chunk for this graph's small state.
    express_memory_mb: int = 64


def _shared(branch: dict[str, Any], prices: Prices, breakdown: Breakdown) -> None:
    """DynamoDB and EventBridge: the same items are written whatever runs the graph."""
    breakdown.add(
        "DynamoDB",
        branch["dynamodb_read_units"] * prices.ddb_read_units_per_million / MILLION
        + branch["dynamodb_write_units"] * prices.ddb_write_units_per_million / MILLION,
    )
    events = sum(
        count for calls in branch["calls"].values() for op, count in calls.items() if op == "events:PutEvents"
    )
    breakdown.add("EventBridge", events * prices.events_per_million / MILLION)


def _model_calls(branch: dict[str, Any]) -> int:
    """Model calls that wait: one per agent invocation (the offline stand-in answers at once)."""
    return int(branch["function_invocations"].get(AGENT_FUNCTION, 0))


def _node_lambdas(
    branch: dict[str, Any],
    functions: dict[str, FunctionConfig],
    prices: Prices,
    wait_s: float,
    breakdown: Breakdown,
) -> None:
    for logical_id, total_ms in branch["function_ms"].items():
        invocations = int(branch["function_invocations"][logical_id])
        waited_ms = wait_s * 1000 * invocations if logical_id == AGENT_FUNCTION else 0.0
        breakdown.add(
            "node Lambdas", lambda_cost(functions[logical_id], invocations, total_ms + waited_ms, prices)
        )
    breakdown.billed_wait_s += wait_s * _model_calls(branch)


def costs(
    branch: dict[str, Any],
    functions: dict[str, FunctionConfig],
    prices: Prices,
    wait_s: float,
    options: Options = Options(),
) -> dict[str, Breakdown]:
    """Cost per request of one measured branch under each design, with ``wait_s`` per model call."""
    wait_ms = wait_s * 1000 * _model_calls(branch)
    execution_ms = branch["execution_ms"] + wait_ms
    # The API function's own work: its wall time minus the execution it waited for.
    api_own_ms = max(0.0, branch["api_ms"] - branch["execution_ms"])
    result: dict[str, Breakdown] = {}

    a = Breakdown()
    a.add("API Gateway", prices.http_api_per_million / MILLION)
    a.add("API Lambda", lambda_cost(functions[API_FUNCTION], 1, api_own_ms + execution_ms, prices))
    a.billed_wait_s += wait_ms / 1000
    a.add("Step Functions", express_cost(execution_ms, prices, options.express_memory_mb))
    _node_lambdas(branch, functions, prices, wait_s, a)
    _shared(branch, prices, a)
    result["A"] = a

    for name, gateway in (("B-http", prices.http_api_per_million), ("B-rest", prices.rest_api_per_million)):
        b = Breakdown()
        b.add("API Gateway", gateway / MILLION)
        if name == "B-rest" and options.authorizer_calls_per_request > 0:
            authorizer = FunctionConfig("Authorizer", options.authorizer_memory_mb, "arm64")
            b.add(
                "authorizer",
                options.authorizer_calls_per_request
                * lambda_cost(authorizer, 1, options.authorizer_ms, prices),
            )
        b.add("Step Functions", express_cost(execution_ms, prices, options.express_memory_mb))
        _node_lambdas(branch, functions, prices, wait_s, b)
        _shared(branch, prices, b)
        result[name] = b

    c = Breakdown()
    c.add("API Gateway", prices.http_api_per_million / MILLION)
    memory = options.single_memory_mb or max(
        functions[f].memory_mb for f in [API_FUNCTION, *branch["function_ms"]]
    )
    single = FunctionConfig("SingleFunction", memory, functions[API_FUNCTION].architecture)
    work_ms = api_own_ms + sum(branch["function_ms"].values()) + wait_ms
    c.add("one Lambda", lambda_cost(single, 1, work_ms, prices))
    c.billed_wait_s += wait_ms / 1000
    _shared(branch, prices, c)
    result["C"] = c
    return result


def standard_run_cost(branch: dict[str, Any], prices: Prices) -> float:
    """State transitions of the same branch as a Standard (background) run, USD per request."""
    return float(branch["transitions"]) * prices.standard_per_thousand_transitions / 1000


# ---------------------------------------------------------------------- report
#: Components every design pays the same (the graph writes the same items wherever it runs).
SHARED = frozenset({"DynamoDB", "EventBridge"})


@dataclass(frozen=True)
class Inputs:
    """Everything a table needs: the measurements, the template's functions, prices, assumptions."""

    hops: dict[str, Any]
    functions: dict[str, FunctionConfig]
    prices: Prices
    options: Options

    def costs(self, branch: str, wait_s: float, options: Options | None = None) -> dict[str, Breakdown]:
        return costs(
            self.hops["branches"][branch], self.functions, self.prices, wait_s, options or self.options
        )


def ratio(design: Breakdown, baseline: Breakdown, *, exclude: frozenset[str] = frozenset()) -> float:
    """``design`` / ``baseline``, optionally without the components both pay alike."""
    mine = sum(v for k, v in design.parts.items() if k not in exclude)
    theirs = sum(v for k, v in baseline.parts.items() if k not in exclude)
    return mine / theirs if theirs else math.nan


def print_report(inputs: Inputs, waits: list[float]) -> dict[str, Any]:
    hops, functions, prices = inputs.hops, inputs.functions, inputs.prices
    summary: dict[str, Any] = {}
    memory = ", ".join(f"{f.removesuffix('Function')} {c.memory_mb}" for f, c in functions.items())
    print(
        f"Prices: us-east-1 list prices checked {prices.checked_on} (bench/prices.json); model cost excluded."
    )
    print(f"Memory (MB, template.yaml): {memory}; architecture {functions[API_FUNCTION].architecture}.")
    print(f"Durations: {hops['machine']}, measured {hops['measured_at']} (lower bounds).")
    for wait_s in waits:
        print()
        print(f"USD per 1M requests, model wait {wait_s:g} s per model call (ratio to C in brackets)")
        header = f"{'branch':<16}" + "".join(f"{d:>16}" for d in DESIGNS) + f"{'Standard run':>14}"
        print(header)
        print("-" * len(header))
        for name, branch in hops["branches"].items():
            per_design = inputs.costs(name, wait_s)
            cells = []
            for design in DESIGNS:
                value = per_design[design].per_million()
                times = ratio(per_design[design], per_design["C"])
                cells.append(f"{value:>9.2f} ({times:.2f}×)" if design != "C" else f"{value:>16.2f}")
            transitions = standard_run_cost(branch, prices) * MILLION
            print(
                f"{name:<16}" + "".join(f"{c:>16}" for c in cells) + f"{'+' + format(transitions, '.2f'):>14}"
            )
            summary.setdefault(name, {})[f"wait_{wait_s:g}"] = {
                d: {
                    "usd_per_million": round(b.per_million(), 3),
                    "ratio_to_C": round(ratio(b, per_design["C"]), 3),
                    "ratio_to_C_compute_only": round(ratio(b, per_design["C"], exclude=SHARED), 3),
                    "billed_wait_s": round(b.billed_wait_s, 3),
                    "parts": {k: round(v * MILLION, 3) for k, v in b.parts.items()},
                }
                for d, b in per_design.items()
            }
    print()
    print("Designs: " + "; ".join(DESIGN_NAMES[d] for d in DESIGNS) + ".")
    print("'Standard run': the transitions the same branch costs as a POST /v1/runs (Standard) run, on top.")
    return summary


def print_breakdown(inputs: Inputs, branch_name: str, waits: list[float]) -> None:
    for wait_s in waits:
        per_design = inputs.costs(branch_name, wait_s)
        print()
        print(f"{branch_name}, model wait {wait_s:g} s: USD per 1M requests by component")
        components = sorted({c for b in per_design.values() for c in b.parts})
        print(f"{'component':<20}" + "".join(f"{d:>10}" for d in DESIGNS))
        for component in components:
            values = "".join(f"{per_design[d].parts.get(component, 0.0) * MILLION:>10.2f}" for d in DESIGNS)
            print(f"{component:<20}{values}")
        print(f"{'total':<20}" + "".join(f"{per_design[d].per_million():>10.2f}" for d in DESIGNS))
        print(f"{'billed wait, s':<20}" + "".join(f"{per_design[d].billed_wait_s:>10.1f}" for d in DESIGNS))


def target_check(inputs: Inputs, waits: list[float], target: float) -> None:
    """The issue's target for plain chats, against C as configured and against C at the API's memory."""
    branch = inputs.hops["branches"]["plain chat"]
    small = Options(
        **{**inputs.options.__dict__, "single_memory_mb": inputs.functions[API_FUNCTION].memory_mb}
    )
    print()
    print(f"Target: plain chat within {target:g}× of C, one Lambda per node, the model's wait billed once")
    print(f"{'':<18}{'vs C':>8}{'orch.+compute':>15}{'vs C at API memory':>20}  wait billed  verdict")
    for wait_s in waits:
        per_design = inputs.costs("plain chat", wait_s)
        smaller = inputs.costs("plain chat", wait_s, small)
        for design in ("A", "B-http", "B-rest"):
            times = ratio(per_design[design], per_design["C"])
            compute = ratio(per_design[design], per_design["C"], exclude=SHARED)
            versus_small = ratio(smaller[design], smaller["C"])
            once = per_design[design].billed_wait_s <= wait_s * _model_calls(branch) + 1e-9
            verdict = "meets" if times <= target and once else "misses"
            billed = "-    " if wait_s == 0 else "once " if once else "twice"
            print(
                f"wait {wait_s:g} s {design:<9}{times:>7.2f}×{compute:>14.2f}×{versus_small:>19.2f}×  "
                f"{billed}        {verdict}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hops", type=Path, default=ROOT / "bench" / "results" / "hops.json")
    parser.add_argument("--prices", type=Path, default=ROOT / "bench" / "prices.json")
    parser.add_argument("--template", type=Path, default=ROOT / "template.yaml")
    parser.add_argument(
        "--wait", type=float, nargs="+", default=[0.0, 2.0], help="model wait per call, seconds"
    )
    parser.add_argument("--single-memory", type=int, default=None, help="memory (MB) of baseline C")
    parser.add_argument(
        "--authorizer-calls", type=float, default=0.0, help="authorizer calls per request (B-rest)"
    )
    parser.add_argument("--target", type=float, default=1.25)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "cost.json")
    args = parser.parse_args()
    if not args.hops.is_file():
        sys.exit(f"{args.hops} is missing: run bench/hops.py first")
    inputs = Inputs(
        hops=json.loads(args.hops.read_text(encoding="utf-8")),
        functions=function_configs(args.template),
        prices=Prices.load(args.prices),
        options=Options(
            single_memory_mb=args.single_memory, authorizer_calls_per_request=args.authorizer_calls
        ),
    )
    summary = print_report(inputs, args.wait)
    print_breakdown(inputs, "plain chat", args.wait)
    target_check(inputs, args.wait, args.target)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(summary, indent=2) + "\n")


if __name__ == "__main__":
    main()
