"""The local runtime builds the stack from a template and runs ASL with the real handlers in-process.

Behaviour is checked on a fixture stack (tests/fixtures/local_runtime) so these tests do not depend
on the application's handlers; the application's template is checked for what it creates.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from orchestrator.local import LocalRuntime
from orchestrator.local.template import TemplateError

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "fixtures" / "local_runtime"


@pytest.fixture(scope="class")
def fixture_stack() -> Iterator[LocalRuntime]:
    runtime = LocalRuntime(
        FIXTURE / "template.yaml", repo_root=FIXTURE, stack_name="fixture", retry_delay_scale=0.0
    )
    with runtime:
        yield runtime


def _run(runtime: LocalRuntime, name: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Start a Standard execution and wait for it (as a client polling GET /v1/runs/{id} would)."""
    sfn = boto3.client("stepfunctions")
    arn = sfn.start_execution(
        stateMachineArn=runtime.state_machine_arn("FeaturesStateMachine"),
        name=name,
        input=json.dumps(payload),
    )["executionArn"]
    deadline = time.monotonic() + 10
    while (result := sfn.describe_execution(executionArn=arn))["status"] == "RUNNING":
        assert time.monotonic() < deadline, f"{name} did not finish"
        time.sleep(0.005)
    return dict(result)


def _output(result: dict[str, Any]) -> dict[str, Any]:
    assert result["status"] == "SUCCEEDED", (result.get("error"), result.get("cause"))
    return dict(json.loads(result["output"]))


