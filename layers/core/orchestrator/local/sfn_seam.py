"""Small patches to moto's Step Functions interpreter (moto 5.2.5) for a fast, faithful local run.

* ``StartSyncExecution``: moto has no such API; botocore sends it to the ``sync-states`` host, which
  moto does not intercept. With host-prefix injection disabled (an environment variable the runtime
  sets) the call reaches moto's ``states`` endpoint, and the handler added here runs the Express
  execution on the caller's thread with moto's own ``SyncExecution`` and answers like AWS.
  The API's ``WORKFLOW_SYNC_MODE=sync`` code path therefore runs unchanged locally.
* The ASL parser (ANTLR, about 0.2 s for the orchestrator's definition) runs on every execution;
  parsed programs keep no per-execution state (that lives in the evaluation environment), so
  the parse is cached by definition text.
* Lambda tasks of the template's functions call the handler directly (see
  :meth:`~orchestrator.local.lambda_seam.InProcessLambdas.task_invoker`) instead of through a
  boto3 client and moto's HTTP emulation of the Lambda API.
* Every other task made a new boto3 client (about 5 ms, and boto3's default session is not
  thread-safe when Map iterations create clients at once); one client per region, service and role
  is reused. moto always passes the state machine's role as ``state_credentials``.
* The interpreter's per-state overheads (JSONPath parsing, ``deepcopy``, thread hops): see
  :mod:`orchestrator.local.interpreter`.
* Task tokens: moto's interpreter runs ``.waitForTaskToken`` Lambda tasks (the token reaches the
  payload as ``$$.Task.Token``, ``TimeoutSecondsPath`` is honoured, ``SendTaskSuccess`` resumes the
  run), but its ``SendTaskFailure`` handler drops ``cause``; the one added here passes it on, so a
  rejection's reason reaches the ASL's Catch as on AWS.
* Retry waits sleep for real; ``retry_delay_scale`` shortens them (0 in tests).
* moto's JSONata evaluator is a stub (it expects a JVM), which also breaks ASL variables
  (``Assign`` / ``$name``); the pure-Python ``jsonata-python`` package is plugged in when present.
"""

from __future__ import annotations

import datetime
import functools
import json
import threading
import time
import uuid
from typing import TYPE_CHECKING, Any

from orchestrator.local import interpreter

if TYPE_CHECKING:
    from orchestrator.local.lambda_seam import InProcessLambdas

#: Environment variable (botocore) that keeps StartSyncExecution on the host moto intercepts.
DISABLE_HOST_PREFIX_ENV = "AWS_DISABLE_HOST_PREFIX_INJECTION"


class _ScaledTime:
    """Stands in for the ``time`` module inside moto's retrier: sleeps ``scale`` times as long."""

    def __init__(self, scale: float) -> None:
        self._scale = scale

    def sleep(self, seconds: float) -> None:
        time.sleep(max(0.0, seconds * self._scale))

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)


class StepFunctionsSeams:
    """Installs and removes the patches; one instance per running LocalRuntime.

    With ``lambdas``, Lambda tasks of its functions run their handlers without the Lambda API.
    """

    def __init__(self, retry_delay_scale: float = 1.0, lambdas: InProcessLambdas | None = None) -> None:
        if retry_delay_scale < 0:
            raise ValueError("retry_delay_scale must be >= 0")
        self._retry_delay_scale = retry_delay_scale
        self._lambdas = lambdas
        self._undo: list[tuple[Any, str, Any]] = []

    def install(self) -> None:
        from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
        from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
        from moto.stepfunctions.parser.asl.jsonata import jsonata as moto_jsonata
        from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
        from moto.stepfunctions.responses import StepFunctionResponse

        if self._undo:
            return
        self._patch(
            AmazonStateLanguageParser, "parse", staticmethod(_cached_parse(AmazonStateLanguageParser))
        )
        self._patch(lambda_eval_utils, "boto_client_for", _cached_client_factory(lambda_eval_utils))
        if self._lambdas is not None:
            invoke = self._lambdas.task_invoker(lambda_eval_utils._invoke_lambda_function)
            self._patch(lambda_eval_utils, "_invoke_lambda_function", invoke)
        self._install_interpreter_speedups()
        if self._retry_delay_scale != 1.0:
            self._patch(retrier_decl, "time", _ScaledTime(self._retry_delay_scale))
        self._patch(StepFunctionResponse, "start_sync_execution", _start_sync_execution)
        self._patch(StepFunctionResponse, "send_task_failure", _send_task_failure)
        evaluator = _jsonata_evaluator()
        if evaluator is not None and moto_jsonata._eval_jsonata is None:
            self._patch(moto_jsonata, "_eval_jsonata", evaluator)

    def _install_interpreter_speedups(self) -> None:
        import importlib

        from moto.stepfunctions.parser.asl.component.program.program import Program
        from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration import (
            inline_iteration_component as inline,
        )

        for name in interpreter.JSONPATH_MODULES:
            module = importlib.import_module(name)
            self._patch(module, "parse", interpreter.cached_jsonpath_parser(module.parse))
        for name in interpreter.COPYING_MODULES:
            self._patch(importlib.import_module(name), "copy", interpreter.JsonCopyModule)
        self._patch(Program, "eval", interpreter.program_eval(Program.__dict__["eval"]))
        component = inline.InlineIterationComponent
        self._patch(
            component, "_launch_worker", interpreter.launch_worker(component.__dict__["_launch_worker"])
        )

    def uninstall(self) -> None:
        while self._undo:
            target, name, original = self._undo.pop()
            if original is _MISSING:
                delattr(target, name)
            else:
                setattr(target, name, original)

    def _patch(self, target: Any, name: str, replacement: Any) -> None:
        original = target.__dict__.get(name, _MISSING) if isinstance(target, type) else getattr(target, name)
        self._undo.append((target, name, original))
        setattr(target, name, replacement)


