"""Lambda handler for the code executor: one run_python program per call (orchestrator.tools.sandbox).

The function has no permissions beyond its network interfaces, no secrets in its environment
and no network (template.yaml); the micro-VM is the sandbox (``CODE_EXEC_SANDBOX=lambda``).
The event is the program: it is never logged.
"""

from typing import Any

from aws_lambda_powertools import Logger

from orchestrator.tools.sandbox import execute_request

logger = Logger(service="code_executor")


@logger.inject_lambda_context(log_event=False)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return execute_request(event, remaining_s=context.get_remaining_time_in_millis() / 1000)
