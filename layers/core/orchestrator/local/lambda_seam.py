"""Runs Lambda functions in this process instead of in Docker.

moto's Lambda backend reaches Docker in one place, ``LambdaFunction._invoke_lambda(self, event)
-> (payload, errored, logs)``; Step Functions Task states (``lambda:invoke`` and plain function
ARNs) and ``lambda.invoke`` all arrive there. :class:`InProcessLambdas` replaces that method to
import the real handler file and call it, and answers an exception with Lambda's error payload
(``errorType`` = the exception's class name) so ASL Retry/Catch match on class names as on AWS.
``tests/integration/test_moto_seam.py`` fails loudly when moto moves this seam.

:meth:`InProcessLambdas.task_invoker` goes one step further for Step Functions Lambda tasks: it
answers the interpreter's Invoke call itself instead of through a boto3 client and moto's HTTP
emulation (about 5 ms a task), with the response that path gives (payload bytes parsed as JSON,
``FunctionError`` set on failure, the size limit), so the ASL sees the same thing.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import re
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

#: The moto version whose seam this module replaces; bump together with requirements-local.txt.
MOTO_VERSION = "5.2.5"
#: The method of ``moto.awslambda.models.LambdaFunction`` that runs a function in Docker.
SEAM_METHOD = "_invoke_lambda"

#: moto's Lambda answers a response larger than this (``sys.getsizeof``) with an error, as AWS does.
MAX_RESPONSE_SIZE = 6_000_000

log = logging.getLogger(__name__)

#: moto's ``lambda_eval_utils._invoke_lambda_function(parameters, region, state_credentials)``.
TaskInvoke = Callable[[dict[str, Any], str, Any], dict[str, Any]]


@dataclass(frozen=True)
class FunctionSpec:
    """What the seam needs to run one template function in-process."""

    logical_id: str
    function_name: str
    function_arn: str
    code_dir: Path
    handler: str
    timeout_s: int
    memory_mb: int

    @property
    def module_file(self) -> Path:
        module, _, _ = self.handler.rpartition(".")
        return self.code_dir / (module.replace(".", "/") + ".py")

    @property
    def handler_attribute(self) -> str:
        return self.handler.rpartition(".")[2]


@dataclass
class LambdaContext:
    """The attributes of the Lambda context object that handlers and Powertools read."""

    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    timeout_s: int
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = "local"
    identity: Any = None
    client_context: Any = None
    _started: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self.log_group_name = self.log_group_name or f"/aws/lambda/{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        elapsed_ms = int((time.monotonic() - self._started) * 1000)
        return max(0, self.timeout_s * 1000 - elapsed_ms)


def error_payload(exc: BaseException, error_type: str | None = None) -> dict[str, Any]:
    """Lambda's Python runtime error shape; Step Functions reads ``errorType`` as the Error name."""
    return {
        "errorType": error_type or type(exc).__name__,
        "errorMessage": str(exc),
        "stackTrace": [
            line
            for frame, line in zip(
                traceback.extract_tb(exc.__traceback__),
                traceback.format_tb(exc.__traceback__),
                strict=True,
            )
            if frame.filename != __file__  # the handler's frames only, as on Lambda
        ],
    }


