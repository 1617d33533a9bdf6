"""Given the ASL, the template and the code, the three agree: error names, actions and time budgets.

Step Functions matches ``ErrorEquals`` names exactly (no inheritance), so a Retry on a base class
never fires for the errors nodes really raise. The contract: clients retry remote calls themselves
(tenacity, within the node's deadline); the state machine retries only the Lambda platform's own
transient errors. These tests fail when the ASL, the error classes or the nodes drift apart.
"""

from __future__ import annotations

import importlib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from orchestrator.config import Settings
from orchestrator.errors import ERRORS_BY_NAME, OrchestratorError
from orchestrator.local.template import load_template

ROOT = Path(__file__).resolve().parents[2]
ASL = json.loads((ROOT / "statemachine" / "orchestrator.asl.json").read_text())
TEMPLATE = load_template(ROOT / "template.yaml")
#: The Lambda service's own transient failures: the only ones the state machine retries.
PLATFORM_RETRYABLE = {
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
}
#: API Gateway HTTP APIs end an integration after 30 s; Express workflows run at most 5 minutes.
HTTP_API_LIMIT_S = 30
EXPRESS_LIMIT_S = 300


def tasks(states: dict[str, Any] | None = None) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, state in (states if states is not None else ASL["States"]).items():
        if state["Type"] == "Task":
            yield name, state
        for key in ("ItemProcessor", "Iterator"):
            if key in state:
                yield from tasks(state[key]["States"])


def function_of(task: dict[str, Any]) -> str:
    """The template's logical id of the function a Task invokes (``${XFunctionArn}``)."""
    match = re.fullmatch(r"\$\{(\w+)Arn\}", task["Parameters"]["FunctionName"])
    assert match, task["Parameters"]["FunctionName"]
    return match.group(1)


def resource(logical_id: str) -> dict[str, Any]:
    found: dict[str, Any] = TEMPLATE["Resources"][logical_id]
    return found


def timeout_of(logical_id: str) -> int:
    props = resource(logical_id)["Properties"]
    return int(props.get("Timeout", TEMPLATE["Globals"]["Function"]["Timeout"]))


def test_the_state_machine_retries_only_platform_errors() -> None:
    for name, task in tasks():
        retried = {error for retry in task.get("Retry", []) for error in retry["ErrorEquals"]}
        assert retried == PLATFORM_RETRYABLE, f"{name} retries {retried - PLATFORM_RETRYABLE}"


def test_every_error_name_in_the_asl_is_exact_and_known() -> None:
    named = {
        error
        for _, task in tasks()
        for clause in (*task.get("Retry", []), *task.get("Catch", []))
        for error in clause["ErrorEquals"]
    }
    ours = {error for error in named if not error.startswith(("Lambda.", "States."))}
    for error in ours:
        cls = ERRORS_BY_NAME.get(error)
        assert cls is not None, f"{error} is not an error class"
        # No inheritance in Step Functions: naming a base class would miss every subclass.
        assert not cls.__subclasses__(), f"{error} has subclasses the ASL would never match"


def test_every_error_class_is_mapped_by_name_for_the_api() -> None:
    import orchestrator.errors as errors

    defined = {
        name
        for name, obj in vars(errors).items()
        if isinstance(obj, type) and issubclass(obj, OrchestratorError)
    }
    assert defined <= set(ERRORS_BY_NAME)


@pytest.mark.parametrize(("state_name", "task"), list(tasks()), ids=[name for name, _ in tasks()])
def test_every_action_the_asl_sends_exists_in_its_node(state_name: str, task: dict[str, Any]) -> None:
    logical_id = function_of(task)
    folder = Path(resource(logical_id)["Properties"]["CodeUri"]).name
    node = importlib.import_module(f"orchestrator.nodes.{folder}").node
    action = task["Parameters"]["Payload"]["action"]

    assert action in node.actions, f"{state_name}: {folder} has no action {action!r}"


def test_every_node_action_is_used_by_the_asl() -> None:
    sent = {
        (Path(resource(function_of(t))["Properties"]["CodeUri"]).name, t["Parameters"]["Payload"]["action"])
        for _, t in tasks()
    }
    for folder in {f for f, _ in sent}:
        node = importlib.import_module(f"orchestrator.nodes.{folder}").node
        assert {a for f, a in sent if f == folder} == set(node.actions), folder


def waits_for_a_token(task: dict[str, Any]) -> bool:
    return str(task["Resource"]).endswith(".waitForTaskToken")


def test_task_timeouts_cover_their_functions_and_node_deadlines_end_first() -> None:
    margin = Settings().node_deadline_margin_s
    assert margin >= 1, "remote calls must end before the Lambda does"
    for name, task in tasks():
        if waits_for_a_token(task):
            continue  # a person's time, from configuration: the next test
        function_timeout = timeout_of(function_of(task))
        # The Lambda answers with its typed error (deadline = timeout - margin) before this fires.
        assert task.get("TimeoutSeconds", 0) > function_timeout, (
            f"{name} has no TimeoutSeconds above its function's"
        )


