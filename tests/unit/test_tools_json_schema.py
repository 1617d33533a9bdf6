"""Given JSON Schemas that users register, registration refuses unusable ones and every call is
validated with the full vocabulary, each problem named by the argument's path."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orchestrator.config import Settings
from orchestrator.errors import ConfigurationError, ToolExecutionError, ToolInputError, ValidationError
from orchestrator.state import ToolCall
from orchestrator.tools.builtins.definitions import BUILTIN_DEFINITIONS
from orchestrator.tools.executor import execute_tool_call
from orchestrator.tools.json_schema import arguments as argument_validation
from orchestrator.tools.json_schema.arguments import validate_arguments
from orchestrator.tools.json_schema.parameters import (
    MAX_SCHEMA_DEPTH,
    check_parameters_schema,
    schema_problems,
)
from orchestrator.tools.models import ToolDefinition
from orchestrator.tools.registry import ToolRegistry, load_config_tools
from orchestrator.tools.registry.store import InMemoryToolStore


def one_argument(schema: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": {"x": schema}}


def http_tool(parameters: dict[str, Any], name: str = "lookup") -> ToolDefinition:
    return ToolDefinition.model_validate(
        {
            "name": name,
            "description": "Look something up.",
            "parameters": parameters,
            "kind": "http",
            "http": {"url": "https://api.example.com/lookup"},
        }
    )


def problems_of(schema: dict[str, Any], arguments: dict[str, Any]) -> list[str]:
    with pytest.raises(ToolInputError) as caught:
        validate_arguments(schema, arguments)
    assert caught.value.code == "tool_invalid_input"
    problems: list[str] = caught.value.details["problems"]
    return problems


# Each keyword the hand-written checker ignored: (schema of argument x, a valid x, an invalid x, wording).
IGNORED_BEFORE = {
    "pattern": ({"type": "string", "pattern": "^[A-Z]{3}$"}, "EUR", "euro", "does not match the pattern"),
    "format email": ({"type": "string", "format": "email"}, "a@example.com", "not-an-email", "valid email"),
    "format date": ({"type": "string", "format": "date"}, "2026-01-15", "15/01/2026", "valid date"),
    "format date-time": (
        {"type": "string", "format": "date-time"},
        "2026-01-15T09:30:00Z",
        "2026-01-15 9:30",
        "valid date-time",
    ),
    "format ipv4": ({"type": "string", "format": "ipv4"}, "192.0.2.1", "192.0.2.999", "valid ipv4"),
    "format uuid": (
        {"type": "string", "format": "uuid"},
        "7c9e6679-7425-40de-944b-e07fc1f90ae7",
        "7c9e6679",
        "valid uuid",
    ),
    "anyOf": (
        {"anyOf": [{"type": "integer"}, {"type": "string", "maxLength": 2}]},
        "ab",
        "abc",
        "none of the allowed alternatives (anyOf)",
    ),
    "oneOf": (
        {"oneOf": [{"type": "integer"}, {"type": "number", "minimum": 10}]},
        5,
        12,
        "more than one of the alternatives (oneOf)",
    ),
    "allOf": ({"allOf": [{"type": "string"}, {"minLength": 3}]}, "abc", "ab", "shorter than 3"),
    "not": ({"not": {"type": "null"}}, 1, None, "must not match (not)"),
    "const": ({"const": "v1"}, "v1", "v2", 'must be "v1"'),
    "exclusiveMinimum": ({"type": "number", "exclusiveMinimum": 0}, 0.5, 0, "greater than 0"),
    "exclusiveMaximum": ({"type": "number", "exclusiveMaximum": 1}, 0.5, 1, "less than 1"),
    "multipleOf": ({"type": "integer", "multipleOf": 5}, 15, 12, "multiple of 5"),
    "minItems": ({"type": "array", "minItems": 1}, [1], [], "fewer than 1 items"),
    "maxItems": ({"type": "array", "maxItems": 2}, [1, 2], [1, 2, 3], "more than 2 items"),
    "uniqueItems": ({"type": "array", "uniqueItems": True}, [1, 2], [1, 1], "unique"),
    "prefixItems": ({"type": "array", "prefixItems": [{"type": "string"}]}, ["a", 1], [1], "expected string"),
    "contains": ({"type": "array", "contains": {"const": "id"}}, ["id", "x"], ["x"], "contain"),
    "minProperties": ({"type": "object", "minProperties": 1}, {"a": 1}, {}, "fewer than 1 properties"),
    "maxProperties": ({"type": "object", "maxProperties": 1}, {"a": 1}, {"a": 1, "b": 2}, "more than 1"),
    "additionalProperties schema": (
        {"type": "object", "additionalProperties": {"type": "integer"}},
        {"a": 1},
        {"a": "one"},
        "expected integer",
    ),
    "patternProperties": (
        {"type": "object", "patternProperties": {"^n_": {"type": "number"}}},
        {"n_a": 1.5},
        {"n_a": "1.5"},
        "expected number",
    ),
    "propertyNames": (
        {"type": "object", "propertyNames": {"maxLength": 3}},
        {"abc": 1},
        {"abcd": 1},
        "name 'abcd'",
    ),
    "dependentRequired": (
        {"type": "object", "dependentRequired": {"card": ["cvv"]}},
        {"card": "4111", "cvv": "123"},
        {"card": "4111"},
        "cvv",
    ),
    "if/then": (
        {"type": "object", "if": {"required": ["unit"]}, "then": {"required": ["value"]}},
        {"unit": "kg", "value": 3},
        {"unit": "kg"},
        "value: required",
    ),
    "$ref to $defs": ({"$ref": "#/$defs/code"}, "AB", "ABC", "longer than 2"),
}


@pytest.mark.parametrize(
    ("schema", "valid", "invalid", "wording"), IGNORED_BEFORE.values(), ids=list(IGNORED_BEFORE)
)
def test_each_keyword_the_old_checker_ignored_is_enforced(
    schema: dict[str, Any], valid: Any, invalid: Any, wording: str
) -> None:
    parameters = {**one_argument(schema), "$defs": {"code": {"type": "string", "maxLength": 2}}}
    check_parameters_schema(parameters)

    assert validate_arguments(parameters, {"x": valid}) == {"x": valid}
    problems = problems_of(parameters, {"x": invalid})

    assert problems, "the invalid value was accepted"
    assert all(p.startswith("arguments.x") for p in problems), problems
    assert wording in " ".join(problems)


def test_the_error_names_the_path_of_a_nested_argument() -> None:
    schema = one_argument(
        {
            "type": "object",
            "properties": {"tags": {"type": "array", "items": {"type": "string", "pattern": "^[a-z]+$"}}},
            "required": ["tags"],
            "additionalProperties": False,
        }
    )

    assert problems_of(schema, {"x": {"tags": ["ok", "NOT OK"], "extra": 1}}) == [
        "arguments.x.tags[1]: does not match the pattern '^[a-z]+$'",
        "arguments.x.extra: unexpected argument",
    ]
    assert problems_of(schema, {"x": {}}) == ["arguments.x.tags: required"]


def test_a_bad_call_through_the_executor_is_a_tool_invalid_input_result_naming_the_path() -> None:
    registry = ToolRegistry(store=InMemoryToolStore())
    registry.register(http_tool(one_argument({"type": "string", "format": "email"})))

    result = execute_tool_call(
        ToolCall(id="c1", name="lookup", arguments={"x": "nobody"}),
        registry,
        Settings(_env_file=None, tools_table=""),  # type: ignore[call-arg]
    )

    assert result.error == "tool_invalid_input: invalid arguments: arguments.x: is not a valid email"


def test_schema_validation_fills_top_level_defaults_and_checks_nested_values() -> None:
    schema = {
        "type": "object",
        "properties": {
            "limit": {"type": "integer", "minimum": 1, "maximum": 10, "default": 5},
            "tags": {"type": "array", "items": {"type": "string", "enum": ["a", "b"]}},
            "flag": {"type": ["boolean", "null"]},
            "options": {"type": "object", "properties": {"depth": {"type": "integer", "default": 2}}},
        },
    }

    assert validate_arguments(schema, {"tags": ["a"]}) == {"tags": ["a"], "limit": 5}
    assert validate_arguments(schema, {"limit": 3.0, "flag": None})["limit"] == 3.0
    assert validate_arguments(schema, {"options": {}})["options"] == {}  # nested defaults are not filled
    assert problems_of(schema, {"limit": True, "tags": ["a", "c"], "flag": "yes"}) == [
        "arguments.limit: expected integer, got boolean",
        "arguments.tags[1]: must be one of ['a', 'b']",
        "arguments.flag: expected boolean or null, got string",
    ]


def test_many_problems_are_summarised_and_long_values_are_not_echoed() -> None:
    schema = one_argument({"type": "array", "items": {"type": "integer"}})
    long_text = "z" * 5_000

    with pytest.raises(ToolInputError) as caught:
        validate_arguments(schema, {"x": [long_text] * 8})

    assert "(+3 more)" in caught.value.message
    assert long_text[:300] not in caught.value.message


def test_a_draft_7_schema_is_accepted_and_enforced() -> None:
    schema = {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "object",
        "definitions": {"currency": {"type": "string", "pattern": "^[A-Z]{3}$"}},
        "properties": {"from": {"$ref": "#/definitions/currency"}},
    }

    check_parameters_schema(schema)
    assert problems_of(schema, {"from": "usd"}) == ["arguments.from: does not match the pattern '^[A-Z]{3}$'"]


BAD_SCHEMAS = {
    "unknown type": (one_argument({"type": "float"}), "parameters.properties.x.type"),
    "invalid regex": (
        one_argument({"type": "string", "pattern": "(unclosed"}),
        "parameters.properties.x.pattern",
    ),
    "minimum not a number": (
        one_argument({"type": "integer", "minimum": "one"}),
        "parameters.properties.x.minimum",
    ),
    "negative maxLength": (
        one_argument({"type": "string", "maxLength": -1}),
        "parameters.properties.x.maxLength",
    ),
    "required not a list": ({"type": "object", "properties": {}, "required": "x"}, "required must be a list"),
    "required not declared": ({"type": "object", "properties": {}, "required": ["x"]}, "not declared"),
    "root not an object": ({"type": "array", "items": {}}, "type 'object'"),
    "remote $ref": (
        one_argument({"$ref": "https://schemas.example.com/x.json"}),
        "parameters.properties.x.$ref",
    ),
    "$ref that leads nowhere": (one_argument({"$ref": "#/$defs/missing"}), "parameters.properties.x.$ref"),
    "unsupported draft": (
        {"$schema": "http://json-schema.org/draft-04/schema#", "type": "object"},
        "parameters.$schema",
    ),
    "too deep": (
        {
            "type": "object",
            "properties": {"x": json.loads('{"not": ' * MAX_SCHEMA_DEPTH + "{}" + "}" * MAX_SCHEMA_DEPTH)},
        },
        "nested deeper",
    ),
    "too large": (
        {"type": "object", "properties": {f"p{i}": {"description": "x" * 1_000} for i in range(70)}},
        "over the limit",
    ),
}


@pytest.mark.parametrize(("parameters", "where"), BAD_SCHEMAS.values(), ids=list(BAD_SCHEMAS))
def test_invalid_schemas_are_refused_at_registration_naming_the_path(
    parameters: dict[str, Any], where: str
) -> None:
    registry = ToolRegistry(store=InMemoryToolStore())
    definition = ToolDefinition.model_construct(  # as stored or sent, before any check of ours
        name="lookup",
        description="Look something up.",
        parameters=parameters,
        kind="http",
        http=http_tool(one_argument({})).http,
    )

    with pytest.raises(ValidationError) as caught:
        registry.register(definition)

    assert caught.value.status_code == 422
    assert where in caught.value.message
    assert [t.name for t in registry.list()] == [d.name for d in BUILTIN_DEFINITIONS]


def test_an_invalid_schema_in_the_config_file_fails_at_start_up(tmp_path: Path) -> None:
    path = tmp_path / "tools.json"
    path.write_text(json.dumps([http_tool(one_argument({"type": "float"})).model_dump(mode="json")]))

    with pytest.raises(ConfigurationError, match=r"entry 0: parameters is not a usable JSON Schema"):
        load_config_tools(path)


def test_a_stored_schema_with_a_remote_ref_is_never_fetched() -> None:
    store = InMemoryToolStore()
    # Written behind the registry's back, as an older version could have stored it.
    store.put("default", http_tool(one_argument({"$ref": "http://169.254.169.254/latest/meta-data/"})))
    registry = ToolRegistry(store=store)

    result = execute_tool_call(
        ToolCall(id="c1", name="lookup", arguments={"x": 1}),
        registry,
        Settings(_env_file=None, tools_table=""),  # type: ignore[call-arg]
    )

    assert result.error is not None and result.error.startswith("tool_failed: the tool's parameters schema")
    with pytest.raises(ToolExecutionError):
        validate_arguments(registry.get("lookup").parameters, {"x": 1})


def test_every_builtin_schema_passes_the_full_check() -> None:
    for definition in BUILTIN_DEFINITIONS:
        assert schema_problems(definition.parameters) == [], definition.name


def test_a_validator_is_compiled_once_per_schema() -> None:
    schema = one_argument({"type": "string", "pattern": "^cached$"})
    validate_arguments(schema, {"x": "cached"})
    before = argument_validation._compiled.cache_info()

    validate_arguments(dict(schema), {"x": "cached"})

    after = argument_validation._compiled.cache_info()
    assert (after.hits, after.misses) == (before.hits + 1, before.misses)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=12,
)
keywords = st.sampled_from(
    [
        "type",
        "pattern",
        "format",
        "anyOf",
        "items",
        "properties",
        "required",
        "$ref",
        "enum",
        "minimum",
        "not",
    ]
)


@settings(max_examples=150, deadline=None)
@given(
    properties=st.dictionaries(
        st.text(max_size=5), st.dictionaries(keywords, json_values, max_size=3), max_size=3
    ),
    arguments=st.dictionaries(st.text(max_size=5), json_values, max_size=3),
)
def test_arbitrary_schemas_and_arguments_fail_only_with_typed_errors(
    properties: dict[str, Any], arguments: dict[str, Any]
) -> None:
    schema = {"type": "object", "properties": properties}

    if schema_problems(schema):
        return
    with contextlib.suppress(ToolInputError):
        validate_arguments(schema, arguments)


def test_a_reference_cycle_is_a_tool_failure_not_a_crash() -> None:
    schema = {
        "type": "object",
        "$defs": {"a": {"$ref": "#/$defs/a"}},
        "properties": {"x": {"$ref": "#/$defs/a"}},
    }

    with pytest.raises(ToolExecutionError, match="cannot be applied"):
        validate_arguments(schema, {"x": 1})
