"""/v1/chat latency through the local server (`make run`'s entry point), offline provider.

Starts the server on a free 127.0.0.1 port, sends a bounded number of requests across every
intent (cache bypassed so each request runs the whole graph), prints p50/p95 per intent.

    PYTHONPATH=layers/core .venv/bin/python bench/chat_latency.py [--requests 100]
"""

from __future__ import annotations

import argparse
import statistics
import time

import httpx
from common import local_server, percentile

PROMPTS = {
    "chat": "Explain how a hash map works in simple terms.",
    "tool": "Calculate 1234 * 5678 for me",
    "rag": "Search my uploaded notes for the onboarding checklist.",
    "planning": "First calculate 12 * 12, then write a haiku about the result.",
    "external_agent": "What is our customer churn rate by cohort this quarter?",
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=100)
    args = parser.parse_args()
    started = time.monotonic()
    with local_server() as base, httpx.Client(base_url=base, timeout=60) as client:
        print(f"server ready in {time.monotonic() - started:.2f} s")
        # One warm-up per intent: the first request pays for model loads and imports.
        for prompt in PROMPTS.values():
            client.post(
                "/v1/chat", json={"prompt": prompt, "user_id": "bench", "metadata": {"no_cache": True}}
            )
        latencies: dict[str, list[float]] = {name: [] for name in PROMPTS}
        names = list(PROMPTS)
        for i in range(args.requests):
            name = names[i % len(names)]
            t0 = time.perf_counter()
            response = client.post(
                "/v1/chat",
                json={"prompt": PROMPTS[name], "user_id": "bench", "metadata": {"no_cache": True}},
            )
            latencies[name].append((time.perf_counter() - t0) * 1000)
            if response.status_code != 200:
                print(f"{name}: HTTP {response.status_code} {response.text[:200]}")
    every = [v for values in latencies.values() for v in values]
    print(f"{'intent':<16} {'n':>4} {'p50 ms':>8} {'p95 ms':>8}")
    for name, values in latencies.items():
        if values:
            p50, p95 = statistics.median(values), percentile(values, 0.95)
            print(f"{name:<16} {len(values):4d} {p50:8.1f} {p95:8.1f}")
    print(f"{'all':<16} {len(every):4d} {statistics.median(every):8.1f} {percentile(every, 0.95):8.1f}")


if __name__ == "__main__":
    main()
