"""Given arbitrary text and JSON, the request models refuse only with ValidationError, and the API
never answers 5xx; every 4xx carries the JSON error body.

Strings include lone surrogates, control characters and astral characters; numbers include NaN,
infinities and integers past 64 bits; bodies are arbitrary JSON, JSON shaped like each route's
model, and arbitrary bytes. Examples are bounded so the file runs in well under a minute.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pydantic
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orchestrator.api.limits import json_problem
from orchestrator.api.routes.documents import DocumentIn
from orchestrator.api.routes.openai_compat import CompletionRequest
from orchestrator.api.schemas import ChatRequest
from orchestrator.tools.models import ToolDefinition

#: No example database: a run does not depend on what earlier runs left on disk; a failure prints
#: its example, which is enough to reproduce it.
FAST = settings(max_examples=150, deadline=None, database=None)
THROUGH_THE_API = settings(
    max_examples=40, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)

#: Every code point, lone surrogates included (Hypothesis leaves category Cs out by default).
plain_text = st.text(st.characters(exclude_categories=()), max_size=40)
#: Characters that broke or could break something downstream, made likely rather than rare.
hostile = st.sampled_from(["\ud800", "\udfff", "\ud83d", "\x00", "\u2028", "\ufeff", "\U0001f600", "\\u0000"])
any_text = plain_text | hostile | st.builds(lambda a, h, b: a + h + b, plain_text, hostile, plain_text)
ids = st.from_regex(r"[A-Za-z0-9_.:@-]{1,24}", fullmatch=True)
#: Keys some route reads out of ``metadata`` by name.
keys = any_text | ids | st.sampled_from(["session_id", "model"])
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(10**60), max_value=10**60)
    | st.floats(allow_nan=True, allow_infinity=True)
    | any_text
    | ids
)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(keys, children, max_size=4),
    max_leaves=12,
)


def shaped_like(
    model: type[pydantic.BaseModel], **overrides: st.SearchStrategy[Any]
) -> st.SearchStrategy[Any]:
    """Objects with the model's own field names (some, any value), so validation goes deep."""
    fields = {name: overrides.get(name, json_values | ids) for name in model.model_fields}
    return st.fixed_dictionaries({}, optional=fields)


messages = st.lists(
    st.fixed_dictionaries(
        {"role": st.sampled_from(["user", "assistant", "system", "tool", "x"]) | any_text},
        optional={
            "content": json_values
            | any_text
            | st.lists(st.fixed_dictionaries({"type": st.just("text"), "text": json_values}))
        },
    ),
    max_size=3,
)
MODELS: dict[type[pydantic.BaseModel], st.SearchStrategy[Any]] = {
    ChatRequest: shaped_like(ChatRequest),
    CompletionRequest: shaped_like(CompletionRequest, messages=messages),
    DocumentIn: shaped_like(DocumentIn),
    ToolDefinition: shaped_like(
        ToolDefinition,
        parameters=json_values
        | st.fixed_dictionaries({"type": st.just("object")}, optional={"properties": json_values}),
        http=json_values
        | st.fixed_dictionaries({}, optional={"url": any_text, "method": any_text, "headers": json_values}),
    ),
}


@pytest.mark.parametrize("model", list(MODELS), ids=lambda m: m.__name__)
@FAST
@given(data=st.data())
def test_models_refuse_arbitrary_objects_only_with_validation_error(
    model: type[pydantic.BaseModel], data: st.DataObject
) -> None:
    value = data.draw(MODELS[model] | json_values)

    with contextlib.suppress(pydantic.ValidationError):  # anything else fails the test
        model.model_validate(value)


@pytest.mark.parametrize("model", list(MODELS), ids=lambda m: m.__name__)
@FAST
@given(raw=st.binary(max_size=200) | any_text)
def test_models_refuse_arbitrary_text_only_with_validation_error(
    model: type[pydantic.BaseModel], raw: bytes | str
) -> None:
    with contextlib.suppress(pydantic.ValidationError):
        model.model_validate_json(raw)


@FAST
@given(raw=st.binary(max_size=300))
def test_the_guard_judges_any_bytes_without_raising(raw: bytes) -> None:
    json_problem(raw, max_depth=20)


@FAST
@given(value=json_values)
def test_what_the_guard_lets_through_can_be_sent_on_as_utf8(value: Any) -> None:
    body = json.dumps(value).encode()  # ensure_ascii: lone surrogates travel as \ud800 escapes

    if json_problem(body, max_depth=20) is None:
        json.dumps(json.loads(body), ensure_ascii=False).encode("utf-8")  # DynamoDB, Step Functions


@FAST
@given(
    value=st.recursive(
        st.text(max_size=20) | st.integers(-(10**30), 10**30), lambda c: st.lists(c, max_size=3)
    )
)
def test_the_guard_accepts_ordinary_json_with_any_character(value: Any) -> None:
    # Hypothesis text has astral characters (sent as surrogate pairs) and controls, but no lone halves.
    assert json_problem(json.dumps(value).encode(), max_depth=20) is None


# --- Through the API --------------------------------------------------------------------------

#: Turns that pass the schema, so hostile prompts and metadata reach the graph too.
turns = st.fixed_dictionaries(
    {"prompt": any_text, "user_id": ids},
    optional={
        "session_id": ids | any_text,
        "metadata": st.dictionaries(keys, json_values, max_size=3),
    },
)
completions = st.fixed_dictionaries(
    {
        "messages": st.lists(
            st.fixed_dictionaries({"role": st.just("user"), "content": any_text}), min_size=1, max_size=2
        )
    },
    optional={"user": ids | any_text, "metadata": st.dictionaries(keys, json_values, max_size=3)},
)
ROUTES: dict[str, st.SearchStrategy[Any]] = {
    "/v1/chat": MODELS[ChatRequest] | turns,
    "/v1/runs": MODELS[ChatRequest] | turns,
    "/v1/chat/completions": MODELS[CompletionRequest] | completions,
    "/v1/documents": MODELS[DocumentIn],
    "/v1/tools/register": MODELS[ToolDefinition],
    "/v1/tools/calculator/execute": st.fixed_dictionaries({}, optional={"arguments": json_values}),
    "/v1/memory/clear": st.fixed_dictionaries(
        {}, optional={"user_id": ids | any_text, "session_id": ids | any_text, "clear_cache": json_values}
    ),
    "/v1/llm/test-connection": st.fixed_dictionaries({}, optional={"model": json_values, "prompt": any_text}),
}
bodies_for = {
    path: (
        st.builds(lambda v: json.dumps(v).encode(), shape | json_values)
        | st.builds(lambda v: json.dumps(v, ensure_ascii=False).encode("utf-8", "surrogatepass"), shape)
        | st.binary(max_size=100)
    )
    for path, shape in ROUTES.items()
}


def assert_answered_with_the_error_shape(response: Any) -> None:
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        error = response.json()["error"]
        assert isinstance(error["code"], str)
        assert isinstance(error["message"], str)
        assert error["message"]


@pytest.mark.parametrize("path", list(ROUTES))
@THROUGH_THE_API
@given(data=st.data())
def test_no_body_makes_a_route_fail_with_5xx(client: TestClient, path: str, data: st.DataObject) -> None:
    body = data.draw(bodies_for[path])

    response = client.post(path, content=body, headers={"content-type": "application/json"})

    assert_answered_with_the_error_shape(response)
