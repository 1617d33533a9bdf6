"""What the bench scripts share: a free port, `make run`'s server started and stopped, a percentile.

Scripts run as ``python bench/<name>.py``, so this folder is on ``sys.path`` and they import it
as ``common``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentile(values: list[float], q: float) -> float:
    """The value at rank ``q`` (0..1) of the sorted values, rounded to the nearest index."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


@contextmanager
def local_server(
    *,
    log_path: Path | None = None,
    env: dict[str, str] | None = None,
    startup_timeout_s: float = 60.0,
) -> Iterator[str]:
    """`make run`'s server on a free 127.0.0.1 port; yields its base URL once ``/health`` answers.

    Its output goes to ``log_path`` (or nowhere); ``env`` adds variables (``LLM_PROVIDER``…).
    Start-up is bounded, a server that exits early is reported, and it is stopped on the way out.
    """
    port = free_port()
    variables = {
        **os.environ,
        "PYTHONPATH": str(ROOT / "layers" / "core"),
        "LOG_LEVEL": "WARNING",
        **(env or {}),
    }
    with log_path.open("wb") if log_path else open(os.devnull, "wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "orchestrator.local.server", "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT,
            env=variables,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + startup_timeout_s
            while True:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the local server did not start; see {log_path or 'its output'}")
                try:
                    if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            yield base
        finally:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(timeout=5)
