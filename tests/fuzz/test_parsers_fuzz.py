"""Given arbitrary input, the request models and parsers that tests/security/test_input_fuzz.py
leaves out answer with a value or their own typed error, never with an unexpected exception.

Request models: approval decisions, uploads, LLM test connections, memory clearing, tool execution.
Parsers: metrics windows, Retry-After, state machine failures, URLs, the calculator, API keys,
uploaded documents, and model replies (OpenAI chat completions, Bedrock Converse).
"""

from __future__ import annotations

import contextlib
import math
from datetime import timedelta
from typing import Any

import pydantic
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orchestrator.api.routes import llm
from orchestrator.api.routes.documents import UploadRequest
from orchestrator.api.routes.memory import ClearRequest
from orchestrator.api.routes.tools import ExecuteRequest
from orchestrator.api.schemas import ApprovalDecisionRequest
from orchestrator.clients.llm.converse import parse_converse
from orchestrator.clients.llm.openai import parse_completion
from orchestrator.clients.retrying import parse_retry_after
from orchestrator.errors import ConfigurationError, ModelResponseError, OrchestratorError, ToolInputError
from orchestrator.failures import describe_failure
from orchestrator.grounding.parsing import extract_text
from orchestrator.identity import parse_api_keys
from orchestrator.monitoring.metrics import MAX_WINDOW, parse_window
from orchestrator.tools.builtins.calculator import evaluate
from orchestrator.tools.network.url_guard import parse_url
from tests.security.test_input_fuzz import any_text, json_values, shaped_like

FAST = settings(max_examples=150, deadline=None, database=None)

MODELS: list[type[pydantic.BaseModel]] = [
    ApprovalDecisionRequest,
    UploadRequest,
    llm.TestConnectionRequest,
    ClearRequest,
    ExecuteRequest,
]


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
@FAST
@given(data=st.data())
def test_request_models_refuse_only_with_validation_error(
    model: type[pydantic.BaseModel], data: st.DataObject
) -> None:
    value = data.draw(shaped_like(model) | json_values)

    with contextlib.suppress(pydantic.ValidationError):
        model.model_validate(value)


@FAST
@given(text=any_text | st.from_regex(r"\s*[0-9]{1,12}\s*[mhdsMHD]?\s*", fullmatch=True))
def test_a_metrics_window_is_a_duration_up_to_30_days_or_a_validation_error(text: str) -> None:
    with contextlib.suppress(OrchestratorError):
        assert timedelta(0) < parse_window(text) <= MAX_WINDOW


@FAST
@given(
    text=st.none()
    | any_text
    | st.floats().map(str)
    | st.datetimes().map(lambda d: d.strftime("%a, %d %b %Y %H:%M:%S GMT"))
)
def test_retry_after_is_none_or_finite_seconds(text: str | None) -> None:
    seconds = parse_retry_after(text)

    assert seconds is None or (math.isfinite(seconds) and seconds >= 0)


@FAST
@given(
    error=st.none() | any_text | st.sampled_from(["ExternalAgentError", "States.Timeout", "States.ALL"]),
    cause=json_values | any_text,
)
def test_any_state_machine_failure_reads_as_a_coded_error(error: str | None, cause: Any) -> None:
    info = describe_failure(error, cause)

    assert info.code and info.message
    if isinstance(cause, str) and len(cause) > 8 and not error:
        assert cause not in info.message  # an untyped cause may carry internals


@FAST
@given(
    url=any_text
    | st.builds(
        lambda s, h, r: f"{s}://{h}{r}", st.sampled_from(["http", "https", "ftp", ""]), any_text, any_text
    )
)
def test_a_url_parses_to_scheme_host_port_or_a_tool_input_error(url: str) -> None:
    with contextlib.suppress(ToolInputError):
        scheme, host, port = parse_url(url)
        assert scheme in ("http", "https") and host and 0 <= port < 65536


arithmetic = st.recursive(
    st.integers(-(10**6), 10**6).map(str)
    | st.floats(allow_nan=False, allow_infinity=False).map(repr)
    | st.sampled_from(["pi", "e", "x", "()"]),
    lambda inner: (
        st.builds(
            lambda a, op, b: f"({a}{op}{b})",
            inner,
            st.sampled_from(["+", "-", "*", "/", "//", "%", "**", " ** ", "<<", "&"]),
            inner,
        )
        | st.builds(
            lambda f, a: f"{f}({a})",
            st.sampled_from(["sqrt", "log", "round", "abs", "floor", "exp", "__import__"]),
            inner,
        )
    ),
    max_leaves=8,
)


@FAST
@given(expression=arithmetic | any_text)
def test_the_calculator_answers_a_number_or_a_tool_input_error(expression: str) -> None:
    with contextlib.suppress(ToolInputError):
        value = evaluate(expression)
        assert isinstance(value, int | float)


@FAST
@given(
    text=any_text
    | st.lists(st.builds(lambda k, t, r: f"{k}:{t}:{r}", any_text, any_text, any_text), max_size=3).map(
        ",".join
    )
    | json_values.map(str)
)
def test_api_keys_parse_or_fail_as_configuration(text: str) -> None:
    with contextlib.suppress(ConfigurationError):
        parse_api_keys(text)


@FAST
@given(
    data=st.binary(max_size=300) | any_text.map(lambda t: t.encode("utf-8", "surrogatepass")),
    content_type=st.none()
    | st.sampled_from(
        [
            "text/plain",
            "text/markdown",
            "text/html; charset=latin-1",
            "application/pdf",
            "text/plain; charset=nope",
            "image/png",
        ]
    )
    | any_text,
    filename=st.none() | st.sampled_from(["a.txt", "a.md", "a.html", "a.pdf", "a.exe", ""]) | any_text,
)
def test_an_uploaded_document_is_text_or_a_typed_error(
    data: bytes, content_type: str | None, filename: str | None
) -> None:
    with contextlib.suppress(OrchestratorError):
        parsed = extract_text(data, content_type=content_type, filename=filename, max_chars=10_000)
        assert parsed.text.strip()


completion_like = st.fixed_dictionaries(
    {},
    optional={
        "choices": json_values
        | st.lists(
            st.fixed_dictionaries(
                {},
                optional={
                    "message": json_values
                    | st.fixed_dictionaries(
                        {},
                        optional={
                            "content": json_values,
                            "tool_calls": json_values | st.lists(json_values, max_size=2),
                        },
                    ),
                    "finish_reason": json_values,
                },
            ),
            max_size=2,
        ),
        "usage": json_values
        | st.fixed_dictionaries(
            {}, optional={"prompt_tokens": json_values, "completion_tokens": json_values}
        ),
    },
)


@FAST
@given(body=completion_like | json_values)
def test_a_malformed_chat_completion_is_a_model_response_error(body: Any) -> None:
    with contextlib.suppress(ModelResponseError):
        parse_completion(body, model="m", provider="openai", prompt_chars=10)


converse_like = st.fixed_dictionaries(
    {},
    optional={
        "output": json_values
        | st.fixed_dictionaries(
            {},
            optional={
                "message": json_values
                | st.fixed_dictionaries(
                    {}, optional={"content": json_values | st.lists(json_values, max_size=3)}
                )
            },
        ),
        "usage": json_values,
    },
)


@FAST
@given(response=converse_like | json_values)
def test_a_malformed_converse_reply_is_a_model_response_error(response: Any) -> None:
    with contextlib.suppress(ModelResponseError):
        parse_converse(response, model="m", provider="bedrock")
