"""The ``run_python`` builtin: run a short, untrusted program confined, with bounded time, memory and output.

Where the program runs, one backend per module, chosen by ``CODE_EXEC_SANDBOX`` (:mod:`.runner`):

- :mod:`.namespaces`: locally, new PID, mount, network, IPC and UTS namespaces, a fresh read-only
  root, an unprivileged uid; refused (``sandbox_unavailable``) where namespaces do not work;
- :mod:`.remote`: on AWS, the code-executor Lambda (no permissions, no secrets, no network),
  when ``CODE_EXECUTOR_FUNCTION_NAME`` is set;
- :mod:`.subprocess_sandbox`: a plain child process, inside that Lambda (``lambda``) or where an
  operator opted into ``unsafe-subprocess``.

Every backend keeps the program's limits (:mod:`.limits`): CPU seconds, address space, file size
(which caps stdout and stderr), open files, processes, no core dumps, a wall timeout; and at most
``CODE_EXEC_MAX_CONCURRENCY`` programs run at once (:mod:`.slots`).
"""

from orchestrator.tools.sandbox.limits import ProgramLimits, SandboxResult
from orchestrator.tools.sandbox.namespaces import NamespaceSandbox
from orchestrator.tools.sandbox.runner import CodeRunner, code_runner, sandbox_status
from orchestrator.tools.sandbox.slots import ExecutionSlots
from orchestrator.tools.sandbox.subprocess_sandbox import SubprocessSandbox
from orchestrator.tools.sandbox.tool import execute_request, run_python, run_python_code

__all__ = [
    "CodeRunner",
    "ExecutionSlots",
    "NamespaceSandbox",
    "ProgramLimits",
    "SandboxResult",
    "SubprocessSandbox",
    "code_runner",
    "execute_request",
    "run_python",
    "run_python_code",
    "sandbox_status",
]
