"""Given programs from a model, run_python runs them confined: no credentials, bounded time and output."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from orchestrator.config import Settings
from orchestrator.errors import OrchestratorError, ToolBusyError, ToolInputError
from orchestrator.state import ToolCall
from orchestrator.tools.executor import execute_tool_call
from orchestrator.tools.registry import ToolRegistry
from orchestrator.tools.sandbox import (
    NamespaceSandbox,
    ProgramLimits,
    SandboxResult,
    code_runner,
    execute_request,
    run_python_code,
    sandbox_status,
)
from orchestrator.tools.sandbox.remote import RemoteCodeExecutor
from orchestrator.tools.sandbox.tool import EnvironmentSettings

LIMITS: dict[str, Any] = {"timeout_s": 1.0, "memory_mb": 128, "max_output_bytes": 4_096}


def run(code: str, **settings: Any) -> Any:
    settings = {"code_executor_function_name": None, **settings}  # run here, not in a function
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
    marker = f"child-of-run-python-{uuid.uuid4().hex}"
    code = (
        "import subprocess, sys\n"
        f"subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(30)', '{marker}'])\n"
        "print('started')"
    )

    result = run_python_code(code, **LIMITS)

    assert result.stdout == "started\n"
    deadline = time.monotonic() + 1.0
    while running_with_argument(marker) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert running_with_argument(marker) == []


def running_with_argument(marker: str) -> list[int]:
    """Host pids, alive and not zombies, whose command line holds ``marker``."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if marker.encode() in cmdline.read_bytes() and _running(int(cmdline.parent.name)):
                found.append(int(cmdline.parent.name))
        except OSError:
            continue
    return found


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
    before = set(Path(tempfile.gettempdir()).glob("run_python_*"))
    first = run_python_code("import os\nprint(os.listdir())\nopen('f.txt', 'w').write('x')", **LIMITS)

    second = run_python_code("import os\nprint(os.listdir())", **LIMITS)

    assert first.stdout == "['main.py']\n"
    assert second.stdout == "['main.py']\n"  # nothing of the first run is left for the next
    assert set(Path(tempfile.gettempdir()).glob("run_python_*")) <= before


# ---------------------------------------------------------------------- the code-executor function
class FakeLambda:
    """A boto3 Lambda client that answers one invocation as the code-executor function would."""

    def __init__(self, body: Any, function_error: str | None = None, raises: Exception | None = None) -> None:
        self.body, self.function_error, self.raises = body, function_error, raises
        self.requests: list[dict[str, Any]] = []

    def invoke(self, **kwargs: Any) -> dict[str, Any]:
        self.requests.append({**kwargs, "Payload": json.loads(kwargs["Payload"])})
        if self.raises is not None:
            raise self.raises
        response: dict[str, Any] = {"StatusCode": 200, "Payload": io.BytesIO(json.dumps(self.body).encode())}
        if self.function_error:
            response["FunctionError"] = self.function_error
        return response


PROGRAM_LIMITS = ProgramLimits(timeout_s=2.0, memory_mb=128, max_output_bytes=4_096)


def test_the_code_executor_function_gets_the_program_and_its_limits() -> None:
    answer = SandboxResult("4\n", "", 0, False, False, 12.5).to_dict()
    client = FakeLambda(answer)

    result = RemoteCodeExecutor("code-fn", region="us-east-1", client=client).run(
        "print(2+2)", PROGRAM_LIMITS
    )

    assert result.stdout == "4\n"
    (request,) = client.requests
    assert request["FunctionName"] == "code-fn"
    assert request["InvocationType"] == "RequestResponse"
    assert request["Payload"] == {
        "code": "print(2+2)",
        "timeout_s": 2.0,
        "memory_mb": 128,
        "max_output_bytes": 4096,
    }


@pytest.mark.parametrize(
    ("error_type", "code"),
    [
        ("SandboxUnavailableError", "sandbox_unavailable"),
        ("ToolBusyError", "busy"),
        ("Sandbox.Timedout", "tool_failed"),
    ],
)
def test_the_code_executors_typed_errors_come_back_typed(error_type: str, code: str) -> None:
    client = FakeLambda({"errorType": error_type, "errorMessage": "no"}, function_error="Unhandled")

    with pytest.raises(OrchestratorError) as raised:
        RemoteCodeExecutor("code-fn", region="us-east-1", client=client).run("print(1)", PROGRAM_LIMITS)

    assert raised.value.code == code


def test_a_throttled_code_executor_is_busy() -> None:
    from botocore.exceptions import ClientError

    throttled = ClientError({"Error": {"Code": "TooManyRequestsException", "Message": "Rate"}}, "Invoke")
    client = FakeLambda(None, raises=throttled)

    with pytest.raises(ToolBusyError):
        RemoteCodeExecutor("code-fn", region="us-east-1", client=client).run("print(1)", PROGRAM_LIMITS)


