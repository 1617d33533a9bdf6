"""Load: concurrent virtual users across every branch, then proof that each turn was stored once.

Starts the local server the way `make run` does (``python -m orchestrator.local.server`` on a
free 127.0.0.1 port, offline provider) or uses ``--url``. Each virtual user has its own user id
and loops over the branches: plain chat, a rag question over a document it ingested, the
calculator tool, a two-step plan, a cached repeat and an asynchronous ``POST /v1/runs`` polled to
completion. Every turn goes to a session of its own with a unique marker in its prompt, so
``GET /v1/memory/stats?user_id=…&session_id=…`` (the session's stored turn count) tells whether
that turn was stored exactly once. Prints throughput, p50/p95/p99 per branch and overall,
errors by status and code, and the storage check; exits non-zero on a 5xx, a lost turn or a
duplicate.

    PYTHONPATH=layers/core .venv/bin/python bench/load.py [--users 20] [--duration 60] [--url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import random
import string
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

#: One request may take this long before it counts as an error (the offline graph takes ~0.1 s).
REQUEST_TIMEOUT_S = 30.0
#: After the duration, the turns in flight get this long to finish before everything stops.
GRACE_S = 30.0
STARTUP_TIMEOUT_S = 90.0
POLL_INTERVAL_S = 0.1
BRANCHES = ("chat", "rag", "tool", "plan", "cached", "async_run")
DOCUMENT_TEXT = (
    "Annual plans can be refunded pro rata within 30 days of renewal. Monthly plans are not refundable. "
    "Support answers within one business day."
)


def marker_factory() -> Callable[[], str]:
    """Unique markers of letters only: digits in a prompt would change what the calculator reads."""
    rng = random.Random()
    seen: set[str] = set()

    def new() -> str:
        while True:
            value = "".join(rng.choices(string.ascii_lowercase, k=10))
            if value not in seen:
                seen.add(value)
                return value

    return new


@dataclass
class Sample:
    """One request of one branch: how long it took and how it ended."""

    branch: str
    latency_s: float
    status: int  # 0: no HTTP answer (timeout, connection refused)
    code: str | None = None


@dataclass
class SentTurn:
    """A turn the load sent, in a session of its own: stored exactly once when it got a run id."""

    user_id: str
    session_id: str
    marker: str
    branch: str
    run_id: str | None


@dataclass
class LoadReport:
    started_at: float
    finished_at: float
    samples: list[Sample] = field(default_factory=list)
    turns: list[SentTurn] = field(default_factory=list)
    cache_hits: int = 0
    #: session id → turns stored, for each sent turn whose count was not what it had to be.
    storage_misses: dict[str, int] = field(default_factory=dict)
    storage_checked: int = 0

    @property
    def elapsed_s(self) -> float:
        return self.finished_at - self.started_at

    def server_errors(self) -> list[Sample]:
        return [s for s in self.samples if s.status >= 500 or s.status == 0]

    def errors(self) -> Counter[str]:
        return Counter(
            f"{s.status} {s.code or ''}".strip() for s in self.samples if not 200 <= s.status < 300
        )


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0..1) of a non-empty list."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(q * len(ordered) + 0.5) - 1))]


def _error_code(response: httpx.Response) -> str | None:
    if response.status_code < 400:
        return None
    try:
        error = response.json().get("error", {})
    except ValueError:
        return "not-json"
    return str(error.get("code")) if isinstance(error, dict) else "no-error-object"


class VirtualUser:
    """One user of the load: its own id, one document, and a turn per session."""

    def __init__(
        self, client: httpx.AsyncClient, index: int, users: int, run_tag: str, report: LoadReport
    ) -> None:
        self.client = client
        #: Spread over the branches, so every branch is under load from the first second.
        self.first_branch = round(index * len(BRANCHES) / users)
        self.user_id = f"load-{run_tag}-{index}"
        self.index = index
        self.report = report
        self.marker = marker_factory()

    async def _timed(
        self, branch: str, send: Callable[[], Awaitable[httpx.Response]]
    ) -> httpx.Response | None:
        started = time.perf_counter()
        try:
            response = await send()
        except httpx.HTTPError as exc:
            self.report.samples.append(Sample(branch, time.perf_counter() - started, 0, type(exc).__name__))
            return None
        self.report.samples.append(
            Sample(branch, time.perf_counter() - started, response.status_code, _error_code(response))
        )
        return response

    async def _chat(self, branch: str, prompt: str) -> httpx.Response | None:
        marker = self.marker()
        return await self._send(branch, f"{prompt} (ref {marker})", marker, f"s-{marker}")

    async def _send(self, branch: str, prompt: str, marker: str, session_id: str) -> httpx.Response | None:
        body = {"prompt": prompt, "user_id": self.user_id, "session_id": session_id}
        response = await self._timed(branch, lambda: self.client.post("/v1/chat", json=body))
        self._sent(branch, session_id, marker, response)
        return response

    def _sent(self, branch: str, session_id: str, marker: str, response: httpx.Response | None) -> None:
        run_id = None
        if response is not None:
            try:
                payload = response.json()
                run_id = payload.get("run_id") if isinstance(payload, dict) else None
            except ValueError:
                run_id = None
        self.report.turns.append(SentTurn(self.user_id, session_id, marker, branch, run_id))

    async def setup(self) -> None:
        """The document the rag branch asks about, owned by this user."""
        body = {"user_id": self.user_id, "title": "Refund policy", "text": DOCUMENT_TEXT, "doc_id": "refunds"}
        response = await self._timed("ingest", lambda: self.client.post("/v1/documents", json=body))
        if response is None or response.status_code != 201:
            raise RuntimeError(
                f"{self.user_id}: could not ingest its document ({response and response.text})"
            )

    async def chat(self) -> None:
        await self._chat("chat", "Hi there! How are you doing this morning?")

    async def rag(self) -> None:
        await self._chat(
            "rag", "According to my documents, what does the refund policy say about annual plans?"
        )

    async def tool(self) -> None:
        a, b = random.randint(2, 999), random.randint(2, 999)
        await self._chat("tool", f"Calculate {a} * {b} for me")

    async def plan(self) -> None:
        await self._chat(
            "plan", "First calculate 12 * 12, then write a short haiku that mentions the result."
        )

    async def cached(self) -> None:
        """The same question twice (two sessions): the second answer comes from the cache."""
        marker = self.marker()
        prompt = f"Explain the difference between TCP and UDP. (ref {marker})"
        await self._send("cache_fill", prompt, marker, f"s-{marker}")
        response = await self._send("cached", prompt, marker, f"s-{marker}-again")
        if response is not None and response.status_code == 200:
            self.report.cache_hits += response.json().get("cached") == "exact"

    async def async_run(self) -> None:
        """``POST /v1/runs``, then poll its status URL until the run ends; timed to the end."""
        marker = self.marker()
        session_id = f"s-{marker}"
        body = {
            "prompt": f"Calculate 21 * 2 for me (ref {marker})",
            "user_id": self.user_id,
            "session_id": session_id,
        }
        started = time.perf_counter()
        try:
            accepted = await self.client.post("/v1/runs", json=body)
            final: httpx.Response | None = accepted
            code = _error_code(accepted)
            if accepted.status_code == 202:
                final, code = await self._until_finished(accepted.json()["status_url"])
        except httpx.HTTPError as exc:
            self.report.samples.append(
                Sample("async_run", time.perf_counter() - started, 0, type(exc).__name__)
            )
            self._sent("async_run", session_id, marker, None)
            return
        status = final.status_code if final is not None else 0
        self.report.samples.append(Sample("async_run", time.perf_counter() - started, status, code))
        self._sent("async_run", session_id, marker, accepted)

    async def _until_finished(self, url: str) -> tuple[httpx.Response | None, str | None]:
        """The last poll of a run's status URL, and an error code unless the run succeeded."""
        deadline = time.monotonic() + REQUEST_TIMEOUT_S
        while time.monotonic() < deadline:
            polled = await self.client.get(url)
            if polled.status_code != 200:
                return polled, _error_code(polled)
            status = str(polled.json().get("status"))
            if status != "RUNNING":
                return polled, None if status == "SUCCEEDED" else f"run_{status.lower()}"
            await asyncio.sleep(POLL_INTERVAL_S)
        return None, "still_running"

    async def loop(self, until: float) -> None:
        steps = {
            "chat": self.chat,
            "rag": self.rag,
            "tool": self.tool,
            "plan": self.plan,
            "cached": self.cached,
            "async_run": self.async_run,
        }
        for turn in itertools.count(self.first_branch):
            if time.monotonic() >= until:
                return
            await steps[BRANCHES[turn % len(BRANCHES)]]()


