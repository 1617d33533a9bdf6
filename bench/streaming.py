"""Streaming /v1/chat through the local server (uvicorn), offline provider: time to the first
event (``run``), to the first progress event from the graph (``intent``), to the first answer
token and to the full answer (``done``), over N chats.

Starts the server on a free 127.0.0.1 port, streams N chats (cache bypassed, so each runs the
whole graph) with a real SSE client, prints p50/p95 of each time.

    PYTHONPATH=layers/core .venv/bin/python bench/streaming.py [--requests 20]
"""

from __future__ import annotations

import argparse
import statistics
import time

import httpx
from common import local_server, percentile
from httpx_sse import connect_sse

PROMPTS = [
    "Explain how a hash map works in simple terms.",
    "Calculate 1234 * 5678 for me",
    "First calculate 12 * 12, then write a haiku about the result.",
    "Search my uploaded notes for the onboarding checklist.",
]


def stream_one(client: httpx.Client, prompt: str) -> tuple[float, float, float, float]:
    """Milliseconds to the first event, the first graph event, the first token and ``done``."""
    body = {"prompt": prompt, "user_id": "bench", "stream": True, "metadata": {"no_cache": True}}
    t0 = time.perf_counter()
    first_event = first_progress = first_token = None
    with connect_sse(client, "POST", "/v1/chat", json=body) as source:
        for event in source.iter_sse():
            now = (time.perf_counter() - t0) * 1000
            first_event = first_event if first_event is not None else now
            if event.event != "run" and first_progress is None:
                first_progress = now
            if event.event == "token" and first_token is None:
                first_token = now
            if event.event in ("done", "error"):
                if event.event == "error":
                    print(f"error: {event.data[:200]}")
                return first_event, first_progress or now, first_token or now, now
    raise RuntimeError("the stream ended without done or error")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=20)
    args = parser.parse_args()
    times: list[tuple[float, float, float, float]] = []
    with local_server() as base, httpx.Client(base_url=base, timeout=60) as client:
        for prompt in PROMPTS:  # warm-up: model loads and imports
            stream_one(client, prompt)
        for i in range(args.requests):
            times.append(stream_one(client, PROMPTS[i % len(PROMPTS)]))
    print(f"{'streamed chats (offline provider)':<34} {'n':>4} {'p50 ms':>8} {'p95 ms':>8}")
    labels = (
        "time to first event (run)",
        "time to first graph event",
        "time to first token",
        "time to full answer",
    )
    for index, label in enumerate(labels):
        values = [t[index] for t in times]
        print(
            f"{label:<34} {len(values):4d} {statistics.median(values):8.1f} {percentile(values, 0.95):8.1f}"
        )


if __name__ == "__main__":
    main()
