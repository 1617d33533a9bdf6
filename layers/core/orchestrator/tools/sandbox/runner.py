"""Which sandbox runs a program, chosen once from the settings, behind the concurrency slots."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Protocol

from orchestrator.errors import SandboxUnavailableError
from orchestrator.tools.sandbox.limits import ProgramLimits, SandboxResult
from orchestrator.tools.sandbox.namespaces import NamespaceSandbox
from orchestrator.tools.sandbox.slots import ExecutionSlots, process_slots
from orchestrator.tools.sandbox.subprocess_sandbox import SubprocessSandbox

if TYPE_CHECKING:
    from orchestrator.config import Settings

logger = logging.getLogger(__name__)

#: Set by the Lambda runtime, and only there (the local in-process Lambdas do not set it).
LAMBDA_RUNTIME_VARIABLE = "AWS_LAMBDA_RUNTIME_API"


class CodeSandbox(Protocol):
    @property
    def name(self) -> str: ...

    def unavailable_reason(self) -> str | None: ...

    def run(self, code: str, limits: ProgramLimits) -> SandboxResult: ...


@dataclass(frozen=True)
class CodeRunner:
    """Runs a program in ``sandbox`` once a slot is free; refuses when the sandbox does not work."""

    sandbox: CodeSandbox
    slots: ExecutionSlots
    queue_wait_s: float

    def run(self, code: str, limits: ProgramLimits) -> SandboxResult:
        reason = self.sandbox.unavailable_reason()
        if reason is not None:
            raise SandboxUnavailableError(
                f"code execution is disabled: no sandbox works here ({reason})",
                details={"sandbox": self.sandbox.name},
            )
        with self.slots.hold(self.queue_wait_s):
            return self.sandbox.run(code, limits)


def code_runner(
    settings: Settings,
    *,
    environ: Mapping[str, str] | None = None,
    namespaces: CodeSandbox | None = None,
    slots: ExecutionSlots | None = None,
) -> CodeRunner:
    """The runner ``settings`` ask for. ``environ`` (default: this process's) tells whether this is
    really AWS Lambda; ``namespaces`` and ``slots`` replace the process-wide ones (tests)."""
    environ = os.environ if environ is None else environ
    mode = settings.code_exec_sandbox
    sandbox: CodeSandbox
    if mode == "unsafe-subprocess":
        _warn_unsafe_once()
        sandbox = SubprocessSandbox("unsafe-subprocess", settings.code_exec_max_processes)
    elif mode == "lambda" and environ.get(LAMBDA_RUNTIME_VARIABLE):
        sandbox = SubprocessSandbox("lambda", settings.code_exec_max_processes)
    else:  # auto, namespaces, and lambda outside a real Lambda
        sandbox = namespaces or _namespace_sandbox(
            settings.code_exec_sandbox_uid, settings.code_exec_max_processes, settings.code_exec_scratch_mb
        )
    return CodeRunner(
        sandbox=sandbox,
        slots=slots or process_slots(settings.code_exec_max_concurrency),
        queue_wait_s=settings.code_exec_queue_wait_s,
    )


def sandbox_status(settings: Settings, *, environ: Mapping[str, str] | None = None) -> str:
    """One line for ``/health``: ``namespaces``, ``lambda``, ``unsafe-subprocess``,
    ``lambda-function`` (programs run in the code-executor function) or ``unavailable: <why>``."""
    env = os.environ if environ is None else environ
    sandbox = code_runner(settings, environ=environ).sandbox
    reason = sandbox.unavailable_reason()
    local = f"unavailable: {reason}" if reason else sandbox.name
    if settings.code_executor_function_name:
        # Off AWS (the local runtime) that function's handler runs in this process, with this sandbox.
        return "lambda-function" if "AWS_LAMBDA_RUNTIME_API" in env else f"lambda-function ({local})"
    return local


@cache
def _namespace_sandbox(uid: int, max_processes: int, scratch_mb: int) -> NamespaceSandbox:
    # One instance per configuration, so its probe runs once per process.
    return NamespaceSandbox(uid=uid, max_processes=max_processes, scratch_mb=scratch_mb)


@cache
def _warn_unsafe_once() -> None:
    logger.warning(
        "CODE_EXEC_SANDBOX=unsafe-subprocess: run_python programs run as plain child processes that "
        "can read this machine's files and reach its network; use it only where something else confines them"
    )