async def verify_stored_once(client: httpx.AsyncClient, report: LoadReport, concurrency: int = 16) -> None:
    """Ask the API how many turns each sent turn's session holds: one when the turn had a run id
    (answered or failed, the run records it), at most one when the request never got an answer."""
    limit = asyncio.Semaphore(concurrency)

    async def check(turn: SentTurn) -> None:
        async with limit:
            response = await client.get(
                "/v1/memory/stats", params={"user_id": turn.user_id, "session_id": turn.session_id}
            )
        stored = int(response.json()["session_turns"]) if response.status_code == 200 else -1
        expected_ok = stored == 1 if turn.run_id else stored in (0, 1)
        if not expected_ok:
            report.storage_misses[turn.session_id] = stored

    await asyncio.gather(*(check(turn) for turn in report.turns))
    report.storage_checked = len(report.turns)


async def run_load(
    base_url: str, *, users: int, duration_s: float, grace_s: float = GRACE_S, run_tag: str | None = None
) -> LoadReport:
    """``users`` virtual users for ``duration_s`` against ``base_url``, then the storage check.

    Bounded: nothing new starts after ``duration_s``, and whatever is still in flight after
    ``grace_s`` more is cancelled (and counted as an error).
    """
    tag = run_tag or f"{int(time.time())}{random.randint(0, 999):03d}"
    report = LoadReport(started_at=time.monotonic(), finished_at=0.0)
    limits = httpx.Limits(max_connections=users * 2 + 16, max_keepalive_connections=users * 2)
    async with httpx.AsyncClient(base_url=base_url, timeout=REQUEST_TIMEOUT_S, limits=limits) as client:
        people = [VirtualUser(client, index, users, tag, report) for index in range(users)]
        await asyncio.gather(*(person.setup() for person in people))
        report.started_at = time.monotonic()
        until = report.started_at + duration_s
        tasks = [asyncio.create_task(person.loop(until)) for person in people]
        _, late = await asyncio.wait(tasks, timeout=duration_s + grace_s)
        for task in late:
            task.cancel()
        report.samples.extend(Sample("cancelled", grace_s, 0, "over-grace") for _ in late)
        report.finished_at = time.monotonic()
        await verify_stored_once(client, report)
    return report


