"""Given programs from a model, run_python runs them confined: no credentials, bounded time and output."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from orchestrator.config import Settings
from orchestrator.state import ToolCall
from orchestrator.tools.executor import execute_tool_call
from orchestrator.tools.registry import ToolRegistry
from orchestrator.tools.sandbox import run_python_code

LIMITS: dict[str, Any] = {"timeout_s": 1.0, "memory_mb": 128, "max_output_bytes": 4_096}


def run(code: str, **settings: Any) -> Any:
    config = Settings(_env_file=None, tools_table="", **settings)  # type: ignore[call-arg]
    return execute_tool_call(
        ToolCall(id="c1", name="run_python", arguments={"code": code}), ToolRegistry(), config
    )


def test_a_program_runs_and_its_output_comes_back() -> None:
    result = run("import math\nprint(sum(range(10)), math.factorial(5))")

    assert result.ok, result.error
    assert result.output["stdout"] == "45 120\n"
    assert result.output["exit_code"] == 0
    assert result.output["timed_out"] is False


def test_a_failing_program_is_a_result_with_its_traceback() -> None:
    result = run("raise ValueError('boom')")

    assert result.ok
    assert result.output["exit_code"] == 1
    assert "ValueError: boom" in result.output["stderr"]


def test_the_environment_is_empty_so_no_aws_credentials_leak(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "super-secret-value")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "token-value")
    code = "import os\nprint(sorted(k for k in os.environ if k.startswith('AWS')))\nprint(len(os.environ))"

    result = run_python_code(code, **LIMITS)

    lines = result.stdout.splitlines()
    assert lines[0] == "[]"
    assert int(lines[1]) <= 1  # at most LC_CTYPE, which Python sets itself for UTF-8 (PEP 538)


def test_only_the_standard_library_is_importable() -> None:
    result = run_python_code("import boto3", **LIMITS)

    assert result.exit_code == 1
    assert "ModuleNotFoundError" in result.stderr


def test_an_infinite_loop_is_killed_at_the_timeout() -> None:
    started = time.perf_counter()

    result = run_python_code("print('started', flush=True)\nwhile True:\n    pass", **LIMITS)

    assert result.timed_out
    assert result.exit_code < 0
    assert result.stdout == "started\n"  # unbuffered: output before the kill is kept
    assert time.perf_counter() - started < 2.5


def test_a_timeout_through_the_executor_is_a_tool_timeout_with_partial_output() -> None:
    result = run("import time\nprint('tick')\ntime.sleep(30)", code_exec_timeout_s=0.5)

    assert not result.ok
    assert result.error is not None and result.error.startswith("tool_timeout:")
    assert result.output["stdout"] == "tick\n"


def test_children_die_with_the_program() -> None:
    code = "import subprocess\np = subprocess.Popen(['sleep', '30'])\nprint(p.pid)"

    result = run_python_code(code, **LIMITS)

    pid = int(result.stdout)
    deadline = time.monotonic() + 1.0
    while _running(pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not _running(pid)


def _running(pid: int) -> bool:
    """Alive and not a zombie (a killed orphan may wait for a reaper that never comes in a container)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\tZ" not in next(line for line in status.splitlines() if line.startswith("State:"))


def test_a_memory_hog_fails_without_hurting_the_host() -> None:
    result = run_python_code("blocks = []\nwhile True:\n    blocks.append(bytearray(10**7))", **LIMITS)

    assert not result.timed_out
    assert result.exit_code != 0
    assert "MemoryError" in result.stderr or result.exit_code < 0


def test_output_beyond_the_cap_is_cut_by_the_kernel() -> None:
    result = run_python_code("print('x' * 100_000)", **LIMITS)

    assert result.output_truncated
    assert len(result.stdout) <= LIMITS["max_output_bytes"]


def test_the_program_runs_in_a_fresh_directory_that_is_removed() -> None:
    result = run_python_code("import os\nprint(os.getcwd())\nopen('f.txt', 'w').write('x')", **LIMITS)

    workdir = Path(result.stdout.strip())
    assert workdir.name.startswith("run_python_")
    assert not workdir.exists()
