"""run_python on AWS: the program runs in the code-executor Lambda, invoked synchronously.

That function has no permissions beyond its network interfaces, no secrets in its environment
and no network at all (template.yaml). Its typed errors (``ToolBusyError``,
``SandboxUnavailableError``…) come back as Lambda's ``errorType`` and are raised here again.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from orchestrator.errors import (
    ERRORS_BY_NAME,
    OrchestratorError,
    ToolBusyError,
    ToolExecutionError,
    ToolTimeoutError,
)
from orchestrator.tools.sandbox.limits import ProgramLimits, SandboxResult

#: Seconds the invocation may take beyond the program's timeout: cold start, set-up, clean-up.
INVOKE_OVERHEAD_S = 10


class RemoteCodeExecutor:
    """Invokes ``function_name`` with ``{"code", "timeout_s", "memory_mb", "max_output_bytes"}``."""

    name = "lambda-function"

    def __init__(self, function_name: str, *, region: str, client: Any = None) -> None:
        self.function_name = function_name
        self._region = region
        self._client = client

    def run(self, code: str, limits: ProgramLimits) -> SandboxResult:
        from botocore.exceptions import BotoCoreError, ClientError, ReadTimeoutError

        request = {
            "code": code,
            "timeout_s": limits.timeout_s,
            "memory_mb": limits.memory_mb,
            "max_output_bytes": limits.max_output_bytes,
        }
        client = self._client or _lambda_client(self._region, int(limits.timeout_s) + INVOKE_OVERHEAD_S)
        try:
            response = client.invoke(
                FunctionName=self.function_name,
                InvocationType="RequestResponse",
                Payload=json.dumps(request).encode("utf-8"),
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "TooManyRequestsException":
                raise ToolBusyError("the code executor is at its concurrency limit; retry shortly") from exc
            raise ToolExecutionError("the code executor could not be invoked") from exc
        except ReadTimeoutError as exc:
            raise ToolTimeoutError("the code executor did not answer in time") from exc
        except BotoCoreError as exc:
            raise ToolExecutionError("the code executor could not be reached") from exc
        body = json.loads(response["Payload"].read() or b"null")
        if response.get("FunctionError"):
            raise _error_from(body)
        return SandboxResult.from_dict(body)


def _error_from(body: Any) -> OrchestratorError:
    """Our typed error again when the function raised one; a generic tool failure otherwise."""
    body = body if isinstance(body, dict) else {}
    error_class = ERRORS_BY_NAME.get(str(body.get("errorType")))
    if error_class is not None:
        return error_class(str(body.get("errorMessage") or error_class.code))
    return ToolExecutionError(f"the code executor failed ({body.get('errorType', 'unknown error')})")


@lru_cache(maxsize=8)
def _lambda_client(region: str, read_timeout_s: int) -> Any:
    """One client per process and timeout (a client costs milliseconds); botocore's retries off."""
    import boto3
    from botocore.config import Config

    config = Config(connect_timeout=5, read_timeout=read_timeout_s, retries={"total_max_attempts": 1})
    return boto3.client("lambda", region_name=region, config=config)  # type: ignore[call-overload]