def test_the_api_answers_before_api_gateway_and_the_express_limit() -> None:
    api = resource("ApiFunction")["Properties"]
    workflow_timeout = float(api["Environment"]["Variables"]["WORKFLOW_TIMEOUT_S"])

    assert workflow_timeout < timeout_of("ApiFunction") < HTTP_API_LIMIT_S
    assert workflow_timeout < EXPRESS_LIMIT_S


def test_default_model_budgets_fit_inside_a_node_lambda() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    node_timeout = int(TEMPLATE["Globals"]["Function"]["Timeout"])
    budget = node_timeout - settings.node_deadline_margin_s

    assert settings.llm_read_timeout_s < budget
    assert settings.llm_retry_budget_s <= budget
    assert settings.external_agent_retry_budget_s <= budget
    assert settings.datasource_retry_budget_s <= budget


def test_the_approval_wait_is_bounded_by_configuration_and_only_asynchronous_runs_enter_it() -> None:
    waits = {name: task for name, task in tasks() if waits_for_a_token(task)}
    assert set(waits) == {"Wait for approval"}
    wait = waits["Wait for approval"]
    assert wait["Resource"] == "arn:aws:states:::lambda:invoke.waitForTaskToken"
    # APPROVAL_TIMEOUT_S, put in the state by the node that selects the tools.
    assert wait["TimeoutSecondsPath"] == "$.approval.timeout_s" and "TimeoutSeconds" not in wait
    assert "HeartbeatSeconds" not in wait  # nobody beats for a person; it would cut the wait short
    assert wait["Parameters"]["Payload"]["task_token.$"] == "$$.Task.Token"
    smallest = int(TEMPLATE["Parameters"]["ApprovalTimeoutSeconds"]["MinValue"])
    assert Settings(_env_file=None).approval_timeout_s >= smallest > timeout_of(function_of(wait))  # type: ignore[call-arg]
    # A rejection (SendTaskFailure under this name) and a timeout are answers, not failed runs.
    declined = [c for c in wait["Catch"] if c["Next"] == "Decline tools"]
    assert declined and set(declined[0]["ErrorEquals"]) == {"ApprovalRejectedError", "States.Timeout"}
    assert wait["Catch"][-1]["ErrorEquals"] == ["States.ALL"]

    # One ASL for both machines: the way in is a Choice that needs $.asynchronous (set by the API
    # for POST /v1/runs only), so the Express machine can never reach a task token.
    ways_in = []
    for name, state in ASL["States"].items():
        assert state.get("Next") != "Wait for approval", name
        assert state.get("Default") != "Wait for approval", name
        assert all(c["Next"] != "Wait for approval" for c in state.get("Catch", [])), name
        ways_in += [rule for rule in state.get("Choices", []) if rule["Next"] == "Wait for approval"]
    assert ways_in, "nothing leads to the approval wait"
    for rule in ways_in:
        assert {"Variable": "$.asynchronous", "BooleanEquals": True} in rule["And"]
        assert {"Variable": "$.approval.status", "StringEquals": "required"} in rule["And"]
    handover = ASL["States"]["Hand over for approval"]
    assert handover["Type"] == "Succeed"


def test_every_task_tells_its_node_how_often_step_functions_retried_it() -> None:
    # The run's trace counts platform retries (Retry above) beside the clients' own.
    for name, task in tasks():
        assert task["Parameters"]["Payload"].get("retry_count.$") == "$$.State.RetryCount", name


def node_of(task: dict[str, Any]) -> str:
    """``${GroundingFunctionArn}`` → ``grounding``: the node module the function runs."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", function_of(task).removesuffix("Function")).lower()


def test_every_catch_into_the_failure_path_names_the_state_node_and_action_it_guards() -> None:
    catches = 0
    for name, state in ASL["States"].items():
        for catch in state.get("Catch", []):
            if catch["Next"] != "Record failed turn":
                continue
            catches += 1
            inner = [task for _, task in tasks({name: state})]
            expected = {(node_of(task), task["Parameters"]["Payload"]["action"]) for task in inner}
            assigned = catch["Assign"]
            assert assigned["failed_state"] == name
            if len(expected) == 1:
                assert {(assigned["failed_node"], assigned["failed_action"])} == expected, name
            else:  # a plan wave: each step's own node; the step names it
                assert (assigned["failed_node"], assigned["failed_action"]) == ("", "step"), name
                assert {action for _, action in expected} == {"step"}, name
    payload = ASL["States"]["Record failed turn"]["Parameters"]["Payload"]
    assert catches >= 10
    assert {key: payload[f"{key}.$"] for key in ("failed_state", "failed_node", "failed_action")} == {
        "failed_state": "$failed_state",
        "failed_node": "$failed_node",
        "failed_action": "$failed_action",
    }
