"""The ``run_python`` builtin: run a short program in a constrained child process.

On AWS the design runs this tool in its own Lambda (no IAM permissions, small memory, short
timeout): the micro-VM is the sandbox. Here, and as a second wall there, the program runs as:

- ``python -I -S -u``: isolated mode (no ``PYTHON*`` variables, no user site, no cwd on the
  path) and no ``site``, so only the standard library imports: not boto3, not this package;
- with an **empty environment**, so the Lambda's AWS credentials (environment variables) never
  reach it, in a fresh temporary directory that is deleted afterwards;
- under ``setrlimit`` limits set by a small bootstrap before the program runs: CPU seconds,
  address space (``CODE_EXEC_MEMORY_MB``), file size (which also caps stdout and stderr, since
  they are files), open files, no core dumps, and a process count where the kernel enforces it;
- in its own session, killed as a whole process group at the wall timeout
  (``CODE_EXEC_TIMEOUT_S``) and again after it exits, so no child outlives the call.

The limits are set by the bootstrap rather than a ``preexec_fn`` because tools run on worker
threads, and ``preexec_fn`` is documented as unsafe in threaded programs. Network access is not
blocked here; on AWS the code-execution Lambda should sit in a VPC without egress.
"""

from __future__ import annotations

import contextlib
import math
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from orchestrator.errors import ToolTimeoutError
from orchestrator.tools.models import ToolContext

MIB = 1024 * 1024
MAX_OPEN_FILES = 64
#: Extra processes (threads count too on Linux) a program may start beyond what its user runs.
EXTRA_PROCESSES = 16

_BOOTSTRAP = """\
import resource, sys
_cpu, _mem, _fsize, _nofile, _nproc = (int(a) for a in sys.argv[1:6])
for _limit, _soft, _hard in (
    (resource.RLIMIT_CPU, _cpu, _cpu + 1),
    (resource.RLIMIT_AS, _mem, _mem),
    (resource.RLIMIT_FSIZE, _fsize, _fsize),
    (resource.RLIMIT_NOFILE, _nofile, _nofile),
    (resource.RLIMIT_CORE, 0, 0),
    (resource.RLIMIT_NPROC, _nproc, _nproc),
):
    if _soft > 0 or _limit == resource.RLIMIT_CORE:
        try:
            resource.setrlimit(_limit, (_soft, _hard))
        except (ValueError, OSError):
            pass  # e.g. RLIMIT_AS on macOS; the wall timeout and group kill still apply
sys.argv = ["main.py"]
with open("main.py", encoding="utf-8") as _f:
    _code = compile(_f.read(), "main.py", "exec")
del resource, _cpu, _mem, _fsize, _nofile, _nproc, _limit, _soft, _hard, _f
exec(_code, {"__name__": "__main__", "__builtins__": __builtins__})
"""


@dataclass(frozen=True)
class SandboxResult:
    stdout: str
    stderr: str
    exit_code: int
    timed_out: bool
    output_truncated: bool
    duration_ms: float

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        if self.exit_code < 0:
            data["signal"] = _signal_name(-self.exit_code)
        return data


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return str(number)


def _process_limit() -> int:
    """RLIMIT_NPROC to set, or 0 to skip it.

    The kernel counts every process of the user (and ignores the limit for root), so a fixed
    small number would break unrelated work; the user's current count plus a margin bounds a
    fork bomb without that.
    """
    uid = os.getuid()
    if uid == 0:
        return 0
    count = 0
    try:
        for status in Path("/proc").glob("[0-9]*/status"):
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
            if fields.get("Uid", "").split()[:1] == [str(uid)]:
                count += int(fields.get("Threads", "1").strip() or 1)
    except OSError:
        return 0
    return count + EXTRA_PROCESSES if count else 0


def _read_capped(path: Path, limit: int) -> tuple[str, bool]:
    with path.open("rb") as handle:
        data = handle.read(limit + 1)
    return data[:limit].decode("utf-8", errors="replace"), len(data) >= limit


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


def run_python_code(code: str, *, timeout_s: float, memory_mb: int, max_output_bytes: int) -> SandboxResult:
    """Run ``code`` to completion or until ``timeout_s``; never raises for the program's own failures."""
    limits = [
        str(math.ceil(timeout_s)),
        str(memory_mb * MIB),
        str(max_output_bytes),
        str(MAX_OPEN_FILES),
        str(_process_limit()),
    ]
    with tempfile.TemporaryDirectory(prefix="run_python_", ignore_cleanup_errors=True) as workdir:
        work = Path(workdir)
        (work / "main.py").write_text(code, encoding="utf-8")
        started = time.perf_counter()
        with (work / ".stdout").open("wb") as out, (work / ".stderr").open("wb") as err:
            process = subprocess.Popen(  # noqa: S603 - fixed argv: our interpreter and bootstrap
                [sys.executable, "-I", "-S", "-u", "-c", _BOOTSTRAP, *limits],
                cwd=work,
                env={},
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                start_new_session=True,
                close_fds=True,
            )
            timed_out = False
            try:
                process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                timed_out = True
            finally:
                # Also after a normal exit: children the program started die with their group.
                _kill_group(process)
                process.wait()
        duration_ms = round((time.perf_counter() - started) * 1000, 3)
        stdout, out_cut = _read_capped(work / ".stdout", max_output_bytes)
        stderr, err_cut = _read_capped(work / ".stderr", max_output_bytes)
    return SandboxResult(
        stdout=stdout,
        stderr=stderr,
        exit_code=process.returncode,
        timed_out=timed_out,
        output_truncated=out_cut or err_cut,
        duration_ms=duration_ms,
    )


def run_python(arguments: dict[str, Any], context: ToolContext) -> dict[str, Any]:
    """The tool: a program that ran (whatever its exit code) is a result; running out of time is an error."""
    settings = context.settings
    timeout_s = max(0.1, min(settings.code_exec_timeout_s, context.remaining()))
    result = run_python_code(
        str(arguments["code"]),
        timeout_s=timeout_s,
        memory_mb=settings.code_exec_memory_mb,
        max_output_bytes=settings.code_exec_max_output_bytes,
    )
    if result.timed_out:
        raise ToolTimeoutError(
            f"the program ran longer than {timeout_s:g}s and was stopped",
            details={"output": result.to_dict()},
        )
    return result.to_dict()