class InProcessLambdas:
    """The handlers of a template's functions, loaded once each and called in this process."""

    def __init__(self) -> None:
        self._specs: dict[str, FunctionSpec] = {}
        self._handlers: dict[str, Any] = {}
        self._lock = threading.RLock()
        self._original: Any = None

    def register(self, spec: FunctionSpec) -> None:
        self._specs[spec.function_name] = spec

    @property
    def installed(self) -> bool:
        return self._original is not None

    def install(self) -> None:
        """Replace moto's Docker invocation with :meth:`invoke`."""
        from moto.awslambda.models import LambdaFunction

        if self._original is not None:
            return
        if getattr(getattr(LambdaFunction, SEAM_METHOD), "__orchestrator_seam__", False):
            raise RuntimeError("Another LocalRuntime is running in this process; stop it first.")
        seam = self

        def _invoke_lambda(function: Any, event: Any = None) -> tuple[str, bool, str]:
            return seam.invoke(str(function.function_name), event)

        _invoke_lambda.__orchestrator_seam__ = True  # type: ignore[attr-defined]
        self._original = LambdaFunction.__dict__[SEAM_METHOD]
        setattr(LambdaFunction, SEAM_METHOD, _invoke_lambda)

    def uninstall(self) -> None:
        from moto.awslambda.models import LambdaFunction

        if self._original is not None:
            setattr(LambdaFunction, SEAM_METHOD, self._original)
            self._original = None
        with self._lock:
            # The next runtime imports the handlers afresh, with its own environment.
            for spec in self._specs.values():
                sys.modules.pop(_module_name(spec), None)
            self._handlers.clear()

    def invoke(self, function_name: str, event: Any) -> tuple[str, bool, str]:
        """Call the function's handler with ``event``; returns moto's ``(payload, errored, logs)``."""
        spec = self._specs.get(function_name)
        if spec is None:
            error = LookupError(f"{function_name} is not a function of the local template")
            return json.dumps(error_payload(error, "ResourceNotFoundException")), True, ""
        payload = _decode_event(event)
        context = LambdaContext(
            function_name=spec.function_name,
            invoked_function_arn=spec.function_arn,
            memory_limit_in_mb=spec.memory_mb,
            timeout_s=spec.timeout_s,
        )
        try:
            handler = self.handler(spec)
            result = handler(payload, context)
        except Exception as exc:
            # Lambda reports the failure to the caller; Step Functions turns it into Error/Cause.
            log.debug("%s raised %s", spec.logical_id, type(exc).__name__, exc_info=True)
            return json.dumps(error_payload(exc)), True, ""
        try:
            return json.dumps(result), False, ""
        except (TypeError, ValueError) as exc:
            return json.dumps(error_payload(exc, "Runtime.MarshalError")), True, ""

    def task_invoker(self, moto_invoke: TaskInvoke) -> TaskInvoke:
        """A Step Functions Lambda task's Invoke call answered here; anything else by ``moto_invoke``.

        A synchronous call of a function moto knows and this runtime registered (by name or ARN,
        unqualified or ``$LATEST``) runs its handler directly; the payload still crosses as JSON
        text both ways, so no object is shared between states. Asynchronous calls, versions,
        aliases, unknown functions and other accounts take moto's path and get its errors.
        """

        def invoke(parameters: dict[str, Any], region: str, state_credentials: Any) -> dict[str, Any]:
            spec = self._task_target(parameters, region)
            if spec is None:
                return moto_invoke(parameters, region, state_credentials)
            payload, errored, _ = self.invoke(spec.function_name, parameters.get("Payload") or b"{}")
            response: dict[str, Any] = {"StatusCode": 200, "ExecutedVersion": "$LATEST"}
            if sys.getsizeof(payload.encode("utf-8")) > MAX_RESPONSE_SIZE:
                error = ValueError(
                    f"Response payload size exceeded maximum allowed size ({MAX_RESPONSE_SIZE} bytes)."
                )
                payload = json.dumps(error_payload(error, "Function.ResponseSizeTooLarge"))
                response["FunctionError"] = "Unhandled"
            elif errored:
                response["FunctionError"] = "Handled"  # what moto's Invoke sets for a raised exception
            try:
                response["Payload"] = json.loads(payload)
            except ValueError:
                response["Payload"] = payload
            return response

        return invoke

    def _task_target(self, parameters: dict[str, Any], region: str) -> FunctionSpec | None:
        from moto.awslambda.exceptions import UnknownFunctionException
        from moto.awslambda.models import lambda_backends
        from moto.core.models import DEFAULT_ACCOUNT_ID

        if parameters.get("InvocationType", "RequestResponse") != "RequestResponse":
            return None
        if parameters.get("Qualifier") not in (None, "$LATEST"):
            return None
        name = str(parameters.get("FunctionName", ""))
        account = (
            name.split(":")[4] if name.startswith("arn:") and name.count(":") >= 6 else DEFAULT_ACCOUNT_ID
        )
        try:
            function = lambda_backends[account][region].get_function(name)
        except (UnknownFunctionException, KeyError, ValueError):
            return None
        if function.version != "$LATEST":
            return None
        return self._specs.get(str(function.function_name))

    def handler(self, spec: FunctionSpec) -> Any:
        """The handler callable, imported on first use (like a cold start) and cached."""
        with self._lock:
            if spec.function_name not in self._handlers:
                module = _load_module(spec)
                self._handlers[spec.function_name] = getattr(module, spec.handler_attribute)
            return self._handlers[spec.function_name]


def _decode_event(event: Any) -> Any:
    # moto hands over the parsed JSON body, or the string "{}" for an empty one.
    if event is None:
        return {}
    if isinstance(event, bytes):
        event = event.decode("utf-8")
    if isinstance(event, str):
        try:
            return json.loads(event)
        except ValueError:
            return event
    return event


def _module_name(spec: FunctionSpec) -> str:
    return "_orchestrator_fn_" + re.sub(r"\W", "_", spec.logical_id)


def _load_module(spec: FunctionSpec) -> ModuleType:
    """Import the handler file under a name unique to the function: every handler is ``app.py``."""
    path = spec.module_file
    if not path.is_file():
        raise FileNotFoundError(f"Handler file {path} of {spec.logical_id} does not exist")
    module_name = _module_name(spec)
    module_spec = importlib.util.spec_from_file_location(module_name, path)
    if module_spec is None or module_spec.loader is None:
        raise ImportError(f"Cannot import {path}")
    module = importlib.util.module_from_spec(module_spec)
    # On Lambda the code directory is on sys.path; here only while the module body runs, so sibling
    # modules of different functions with the same name cannot shadow each other later.
    code_dir = str(spec.code_dir)
    sys.path.insert(0, code_dir)
    sys.modules[module_name] = module
    try:
        module_spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(module_name, None)
        raise
    finally:
        if code_dir in sys.path:
            sys.path.remove(code_dir)
    return module