_MISSING = object()
_PARSE_CACHE: dict[Any, Any] = {}


def _cached_parse(parser_class: Any) -> Any:
    """moto's parse, cached for the process: later runtimes skip the ANTLR pass too."""
    original = parser_class.__dict__["parse"].__func__
    if original not in _PARSE_CACHE:
        _PARSE_CACHE[original] = functools.lru_cache(maxsize=32)(original)
    return _PARSE_CACHE[original]


def _jsonata_evaluator() -> Any:
    try:
        import jsonata
    except ImportError:  # pragma: no cover - jsonata-python is in requirements-local.txt
        return None

    def evaluate(expression: str) -> Any:
        from moto.stepfunctions.parser.asl.jsonata.jsonata import JSONataException

        try:
            return jsonata.Jsonata(expression).evaluate(None)
        except Exception as exc:  # moto turns this into States.QueryEvaluationError
            raise JSONataException("UNKNOWN", str(exc)) from exc

    return evaluate


def _cached_client_factory(module: Any) -> Any:
    create = module.boto_client_for
    clients: dict[tuple[str, str, str | None], Any] = {}
    lock = threading.Lock()

    def boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        # moto passes the execution's role (or a Credentials block's) on every task: a client per
        # role keeps roles apart without a new client per task.
        role = getattr(state_credentials, "role_arn", None)
        key = (region, service, None if role is None else str(role))
        with lock:
            if key not in clients:
                clients[key] = create(region=region, service=service, state_credentials=state_credentials)
            return clients[key]

    return boto_client_for


def _start_sync_execution(response: Any) -> Any:
    """``StepFunctionResponse.start_sync_execution``: run an Express execution to its end."""
    from moto.core.exceptions import AWSError
    from moto.core.responses import ActionResult
    from moto.stepfunctions.exceptions import InvalidExecutionInput
    from moto.stepfunctions.parser.backend.execution import SyncExecution

    backend = response.stepfunction_backend
    state_machine = backend.describe_state_machine(response._get_param("stateMachineArn"))
    if state_machine.type != "EXPRESS":

        class StateMachineTypeNotSupported(AWSError):
            TYPE = "StateMachineTypeNotSupported"
            STATUS = 400

        raise StateMachineTypeNotSupported("This operation is supported only for Express state machines")
    execution_input = response._get_param("input", if_none="{}")
    try:
        json.loads(execution_input)
    except ValueError as exc:
        raise InvalidExecutionInput(str(exc)) from exc
    name = response._get_param("name") or uuid.uuid4().hex
    execution = SyncExecution(
        name=name,
        sm_type=state_machine.sm_type,
        role_arn=state_machine.roleArn,
        exec_arn=(
            f"arn:aws:states:{backend.region_name}:{backend.account_id}:express:"
            f"{state_machine.name}:{name}:{uuid.uuid4()}"
        ),
        account_id=backend.account_id,
        region_name=backend.region_name,
        state_machine=state_machine,
        start_date=datetime.datetime.now(tz=datetime.UTC),
        cloud_watch_logging_session=None,
        activity_store={},
        input_data=execution_input,
    )
    try:
        execution.start()  # SyncExecutionWorker evaluates on this thread and returns at the end
    finally:
        interpreter.drop_finished_threads()
    status = execution.sync_execution_status
    result: dict[str, Any] = {
        "executionArn": execution.exec_arn,
        "stateMachineArn": state_machine.arn,
        "name": name,
        "startDate": execution.start_date,
        "stopDate": execution.stop_date,
        "status": status.value if status is not None else "FAILED",
        "input": execution_input,
    }
    if result["status"] == "SUCCEEDED":
        output = execution.output
        result["output"] = output if isinstance(output, str) else json.dumps(output)
    if execution.error is not None:
        result["error"] = execution.error
    if execution.cause is not None:
        result["cause"] = execution.cause
    return ActionResult(result)


def _send_task_failure(response: Any) -> Any:
    """``StepFunctionResponse.send_task_failure`` with the ``cause`` moto's own leaves out."""
    from moto.core.responses import EmptyResult

    response.stepfunction_backend.send_task_failure(
        response._get_param("taskToken"),
        error=response._get_param("error"),
        cause=response._get_param("cause"),
    )
    return EmptyResult()
