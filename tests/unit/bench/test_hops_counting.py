"""Counting hops from an execution history, and DynamoDB request units from calls (bench/hops.py)."""

from __future__ import annotations

import enum
from typing import Any

import pytest

from bench.hops import dynamodb_units
from tests.support.execution_history import count_hops


class EventType(enum.StrEnum):
    """moto's in-process history uses a str enum for the event type."""

    TASK_STATE_ENTERED = "TaskStateEntered"
    TASK_SCHEDULED = "TaskScheduled"


def entered(kind: Any, name: str) -> dict[str, Any]:
    return {"type": kind, "stateEnteredEventDetails": {"name": name}}


def test_invocations_and_transitions_are_counted_from_the_history() -> None:
    events = [
        {"type": "ExecutionStarted"},
        entered("ChoiceStateEntered", "Start run"),
        entered(EventType.TASK_STATE_ENTERED, "Classify intent"),
        {"type": EventType.TASK_SCHEDULED},
        {"type": "TaskSucceeded"},
        entered("MapStateEntered", "Run tools"),
        entered("TaskStateEntered", "Run tool call"),
        {"type": "LambdaFunctionScheduled"},
        entered("SucceedStateEntered", "Done"),
        {"type": "ExecutionSucceeded"},
    ]

    hops = count_hops(events)

    assert hops.invocations == 2
    assert hops.transitions == 5
    assert hops.entered == ("Start run", "Classify intent", "Run tools", "Run tool call", "Done")


@pytest.mark.parametrize(
    ("operation", "params", "response", "expected"),
    [
        # An eventually consistent read of a small item: half a read unit.
        ("GetItem", {"Key": {"pk": {"S": "a"}}}, {"Item": {"pk": {"S": "a"}}}, (0.5, 0.0)),
        ("GetItem", {"ConsistentRead": True}, {"Item": {"v": {"S": "x" * 5000}}}, (2.0, 0.0)),
        ("Query", {}, {"Items": [{"v": {"S": "x" * 3000}}, {"v": {"S": "y" * 3000}}]}, (1.0, 0.0)),
        # A 2.5 KB item costs three write units.
        ("PutItem", {"Item": {"v": {"S": "x" * 2500}}}, {}, (0.0, 3.0)),
        (
            "BatchWriteItem",
            {"RequestItems": {"t": [{"PutRequest": {"Item": {"v": {"S": "a"}}}}] * 2}},
            {},
            (0.0, 2.0),
        ),
        ("TransactWriteItems", {"TransactItems": [{}, {}]}, {}, (0.0, 4.0)),
        ("PutItem", {"Item": {"v": {"B": b"\x00" * 1500}}}, None, (0.0, 2.0)),
        ("DescribeTable", {}, {}, (0.0, 0.0)),
    ],
)
def test_dynamodb_request_units_follow_on_demand_rounding(
    operation: str, params: dict[str, Any], response: dict[str, Any] | None, expected: tuple[float, float]
) -> None:
    assert dynamodb_units(operation, params, response) == expected
