"""What a program may use and what comes back: the limits, the rlimit bootstrap, the result."""

from __future__ import annotations

import math
import signal
from dataclasses import asdict, dataclass
from typing import Any

MIB = 1024 * 1024
#: Open files a program may hold (stdin, stdout and stderr included).
MAX_OPEN_FILES = 64

#: Runs first in the program's interpreter: sets the limits, then executes ``main.py`` in the
#: working directory. Limits are set here rather than in a ``preexec_fn`` because tools run on
#: worker threads, where ``preexec_fn`` is documented as unsafe.
BOOTSTRAP = """\
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
            pass  # e.g. RLIMIT_AS on macOS; the wall timeout and the kill still apply
sys.argv = ["main.py"]
with open("main.py", encoding="utf-8") as _f:
    _code = compile(_f.read(), "main.py", "exec")
del resource, _cpu, _mem, _fsize, _nofile, _nproc, _limit, _soft, _hard, _f
exec(_code, {"__name__": "__main__", "__builtins__": __builtins__})
"""


@dataclass(frozen=True)
class ProgramLimits:
    """The budget of one program: wall seconds (also its CPU seconds), address space, output."""

    timeout_s: float
    memory_mb: int
    max_output_bytes: int

    def bootstrap_args(self, max_processes: int) -> list[str]:
        """``python -c BOOTSTRAP`` arguments; ``max_processes`` 0 leaves RLIMIT_NPROC alone."""
        return [
            str(math.ceil(self.timeout_s)),
            str(self.memory_mb * MIB),
            str(self.max_output_bytes),
            str(MAX_OPEN_FILES),
            str(max_processes),
        ]


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

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SandboxResult:
        """The result a code-executor function returned (``to_dict``'s output)."""
        return cls(
            stdout=str(data["stdout"]),
            stderr=str(data["stderr"]),
            exit_code=int(data["exit_code"]),
            timed_out=bool(data["timed_out"]),
            output_truncated=bool(data["output_truncated"]),
            duration_ms=float(data["duration_ms"]),
        )


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return str(number)