def test_the_function_runs_the_request_within_its_own_remaining_time() -> None:
    event = {
        "code": "import time\ntime.sleep(5)",
        "timeout_s": 30,
        "memory_mb": 128,
        "max_output_bytes": 4096,
    }
    started = time.perf_counter()

    result = execute_request(event, settings=Settings(_env_file=None), remaining_s=1.6)

    assert result["timed_out"] is True
    assert time.perf_counter() - started < 2.5


def test_a_malformed_request_is_refused() -> None:
    with pytest.raises(ToolInputError):
        execute_request({"code": "print(1)"}, settings=Settings(_env_file=None))


def test_the_function_reads_no_settings_from_ssm(monkeypatch: pytest.MonkeyPatch) -> None:
    # It sits in a VPC without endpoints: an SSM call would hang until the Lambda times out.
    monkeypatch.setenv("SETTINGS_SSM_PATH", "/orchestrator/nowhere")
    monkeypatch.setenv("CODE_EXEC_SANDBOX", "lambda")

    settings = EnvironmentSettings(_env_file=None)

    assert settings.code_exec_sandbox == "lambda"


LAMBDA_MODE = """
import json, os, sys, time
from orchestrator.config import Settings
from orchestrator.tools.sandbox import ProgramLimits, code_runner

settings = Settings(_env_file=None, code_exec_sandbox="lambda")
runner = code_runner(settings, environ={"AWS_LAMBDA_RUNTIME_API": "x"})
escape = (
    "import os, sys\\n"
    "if os.fork() == 0:\\n"
    "    os.setsid()\\n"
    "    if os.fork() == 0:\\n"
    "        os.execv(sys.executable, [sys.executable, '-c', 'import time; time.sleep(30)', sys.argv[0]])\\n"
    "    os._exit(0)\\n"
    "print(open('/proc/%d/environ' % os.getppid(), 'rb').read() if False else 'forked')\\n"
)
marker = sys.argv[1]
result = runner.run(escape.replace("sys.argv[0]", repr(marker)), ProgramLimits(2.0, 128, 4096))
peek = runner.run("import os\\ntry:\\n    print(len(open('/proc/%d/environ' % os.getppid(), 'rb').read()))\\n"
                  "except OSError as e:\\n    print(type(e).__name__)", ProgramLimits(2.0, 128, 4096))
print(json.dumps({"sandbox": runner.sandbox.name, "stdout": result.stdout, "peek": peek.stdout}))
"""


def test_in_the_code_executor_function_no_process_outlives_the_call_and_the_parent_is_unreadable() -> None:
    # Run in a child interpreter: lambda mode makes its process a non-dumpable child subreaper.
    # On Lambda the runtime holds no capabilities (CAP_SYS_PTRACE reads anything); as root, drop them.
    marker = f"lambda-escapee-{uuid.uuid4().hex}"
    root = Path(__file__).resolve().parents[2]
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(root / "layers" / "core")}
    as_on_lambda = ["setpriv", "--inh-caps=-all", "--bounding-set=-all"] if os.geteuid() == 0 else []

    completed = subprocess.run(
        [*as_on_lambda, sys.executable, "-c", LAMBDA_MODE, marker],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )

    report = json.loads(completed.stdout.splitlines()[-1])
    assert report["sandbox"] == "lambda"
    assert report["stdout"] == "forked\n"
    assert report["peek"] == "PermissionError\n"
    assert running_with_argument(marker) == []


def test_sandbox_status_names_the_mechanism() -> None:
    broken = NamespaceSandbox(unshare="/nonexistent/unshare")
    settings = Settings(_env_file=None, code_exec_sandbox="auto", code_executor_function_name=None)

    function = Settings(_env_file=None, code_executor_function_name="fn")
    assert sandbox_status(function, environ={"AWS_LAMBDA_RUNTIME_API": "x"}) == "lambda-function"
    assert sandbox_status(function, environ={}) == "lambda-function (namespaces)"  # local runtime
    assert (
        sandbox_status(Settings(_env_file=None, code_exec_sandbox="unsafe-subprocess")) == "unsafe-subprocess"
    )
    assert sandbox_status(settings) == "namespaces"
    assert (
        sandbox_status(
            Settings(_env_file=None, code_exec_sandbox="lambda"), environ={"AWS_LAMBDA_RUNTIME_API": "x"}
        )
        == "lambda"
    )
    assert code_runner(settings, namespaces=broken).sandbox.unavailable_reason() is not None
