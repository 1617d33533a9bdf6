"""The ``run_python`` tool, and the code-executor function's entry point."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from orchestrator.config import Settings, get_settings
from orchestrator.errors import ToolInputError, ToolTimeoutError
from orchestrator.tools.models import ToolContext
from orchestrator.tools.sandbox.limits import ProgramLimits, SandboxResult
from orchestrator.tools.sandbox.remote import RemoteCodeExecutor
from orchestrator.tools.sandbox.runner import code_runner

#: Seconds of the code-executor function's own time kept for returning the result.
RESULT_MARGIN_S = 1.0


def run_python_code(
    code: str, *, timeout_s: float, memory_mb: int, max_output_bytes: int, settings: Settings | None = None
) -> SandboxResult:
    """Run ``code`` in this process's sandbox; never raises for the program's own failures.

    Raises ``SandboxUnavailableError`` when no sandbox works (and none weaker was opted into),
    ``ToolBusyError`` when every slot stays taken.
    """
    limits = ProgramLimits(timeout_s=timeout_s, memory_mb=memory_mb, max_output_bytes=max_output_bytes)
    return code_runner(settings or get_settings()).run(code, limits)


def run_python(arguments: dict[str, Any], context: ToolContext) -> dict[str, Any]:
    """The tool: a program that ran (whatever its exit code) is a result; running out of time is an error."""
    settings = context.settings
    timeout_s = max(0.1, min(settings.code_exec_timeout_s, context.remaining()))
    limits = ProgramLimits(
        timeout_s=timeout_s,
        memory_mb=settings.code_exec_memory_mb,
        max_output_bytes=settings.code_exec_max_output_bytes,
    )
    code = str(arguments["code"])
    if settings.code_executor_function_name:
        executor = RemoteCodeExecutor(settings.code_executor_function_name, region=settings.aws_region)
        result = executor.run(code, limits)
    else:
        result = code_runner(settings).run(code, limits)
    if result.timed_out:
        raise ToolTimeoutError(
            f"the program ran longer than {timeout_s:g}s and was stopped",
            details={"output": result.to_dict()},
        )
    return result.to_dict()


class CodeRequest(BaseModel):
    """What the code-executor function is sent (by :class:`RemoteCodeExecutor`)."""

    model_config = ConfigDict(extra="forbid")

    code: str
    timeout_s: float = Field(gt=0, le=900)
    memory_mb: int = Field(gt=16)
    max_output_bytes: int = Field(gt=0)


class EnvironmentSettings(Settings):
    """The code executor's settings: its environment only. It has no network, so no SSM."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, dotenv_settings)


def execute_request(
    event: dict[str, Any], *, settings: Settings | None = None, remaining_s: float | None = None
) -> dict[str, Any]:
    """The code-executor function: run ``event``'s program here, return the SandboxResult dict.

    ``remaining_s`` (the invocation's time left) bounds the program's timeout so that a result,
    even a timed-out one, always comes back.
    """
    try:
        request = CodeRequest.model_validate(event)
    except PydanticValidationError as exc:
        raise ToolInputError("a request needs code, timeout_s, memory_mb and max_output_bytes") from exc
    timeout_s = request.timeout_s
    if remaining_s is not None:
        timeout_s = max(0.1, min(timeout_s, remaining_s - RESULT_MARGIN_S))
    limits = ProgramLimits(
        timeout_s=timeout_s, memory_mb=request.memory_mb, max_output_bytes=request.max_output_bytes
    )
    result = code_runner(settings or EnvironmentSettings()).run(request.code, limits)
    return result.to_dict()
