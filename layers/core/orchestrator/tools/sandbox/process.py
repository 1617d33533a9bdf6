"""Start a confined child, wait for it up to a wall timeout, kill its process group, read its output."""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Outcome:
    returncode: int
    timed_out: bool
    stdout: str
    stderr: str
    output_truncated: bool
    duration_ms: float


def run_to_completion(
    argv: list[str],
    *,
    cwd: Path,
    env: dict[str, str],
    timeout_s: float,
    output_dir: Path,
    max_output_bytes: int,
) -> Outcome:
    """Run ``argv`` in its own session; at ``timeout_s``, and again after it exits, kill its group.

    stdout and stderr are files in ``output_dir`` (the program's RLIMIT_FSIZE caps them), read
    back up to ``max_output_bytes`` each.
    """
    stdout_path, stderr_path = output_dir / ".stdout", output_dir / ".stderr"
    started = time.perf_counter()
    with stdout_path.open("wb") as out, stderr_path.open("wb") as err:
        process = subprocess.Popen(  # noqa: S603 - fixed argv built by the sandbox, never a shell string
            argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            start_new_session=True,
            close_fds=True,
        )
        try:
            timed_out = not _exits_within(process, timeout_s)
        finally:
            # Also after a normal exit: children the program started die with their group.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    duration_ms = round((time.perf_counter() - started) * 1000, 3)
    stdout, out_cut = _read_capped(stdout_path, max_output_bytes)
    stderr, err_cut = _read_capped(stderr_path, max_output_bytes)
    return Outcome(
        returncode=process.returncode,
        timed_out=timed_out,
        stdout=stdout,
        stderr=stderr,
        output_truncated=out_cut or err_cut,
        duration_ms=duration_ms,
    )


def _exits_within(process: subprocess.Popen[bytes], timeout_s: float) -> bool:
    """Whether ``process`` exits within ``timeout_s``. A pidfd wakes up at the exit itself;
    ``Popen.wait(timeout)`` polls with sleeps of up to 50 ms, which was most of a short run."""
    try:
        pidfd = os.pidfd_open(process.pid)
    except (AttributeError, OSError):  # not Linux 5.3+
        try:
            process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            return False
        return True
    try:
        readable, _, _ = select.select([pidfd], [], [], timeout_s)
        return bool(readable)
    finally:
        os.close(pidfd)


def _read_capped(path: Path, limit: int) -> tuple[str, bool]:
    with path.open("rb") as handle:
        data = handle.read(limit + 1)
    return data[:limit].decode("utf-8", errors="replace"), len(data) >= limit


def processes_of(uid: int) -> int:
    """Processes and threads of ``uid`` now (RLIMIT_NPROC counts both)."""
    return sum(threads for _, threads in _processes_by_uid(uid))


def children_of(pid: int) -> set[int]:
    """Pids whose parent is ``pid``."""
    found = set()
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            lines = status.read_text().splitlines()
        except OSError:
            continue  # gone meanwhile
        if f"PPid:\t{pid}" in lines:
            found.add(int(status.parent.name))
    return found


def _processes_by_uid(uid: int) -> list[tuple[int, int]]:
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            lines = status.read_text().splitlines()
        except OSError:
            continue  # gone meanwhile
        fields = dict(line.split(":", 1) for line in lines if ":" in line)
        if fields.get("Uid", "").split()[:1] == [str(uid)]:
            found.append((int(status.parent.name), int(fields.get("Threads", "1").strip() or 1)))
    return found
