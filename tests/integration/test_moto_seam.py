"""The moto internals the local runtime patches are where it expects them (moto 5.2.5).

When one of these fails after a moto upgrade, read the new moto source for that seam and adapt
``orchestrator/local/lambda_seam.py`` or ``sfn_seam.py`` before bumping the pin.
"""

from __future__ import annotations

import copy
import dataclasses
import inspect
import re
from importlib.metadata import version

import pytest

from orchestrator.local.lambda_seam import MOTO_VERSION, SEAM_METHOD


def test_moto_is_the_pinned_version() -> None:
    assert version("moto") == MOTO_VERSION, (
        f"moto {version('moto')} installed, the local runtime was written against {MOTO_VERSION}: "
        "re-check the seams below, then update MOTO_VERSION and requirements-local.txt"
    )


def test_lambda_invocation_still_goes_through_invoke_lambda() -> None:
    from moto.awslambda.models import LambdaFunction

    method = LambdaFunction.__dict__.get(SEAM_METHOD)
    assert method is not None, f"LambdaFunction.{SEAM_METHOD} is gone"
    parameters = list(inspect.signature(method).parameters)
    assert parameters == ["self", "event"]
    assert inspect.signature(method).return_annotation in ("tuple[str, bool, str]", tuple[str, bool, str])
    # Both lambda.invoke and Step Functions' Lambda tasks call it from LambdaFunction.invoke.
    assert "self._invoke_lambda(event=body)" in inspect.getsource(LambdaFunction.invoke)


def test_step_functions_lambda_tasks_use_boto_client_for() -> None:
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils

    assert list(inspect.signature(lambda_eval_utils.boto_client_for).parameters) == [
        "region",
        "service",
        "state_credentials",
    ]
    assert "boto_client_for(" in inspect.getsource(lambda_eval_utils._invoke_lambda_function)


def test_asl_parser_and_retrier_are_patchable() -> None:
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    assert isinstance(AmazonStateLanguageParser.__dict__["parse"], staticmethod)
    assert "time.sleep(interval_seconds)" in inspect.getsource(retrier_decl.RetrierDecl._eval_body)


def test_start_sync_execution_building_blocks_exist() -> None:
    from moto.stepfunctions.parser.backend.execution import SyncExecution
    from moto.stepfunctions.responses import StepFunctionResponse

    # If moto grows its own StartSyncExecution, drop ours rather than shadowing it.
    assert not hasattr(StepFunctionResponse, "start_sync_execution")
    expected = {
        "name",
        "sm_type",
        "role_arn",
        "exec_arn",
        "account_id",
        "region_name",
        "state_machine",
        "start_date",
        "cloud_watch_logging_session",
        "activity_store",
        "input_data",
    }
    assert expected <= set(inspect.signature(SyncExecution.__init__).parameters)
    assert hasattr(SyncExecution, "sync_execution_status")


def test_task_token_waits_still_work_and_send_task_failure_still_drops_the_cause() -> None:
    from moto.stepfunctions.parser.asl.component.common.timeouts import timeout
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_lambda,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.resource import (
        ResourceCondition,
    )
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend
    from moto.stepfunctions.responses import StepFunctionResponse

    # The approval wait: a Lambda task with a task token, its timeout read from the state.
    assert ResourceCondition.WaitForTaskToken in state_task_service_lambda._SUPPORTED_INTEGRATION_PATTERNS
    assert hasattr(timeout, "TimeoutSecondsPath")
    assert "cause" in inspect.signature(StepFunctionsParserBackend.send_task_failure).parameters
    # When moto passes the cause itself, drop sfn_seam._send_task_failure rather than shadow it.
    assert "cause" not in inspect.getsource(StepFunctionResponse.send_task_failure)


def test_jsonata_evaluator_is_still_a_stub_we_can_replace() -> None:
    from moto.stepfunctions.parser.asl.jsonata import jsonata as moto_jsonata

    assert moto_jsonata._eval_jsonata is None
    assert "_eval_jsonata(jsonata_expression)" in inspect.getsource(moto_jsonata.eval_jsonata_expression)


def test_botocore_can_disable_host_prefix_injection(monkeypatch: pytest.MonkeyPatch) -> None:
    import boto3

    from orchestrator.local.sfn_seam import DISABLE_HOST_PREFIX_ENV

    monkeypatch.setenv(DISABLE_HOST_PREFIX_ENV, "true")
    client = boto3.client(
        "stepfunctions", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    assert client.meta.config.inject_host_prefix is False


def test_lambda_tasks_reach_invoke_lambda_function_and_keep_its_response_shape() -> None:
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import credentials, lambda_eval_utils

    # InProcessLambdas.task_invoker replaces this function and answers in its stead.
    invoke = lambda_eval_utils._invoke_lambda_function
    assert list(inspect.signature(invoke).parameters) == ["parameters", "region", "state_credentials"]
    source = inspect.getsource(lambda_eval_utils.execute_lambda_function_integration)
    assert "invocation_response = _invoke_lambda_function(" in source
    assert 'invocation_response.get("FunctionError")' in source
    assert "lambda_client.invoke(**parameters)" in inspect.getsource(invoke)
    # The client cache keys on the role moto passes with every task.
    assert [f.name for f in dataclasses.fields(credentials.StateCredentials)] == ["role_arn"]


def test_interpreter_speedups_still_fit() -> None:
    import importlib

    from moto.stepfunctions.parser.asl.component.program.program import Program
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration import (
        inline_iteration_component as inline,
    )
    from moto.stepfunctions.parser.utils import TMP_THREADS

    from orchestrator.local import interpreter

    for name in interpreter.JSONPATH_MODULES:  # a module-level parse called per evaluation
        module = importlib.import_module(name)
        assert module.parse.__module__.startswith("jsonpath_ng"), name
        assert "parse(" in inspect.getsource(module)
    for name in interpreter.COPYING_MODULES:  # only deepcopy and copy are used from `copy`
        module = importlib.import_module(name)
        assert module.copy is copy, name
        used = set(re.findall(r"\bcopy\.(\w+)\(", inspect.getsource(module)))
        assert used and used <= {"deepcopy", "copy"}, (name, used)
    # Program.eval only hops to a thread to join it with the machine's TimeoutSeconds.
    program_eval = inspect.getsource(Program.eval)
    assert "threading.Thread(target=super().eval, args=(env,)" in program_eval
    assert "worker_thread.join(timeout=timeout)" in program_eval
    assert "env.next_state_name = self.start_at.start_at_name" in program_eval
    # A Map launches workers in a loop, then waits for the jobs.
    body = inspect.getsource(inline.InlineIterationComponent._eval_body)
    assert "self._launch_worker(env=env, eval_input=eval_input, job_pool=job_pool)" in body
    assert body.index("_launch_worker") < body.index("job_pool.await_jobs()")
    launch = inspect.getsource(inline.InlineIterationComponent._launch_worker)
    assert "threading.Thread(target=worker.eval" in launch
    assert isinstance(TMP_THREADS, list)
