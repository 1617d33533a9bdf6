"""Faults below the model, injected into the local stack (moto, the real ASL, the real handlers).

:class:`DynamoFaults` answers chosen DynamoDB calls with an error instead of moto, through a
botocore ``before-send`` hook on the process's DynamoDB client: inside botocore's retry loop, so
the product's retry configuration sees each injected failure exactly as it would see AWS's.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse, HTTPHeaders

from orchestrator.local.runtime import LocalRuntime
from tests.e2e.conftest import client, fake_agent, stack

__all__ = ["DynamoFaults", "client", "dynamo_faults", "fake_agent", "stack"]

#: Where a request goes once answered by a fault: no moto backend matches it, so moto leaves it alone.
_NOWHERE = "http://127.0.0.1:9/fault-injected"


class _Body:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


@dataclass
class _Fault:
    operation: str
    table: str | None
    code: str
    status: int
    remaining: int | None  # None: for ever


@dataclass
class DynamoFaults:
    """Fail the next ``times`` (or every) ``operation`` on ``table`` with an AWS error ``code``."""

    events: Any
    faults: list[_Fault] = field(default_factory=list)
    #: (operation, table) of every call answered by a fault.
    injected: list[tuple[str, str]] = field(default_factory=list)

    def fail(
        self,
        operation: str,
        *,
        table: str | None = None,
        code: str,
        status: int = 400,
        times: int | None = None,
    ) -> None:
        self.faults.append(_Fault(operation, table, code, status, times))

    def clear(self) -> None:
        self.faults.clear()

    def __call__(self, request: Any, **_: Any) -> AWSResponse | None:
        target = str(request.headers.get("X-Amz-Target", b"") or "")
        operation = target.rsplit(".", 1)[-1].strip("'")
        body = json.loads(request.body or b"{}")
        table = str(body.get("TableName", ""))
        for fault in self.faults:
            if fault.operation != operation or (fault.table and fault.table != table):
                continue
            if fault.remaining is not None:
                if fault.remaining <= 0:
                    continue
                fault.remaining -= 1
            self.injected.append((operation, table))
            request.url = _NOWHERE
            error = {"__type": f"com.amazonaws.dynamodb.v20120810#{fault.code}", "message": "injected fault"}
            headers = HTTPHeaders()
            headers["x-amzn-RequestId"] = "fault"
            headers["Content-Type"] = "application/x-amz-json-1.0"
            return AWSResponse(_NOWHERE, fault.status, headers, _Body(json.dumps(error).encode()))
        return None


@pytest.fixture
def dynamo_faults(stack: LocalRuntime) -> Iterator[DynamoFaults]:
    from orchestrator.aws.dynamodb import shared_resource
    from orchestrator.container import current

    events = shared_resource(current().settings.aws_region).meta.client.meta.events
    faults = DynamoFaults(events)
    events.register_first("before-send.dynamodb", faults, unique_id="fault-injection")
    try:
        yield faults
    finally:
        events.unregister("before-send.dynamodb", unique_id="fault-injection")
