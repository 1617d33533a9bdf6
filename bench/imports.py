"""Cold import time of every Lambda handler, each in a fresh interpreter (median of several runs).

PYTHONPATH=layers/core .venv/bin/python bench/imports.py [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PROBE = r"""
import importlib.util, json, sys, time
t0 = time.perf_counter()
spec = importlib.util.spec_from_file_location("handler_under_test", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
t1 = time.perf_counter()
warm = 0.0
if sys.argv[2] == "router":
    from orchestrator import container
    container.current().router.classify("warm up")
    warm = time.perf_counter() - t1
elif sys.argv[2] == "grounding":
    from orchestrator.clients.embeddings.embedded import EmbeddedEmbedder
    EmbeddedEmbedder().embed(["warm up"])
    warm = time.perf_counter() - t1
print(json.dumps({"import_ms": (t1 - t0) * 1000, "model_load_ms": warm * 1000}))
"""

MODEL_LOADERS = {"intent_router": "router", "grounding": "grounding"}


def measure(handler: Path, loader: str, runs: int) -> dict[str, float]:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT / "layers" / "core"),
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_NAMESPACE": "bench",
    }
    samples = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", PROBE, str(handler), loader],
            capture_output=True,
            text=True,
            env=env,
            check=True,
            cwd=ROOT,
        )
        samples.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return {
        "import_ms": statistics.median(s["import_ms"] for s in samples),
        "model_load_ms": statistics.median(s["model_load_ms"] for s in samples),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print(f"{'handler':<16} {'import ms':>10} {'+model ms':>10} {'target ms':>10}")
    for folder in sorted((ROOT / "functions").iterdir()):
        handler = folder / "app.py"
        if not handler.exists():
            continue
        loader = MODEL_LOADERS.get(folder.name, "none")
        result = measure(handler, loader, args.runs)
        target = 800 if folder.name == "api" or loader != "none" else 300
        extra = f"{result['model_load_ms']:10.0f}" if loader != "none" else f"{'-':>10}"
        print(f"{folder.name:<16} {result['import_ms']:10.0f} {extra} {target:10d}")


if __name__ == "__main__":
    main()