def summary(report: LoadReport) -> list[str]:
    """The report as lines of text."""
    timed = [s for s in report.samples if s.branch != "ingest"]
    lines = [
        f"{len(timed)} requests, {len(report.turns)} turns in {report.elapsed_s:.1f} s: "
        f"{len(timed) / report.elapsed_s:.1f} requests/s, {len(report.turns) / report.elapsed_s:.1f} turns/s",
        f"{'branch':<12} {'n':>6} {'ok':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}",
    ]
    groups = {branch: [s for s in timed if s.branch == branch] for branch in (*BRANCHES, "cache_fill")}
    groups["all"] = timed
    for branch, samples in groups.items():
        if not samples:
            continue
        ms = [s.latency_s * 1000 for s in samples]
        ok = sum(200 <= s.status < 300 and s.code is None for s in samples)
        lines.append(
            f"{branch:<12} {len(samples):6d} {ok:6d} {percentile(ms, 0.5):8.1f} "
            f"{percentile(ms, 0.95):8.1f} {percentile(ms, 0.99):8.1f}"
        )
    cached = len(groups.get("cached", []))
    lines.append(f"cache hits on the repeat: {report.cache_hits}/{cached}")
    errors = report.errors()
    lines.append("errors: " + (", ".join(f"{key} ×{n}" for key, n in errors.most_common()) or "none"))
    missing = sum(1 for n in report.storage_misses.values() if n == 0)
    duplicated = sum(1 for n in report.storage_misses.values() if n > 1)
    verdict = "OK" if not report.storage_misses else "FAILED"
    lines.append(
        f"stored exactly once: {verdict} ({report.storage_checked} turns checked, {missing} missing, "
        f"{duplicated} duplicated, {len(report.storage_misses) - missing - duplicated} unreadable)"
    )
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load")
    parser.add_argument("--grace", type=float, default=GRACE_S, help="seconds for turns in flight")
    parser.add_argument("--url", help="an already running server (else one is started on 127.0.0.1)")
    args = parser.parse_args()

    def load(base: str) -> LoadReport:
        print(f"{args.users} users for {args.duration:.0f} s against {base}", flush=True)
        return asyncio.run(run_load(base, users=args.users, duration_s=args.duration, grace_s=args.grace))

    if args.url:
        report = load(args.url.rstrip("/"))
    else:
        # Run as a script, this folder is on sys.path; the tests import bench.load and start no server.
        from common import local_server

        log_path = Path(tempfile.gettempdir()) / f"load-server-{os.getpid()}.log"
        with local_server(
            log_path=log_path, env={"LLM_PROVIDER": "offline"}, startup_timeout_s=STARTUP_TIMEOUT_S
        ) as base:
            report = load(base)
    for line in summary(report):
        print(line)
    failed = bool(report.storage_misses) or bool(report.server_errors())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
