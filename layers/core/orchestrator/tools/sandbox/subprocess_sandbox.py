"""A plain child process: the weaker modes, for where a stronger wall stands around this process.

``python -I -S -u`` (no ``PYTHON*`` variables, no site-packages: only the standard library), an
empty environment, a fresh working directory under the temp dir that is deleted afterwards, the
bootstrap's rlimits, its own session killed as a group. The program runs as this process's uid
and sees this machine's files and network, so this is a sandbox only where the machine is:

- ``lambda``: inside the dedicated code-executor function, whose micro-VM has no secrets, no
  permissions and no network. Warm environments are reused across tenants, so two more walls:
  this process is made non-dumpable (a program cannot read its memory or environment through
  ``/proc/<ppid>/``), and a child subreaper, so that a process that left the program's session
  with ``setsid()`` and a double fork is re-parented to it and killed after the call.
- ``unsafe-subprocess``: an operator's explicit opt-in where namespaces are not available.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from orchestrator.tools.sandbox.limits import BOOTSTRAP, ProgramLimits, SandboxResult
from orchestrator.tools.sandbox.process import children_of, processes_of, run_to_completion

PR_SET_DUMPABLE = 4
PR_SET_CHILD_SUBREAPER = 36
KILL_ROUNDS = 5


@dataclass(frozen=True)
class SubprocessSandbox:
    """``name`` is the mode it implements; ``lambda`` adds the warm-container walls."""

    name: str = "unsafe-subprocess"
    max_processes: int = 32

    def unavailable_reason(self) -> str | None:
        return None

    def run(self, code: str, limits: ProgramLimits) -> SandboxResult:
        warm_container = self.name == "lambda"
        if warm_container:
            _guard_this_process()
        before = _children() if warm_container else set()
        # Root ignores RLIMIT_NPROC; otherwise the uid's other processes count towards it.
        uid = os.getuid()
        max_processes = 0 if uid == 0 else processes_of(uid) + self.max_processes
        try:
            with tempfile.TemporaryDirectory(prefix="run_python_", ignore_cleanup_errors=True) as workdir:
                work = Path(workdir)
                (work / "main.py").write_text(code, encoding="utf-8")
                args = limits.bootstrap_args(max_processes)
                argv = [sys.executable, "-I", "-S", "-u", "-c", BOOTSTRAP, *args]
                outcome = run_to_completion(
                    argv,
                    cwd=work,
                    env={},
                    timeout_s=limits.timeout_s,
                    output_dir=work,
                    max_output_bytes=limits.max_output_bytes,
                )
        finally:
            if warm_container:
                _kill_new_children(before)
        return SandboxResult(
            stdout=outcome.stdout,
            stderr=outcome.stderr,
            exit_code=outcome.returncode,
            timed_out=outcome.timed_out,
            output_truncated=outcome.output_truncated,
            duration_ms=outcome.duration_ms,
        )


def _guard_this_process() -> None:
    """Non-dumpable: only CAP_SYS_PTRACE may read this process's ``/proc/<pid>/mem`` or ``environ``.
    Child subreaper: orphans among its descendants become its children instead of init's."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
        libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def _children() -> set[int]:
    return children_of(os.getpid())


def _kill_new_children(before: set[int]) -> None:
    """Kill and reap what the program left; in rounds, as each kill re-parents grandchildren here."""
    for _ in range(KILL_ROUNDS):
        left = _children() - before
        if not left:
            return
        for pid in left:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        for pid in left:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
