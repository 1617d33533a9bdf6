"""Given the app's own /openapi.json, when schemathesis sends generated requests to every
operation, then no answer is a server error and every answer is the one the schema documents.

Runs on the local stack (offline provider): valid and invalid examples per operation, bounded and
derandomized. Checked: no 5xx, documented status codes and content types, response bodies match
their schemas (errors included: the documented ``ErrorBody`` is the body the handlers send), and
every 4xx is the JSON error shape. ``POST /v1/chat`` with ``stream: true`` is generated like any
body and checked against its documented ``text/event-stream``; ``/mcp`` is a plain ASGI route
outside the OpenAPI document (the MCP protocol has its own tests in tests/e2e/test_mcp.py).
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import (
    CheckContext,
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.generation.modes import GenerationMode

from orchestrator.local.runtime import LocalRuntime

# Schemathesis' own strategies draw from `random`, which Hypothesis warns about; not our code.
pytestmark = pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning")


@pytest.fixture(scope="package")
def api_schema(stack: LocalRuntime) -> Any:
    from orchestrator.api import create_app

    return schemathesis.openapi.from_asgi("/openapi.json", create_app())


@schemathesis.check
def error_body_is_the_api_shape(ctx: CheckContext, response: Any, case: Any) -> bool | None:
    """Every error answer is JSON with ``{"error": {"code", "message"}}``."""
    if response.status_code < 400:
        return None
    body = response.json()
    error = body.get("error") if isinstance(body, dict) else None
    assert isinstance(error, dict), f"{response.status_code} without an error object: {body!r}"
    assert isinstance(error.get("code"), str) and isinstance(error.get("message"), str), body
    return None


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    error_body_is_the_api_shape,
]


#: Examples per operation and generation mode: enough to reach every field, bounded for CI.
MAX_EXAMPLES = 8


def failures_of(operation: Any, mode: GenerationMode) -> list[str]:
    """Run ``MAX_EXAMPLES`` generated requests against ``operation``; the checks that failed."""
    found: list[str] = []

    @settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
        phases=[Phase.explicit, Phase.generate],
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def probe(case: Any) -> None:
        try:
            case.call_and_validate(checks=CHECKS)
        except Exception as exc:  # schemathesis raises a group of the failed checks
            found.append(f"{case.method} {case.formatted_path}: {str(exc)[:600]}")

    with contextlib.suppress(Unsatisfiable):  # no input to negate: no parameters, no body
        probe()
    return found


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=str)
def test_every_operation_answers_as_documented(api_schema: Any, mode: GenerationMode) -> None:
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) > 20, "the schema lost its operations"

    failures = [failure for operation in operations for failure in failures_of(operation, mode)]

    assert not failures, "\n\n".join(failures[:20])


def _with_lone_surrogate(value: Any) -> tuple[Any, bool]:
    """``value`` with a lone surrogate appended to its first string (depth first), and whether one was."""
    if isinstance(value, str):
        return value + "\ud800", True
    if isinstance(value, dict):
        for key, child in value.items():
            changed, done = _with_lone_surrogate(child)
            if done:
                return {**value, key: changed}, True
    if isinstance(value, list):
        for index, child in enumerate(value):
            changed, done = _with_lone_surrogate(child)
            if done:
                return [*value[:index], changed, *value[index + 1 :]], True
    return value, False


def test_a_lone_surrogate_in_any_json_body_is_a_documented_4xx(api_schema: Any, client: TestClient) -> None:
    # An outside schemathesis run once found a lone surrogate giving a 500: every JSON body of
    # the schema now gets one in its first string field, sent escaped as JSON carries it.
    operations = [result.ok() for result in api_schema.get_all_operations()]
    failures: list[str] = []
    sent = 0
    for operation in operations:
        if "application/json" not in operation.get_request_payload_content_types():
            continue

        @settings(max_examples=3, derandomize=True, deadline=None, database=None)
        @given(case=operation.as_strategy(media_type="application/json"))
        def probe(case: Any) -> None:
            nonlocal sent
            body, changed = _with_lone_surrogate(case.body)
            if not changed:
                return
            sent += 1
            response = client.request(
                case.method,
                case.formatted_path,
                params=case.query,
                content=json.dumps(body).encode(),
                headers={"content-type": "application/json"},
            )
            try:
                assert 400 <= response.status_code < 500, response.text
                case.validate_response(response, checks=CHECKS)
            except Exception as exc:
                failures.append(f"{case.method} {case.formatted_path}: {str(exc)[:600]}")

        probe()

    assert sent >= 10, "too few bodies carried the surrogate to prove anything"
    assert not failures, "\n\n".join(failures[:20])