# ---------------------------------------------------------------------- runtimes of their own
def test_the_application_template_builds_the_whole_stack(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CONVERSATIONS_TABLE", raising=False)
    with LocalRuntime(ROOT / "template.yaml", repo_root=ROOT, stack_name="app") as runtime:
        tables = boto3.client("dynamodb").list_tables()["TableNames"]
        assert sorted(tables) == sorted(
            f"app-{name}Table"
            for name in ("Conversations", "Cache", "Runs", "RunEvents", "Tools", "Documents")
        )
        settings = {
            p["Name"]: p["Value"]
            for p in boto3.client("ssm").get_parameters_by_path(Path="/orchestrator/dev")["Parameters"]
        }
        assert settings["/orchestrator/dev/llm_provider"] == "offline"
        assert settings["/orchestrator/dev/router_llm_threshold"] == "0.45"
        # The seven graph nodes, the API and streaming functions, the code executor, ingestion.
        assert len(boto3.client("lambda").list_functions()["Functions"]) == 11
        # The uploads bucket, wired to the ingestion function as SAM's S3 event does on AWS.
        (bucket,) = [b["Name"] for b in boto3.client("s3").list_buckets()["Buckets"]]
        assert bucket == runtime.physical_id("DocumentUploadsBucket") == "document-uploads-local"
        notification = boto3.client("s3").get_bucket_notification_configuration(Bucket=bucket)
        (target,) = notification["LambdaFunctionConfigurations"]
        assert target["LambdaFunctionArn"].endswith(":function:app-DocumentIngestFunction")
        assert runtime.chat_state_machine_arn.endswith(":stateMachine:app-ChatStateMachine")
        assert os.environ["CHAT_STATE_MACHINE_ARN"] == runtime.chat_state_machine_arn
        assert os.environ["CONVERSATIONS_TABLE"] == "app-ConversationsTable"
        from orchestrator.config import get_settings

        assert get_settings().llm_default_model == "offline-stand-in"  # read from moto's SSM
    assert "CONVERSATIONS_TABLE" not in os.environ
    assert "CHAT_STATE_MACHINE_ARN" not in os.environ


def test_user_settings_win_and_stop_restores_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("FIXTURE_TABLE=my-own-table\n", encoding="utf-8")
    monkeypatch.setenv("FIXTURE_MODE", "mine")
    monkeypatch.delenv("FIXTURE_REGION_AND_STACK", raising=False)
    runtime = LocalRuntime(FIXTURE / "template.yaml", repo_root=FIXTURE, stack_name="fx2")
    runtime.start()
    try:
        assert os.environ["FIXTURE_MODE"] == "mine"
        assert "FIXTURE_TABLE" not in os.environ  # .env is the user's: Settings reads it from there
        assert os.environ["FIXTURE_REGION_AND_STACK"] == "us-east-1/fx2"
        # The table takes the name the user gave it, so the code finds it.
        assert boto3.client("dynamodb").list_tables()["TableNames"] == ["my-own-table"]
    finally:
        runtime.stop()
    assert os.environ["FIXTURE_MODE"] == "mine"
    assert "FIXTURE_REGION_AND_STACK" not in os.environ
    from moto.awslambda.models import LambdaFunction

    assert not getattr(LambdaFunction._invoke_lambda, "__orchestrator_seam__", False)


def test_bad_parameter_overrides_fail_before_anything_starts() -> None:
    with pytest.raises(TemplateError, match="not one of"):
        LocalRuntime(FIXTURE / "template.yaml", repo_root=FIXTURE, parameter_overrides={"Env": "nope"})


class TestFixtureStack:
    """One fixture stack for the class: resources, environment and ASL behaviour in moto."""

    def test_resources_are_created_from_the_template(self, fixture_stack: LocalRuntime) -> None:
        table = boto3.client("dynamodb").describe_table(TableName="fixture-ItemsTable")["Table"]
        assert [k["AttributeName"] for k in table["KeySchema"]] == ["pk"]
        assert [i["IndexName"] for i in table["GlobalSecondaryIndexes"]] == ["by-owner"]
        ttl = boto3.client("dynamodb").describe_time_to_live(TableName="fixture-ItemsTable")
        assert ttl["TimeToLiveDescription"]["AttributeName"] == "expires_at"

        ssm = boto3.client("ssm")
        names = {p["Name"] for p in ssm.get_parameters_by_path(Path="/fixture/test")["Parameters"]}
        assert names == {"/fixture/test/greeting"}  # the conditional parameter is absent

        secret_id = fixture_stack.physical_id("TokenSecret")
        assert secret_id.startswith("arn:aws:secretsmanager:us-east-1:")
        assert (
            boto3.client("secretsmanager").get_secret_value(SecretId=secret_id)["SecretString"]
            == "REPLACE_ME"
        )

        functions = {f["FunctionName"]: f for f in boto3.client("lambda").list_functions()["Functions"]}
        assert set(functions) == {
            "fixture-EchoFunction",
            "fixture-FlakyFunction",
            "fixture-BoomFunction",
            "fixture-RecorderFunction",
        }
        echo = functions["fixture-EchoFunction"]
        assert (echo["MemorySize"], echo["Timeout"]) == (512, 10)  # own value beats Globals
        assert echo["Environment"]["Variables"]["FIXTURE_ECHO_ONLY"] == "yes"
        assert echo["Environment"]["Variables"]["FIXTURE_TABLE"] == "fixture-ItemsTable"

        sfn = boto3.client("stepfunctions")
        machine = sfn.describe_state_machine(
            stateMachineArn=fixture_stack.state_machine_arn("ExpressStateMachine")
        )
        assert machine["type"] == "EXPRESS"
        assert "${" not in machine["definition"]
        assert "arn:aws:lambda:us-east-1:123456789012:function:fixture-FlakyFunction" in machine["definition"]

    def test_function_environment_is_exported(self, fixture_stack: LocalRuntime) -> None:
        env = fixture_stack.function_env()
        assert env["FIXTURE_TABLE"] == "fixture-ItemsTable"
        assert env["FIXTURE_REGION_AND_STACK"] == "us-east-1/fixture"
        assert env["FIXTURE_MODE"] == "test-mode"
        assert env["FIXTURE_ECHO_ONLY"] == "yes"  # per-function variables join the union
        for key, value in env.items():
            assert os.environ[key] == value

    def test_only_one_runtime_at_a_time(self, fixture_stack: LocalRuntime) -> None:
        second = LocalRuntime(FIXTURE / "template.yaml", repo_root=FIXTURE, stack_name="second")
        with pytest.raises(RuntimeError, match="Another LocalRuntime"):
            second.start()
        # The failed start cleaned up after itself and left the first runtime working.
        assert not second.running
        assert _output(_run(fixture_stack, "still-works", {"scenario": "parallel"}))["branches"][1] == {
            "constant": 42
        }

    # ---------------------------------------------------------------------- ASL behaviour in moto

    def test_retry_matches_the_exception_class_and_catch_gets_error_and_cause(
        self,
        fixture_stack: LocalRuntime,
    ) -> None:
        out = _output(_run(fixture_stack, "retry-ok", {"scenario": "retry_catch", "fail_times": 2}))
        assert out["flaky"] == {"attempts": 3}  # two FlakyError retries, then success
        assert out["caught"]["Error"] == "MyError"  # the second Catch, not the OtherError one
        cause = json.loads(out["caught"]["Cause"])
        assert (cause["errorType"], cause["errorMessage"]) == ("MyError", "caught me")
        assert any("boom/app.py" in frame for frame in cause["stackTrace"])
        assert not any("lambda_seam" in frame for frame in cause["stackTrace"])
        assert "wrong_catcher" not in out

    def test_retries_run_out_into_the_catch(self, fixture_stack: LocalRuntime) -> None:
        out = _output(_run(fixture_stack, "retry-exhausted", {"scenario": "retry_catch", "fail_times": 9}))
        assert out["flaky_error"]["Error"] == "FlakyError"
        assert json.loads(out["flaky_error"]["Cause"])["errorMessage"] == "attempt 4 failed"  # 1 + 3 retries

    def test_map_with_item_selector(self, fixture_stack: LocalRuntime) -> None:
        out = _output(_run(fixture_stack, "map", {"scenario": "map", "items": ["a", "b", "c"], "tag": "T"}))
        assert out["mapped"]["echoes"] == [
            {"value": "a", "index": 0, "tag": "T"},
            {"value": "b", "index": 1, "tag": "T"},
            {"value": "c", "index": 2, "tag": "T"},
        ]

    def test_parallel_and_plain_function_arn_task(self, fixture_stack: LocalRuntime) -> None:
        out = _output(_run(fixture_stack, "parallel", {"scenario": "parallel", "x": 1}))
        plain, constant = out["branches"]
        assert plain["echo"] == {"scenario": "parallel", "x": 1}
        assert (plain["function_name"], plain["memory_mb"]) == ("fixture-EchoFunction", 512)
        assert 0 < plain["remaining_ms"] <= 10_000
        assert constant == {"constant": 42}

    def test_fail_state_takes_error_and_cause_from_paths(self, fixture_stack: LocalRuntime) -> None:
        result = _run(fixture_stack, "fail", {"scenario": "fail"})
        assert result["status"] == "FAILED"
        assert result["error"] == "MyError"
        assert json.loads(result["cause"])["errorMessage"] == "fatal"

    def test_uncaught_handler_error_fails_the_execution(self, fixture_stack: LocalRuntime) -> None:
        result = _run(fixture_stack, "uncaught", {"scenario": "uncaught"})
        assert (result["status"], result["error"]) == ("FAILED", "OtherError")

    def test_handlers_use_moto_through_the_exported_environment(self, fixture_stack: LocalRuntime) -> None:
        out = _output(_run(fixture_stack, "record", {"scenario": "record", "note": "hi"}))
        assert out == {"stored": "record", "settings": {"greeting": "hello"}, "secret": "REPLACE_ME"}
        item = boto3.client("dynamodb").get_item(TableName="fixture-ItemsTable", Key={"pk": {"S": "record"}})
        assert json.loads(item["Item"]["body"]["S"]) == {"id": "record", "note": "hi"}

    def test_intrinsic_functions_and_variables(self, fixture_stack: LocalRuntime) -> None:
        payload = {
            "scenario": "intrinsics",
            "n": 3,
            "json_text": '{"a": 1}',
            "left": {"a": 1},
            "right": {"b": 2},
            "list": [1, 2, 3],
        }
        got = _output(_run(fixture_stack, "intrinsics", payload))["intrinsics"]
        assert got["formatted"] == "run 3 of fixture-FeaturesStateMachine"
        assert (got["parsed"], got["merged"], got["length"], got["sum"]) == ({"a": 1}, {"a": 1, "b": 2}, 3, 4)
        assert json.loads(got["text"]) == {"a": 1}
        # Assign and $variables need a JSONata evaluator: jsonata-python is plugged into moto.
        assigned = _output(_run(fixture_stack, "assign", {"scenario": "assign", "value": "v1"}))["assigned"]
        assert assigned == {"from_variable": "v1"}

    def test_start_sync_execution_runs_an_express_machine_to_the_end(
        self, fixture_stack: LocalRuntime
    ) -> None:
        sfn = boto3.client("stepfunctions")
        express = fixture_stack.state_machine_arn("ExpressStateMachine")
        done = sfn.start_sync_execution(
            stateMachineArn=express,
            name="sync-ok",
            input=json.dumps({"scenario": "map", "items": [7], "tag": "S"}),
        )
        assert done["status"] == "SUCCEEDED"
        assert json.loads(done["output"])["mapped"]["echoes"] == [{"value": 7, "index": 0, "tag": "S"}]
        assert done["executionArn"].startswith(
            "arn:aws:states:us-east-1:123456789012:express:fixture-ExpressStateMachine:sync-ok:"
        )
        failed = sfn.start_sync_execution(stateMachineArn=express, input=json.dumps({"scenario": "fail"}))
        assert (failed["status"], failed["error"]) == ("FAILED", "MyError")
        assert "output" not in failed
        with pytest.raises(sfn.exceptions.ClientError, match="StateMachineTypeNotSupported"):
            sfn.start_sync_execution(stateMachineArn=fixture_stack.state_machine_arn("FeaturesStateMachine"))

    def test_task_tokens_pause_a_run_until_send_task_success_or_failure(
        self, fixture_stack: LocalRuntime
    ) -> None:
        sfn = boto3.client("stepfunctions")
        table = boto3.client("dynamodb")
        arn = fixture_stack.state_machine_arn("CallbackStateMachine")

        def start(name: str, timeout_s: int = 30) -> tuple[str, str]:
            execution = sfn.start_execution(
                stateMachineArn=arn, name=name, input=json.dumps({"id": name, "timeout_s": timeout_s})
            )["executionArn"]
            deadline = time.monotonic() + 10
            while "Item" not in (
                item := table.get_item(
                    TableName=fixture_stack.physical_id("ItemsTable"), Key={"pk": {"S": name}}
                )
            ):
                assert time.monotonic() < deadline, f"{name} never handed its token over"
                time.sleep(0.01)
            assert sfn.describe_execution(executionArn=execution)["status"] == "RUNNING"
            return execution, json.loads(item["Item"]["body"]["S"])["token"]

        def finished(execution: str) -> dict[str, Any]:
            deadline = time.monotonic() + 10
            while (result := sfn.describe_execution(executionArn=execution))["status"] == "RUNNING":
                assert time.monotonic() < deadline
                time.sleep(0.01)
            return _output(dict(result))

        approved, token = start("cb-yes")
        sfn.send_task_success(taskToken=token, output=json.dumps({"ok": True}))
        assert finished(approved)["decision"] == {"ok": True}

        # moto's own SendTaskFailure drops the cause; the seam passes it on, as AWS does.
        rejected, token = start("cb-no")
        sfn.send_task_failure(taskToken=token, error="Rejected", cause="not today")
        assert finished(rejected)["failure"] == {"Error": "Rejected", "Cause": "not today"}

        timed_out, token = start("cb-late", timeout_s=1)
        assert finished(timed_out)["failure"]["Error"] == "States.Timeout"
        with pytest.raises(sfn.exceptions.ClientError):
            sfn.send_task_success(taskToken="no-such-token", output="{}")

    def test_direct_invoke_reports_errors_like_lambda(self, fixture_stack: LocalRuntime) -> None:
        client = boto3.client("lambda")
        ok = client.invoke(FunctionName="fixture-EchoFunction", Payload=json.dumps({"x": 1}))
        assert json.loads(ok["Payload"].read())["echo"] == {"x": 1}
        failed = client.invoke(
            FunctionName="fixture-BoomFunction", Payload=json.dumps({"kind": "unserialisable"})
        )
        assert failed["FunctionError"] == "Handled"
        assert json.loads(failed["Payload"].read())["errorType"] == "Runtime.MarshalError"

    def test_lambda_tasks_skip_the_lambda_api_but_get_its_answer(self, fixture_stack: LocalRuntime) -> None:
        from botocore.exceptions import ClientError
        from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils

        invoke = lambda_eval_utils._invoke_lambda_function  # the runtime's direct path
        client = boto3.client("lambda")
        arn = client.get_function(FunctionName="fixture-EchoFunction")["Configuration"]["FunctionArn"]
        for name in ("fixture-EchoFunction", arn):
            direct = invoke({"FunctionName": name, "Payload": b'{"x": 1}'}, "us-east-1", None)
            api = client.invoke(FunctionName=name, Payload=b'{"x": 1}')
            assert direct["StatusCode"] == api["StatusCode"] == 200
            assert direct["Payload"]["echo"] == json.loads(api["Payload"].read())["echo"] == {"x": 1}
            assert "FunctionError" not in direct and "FunctionError" not in api
        boom = {"FunctionName": "fixture-BoomFunction", "Payload": b'{"kind": "unserialisable"}'}
        failed = invoke(boom, "us-east-1", None)
        assert failed["FunctionError"] == "Handled"
        assert failed["Payload"]["errorType"] == "Runtime.MarshalError"
        too_big = json.dumps({"blob": "x" * 6_000_000}).encode()
        refused = invoke({"FunctionName": "fixture-EchoFunction", "Payload": too_big}, "us-east-1", None)
        assert refused["FunctionError"] == "Unhandled"
        assert refused["Payload"]["errorType"] == "Function.ResponseSizeTooLarge"
        # A function the runtime does not run is the Lambda API's business, errors included.
        with pytest.raises(ClientError, match="ResourceNotFoundException"):
            invoke({"FunctionName": "fixture-NoSuchFunction", "Payload": b"{}"}, "us-east-1", None)

    def test_task_timeout_still_ends_a_slow_lambda_task(self, fixture_stack: LocalRuntime) -> None:
        out = _output(_run(fixture_stack, "slow", {"scenario": "timeout"}))
        assert out["timeout"]["Error"] == "States.Timeout"

    def test_maps_of_any_size_keep_item_order_and_leave_no_threads(self, fixture_stack: LocalRuntime) -> None:
        from moto.stepfunctions.parser.utils import TMP_THREADS

        sfn = boto3.client("stepfunctions")
        express = fixture_stack.state_machine_arn("ExpressStateMachine")
        for items in ([], [1], list(range(5))):
            done = sfn.start_sync_execution(
                stateMachineArn=express, input=json.dumps({"scenario": "map", "items": items, "tag": "n"})
            )
            assert done["status"] == "SUCCEEDED", done
            echoes = json.loads(done["output"])["mapped"]["echoes"]
            assert echoes == [{"value": item, "index": i, "tag": "n"} for i, item in enumerate(items)]
            # moto keeps every thread it starts; the runtime forgets the finished ones.
            assert all(thread.is_alive() for thread in TMP_THREADS)
