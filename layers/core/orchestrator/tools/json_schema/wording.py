"""Problems in words a model (or an admin) can act on, each with the path it is about."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

#: Problems kept in an error's details, and shown in its message.
KEPT_PROBLEMS = 50
_SHOWN_PROBLEMS = 5
_MAX_PROBLEM_CHARS = 200


def describe(error: Any) -> list[str]:
    """One line per problem in a jsonschema ``ValidationError``, with the argument's path."""
    path = json_path("arguments", error.absolute_path)
    if "propertyNames" in error.absolute_schema_path:  # the value is a key of the object at ``path``
        path = f"{path} (property name {str(error.instance)[:40]!r})"
    return _in_words(error, path) or [clip(f"{path}: {error.message}")]


def _in_words(error: Any, path: str) -> list[str]:
    keyword, expected, value = error.validator, error.validator_value, error.instance
    if keyword == "required" and isinstance(value, dict):
        return [f"{path}.{name}: required" for name in expected if name not in value]
    if keyword == "additionalProperties" and isinstance(value, dict) and isinstance(error.schema, dict):
        declared = error.schema.get("properties", {})
        patterns = error.schema.get("patternProperties", {})
        extra = [k for k in value if k not in declared and not any(re.search(p, k) for p in patterns)]
        return [f"{path}.{name}: unexpected argument" for name in extra]
    if keyword in ("anyOf", "oneOf") and error.context:
        from jsonschema.exceptions import best_match  # type: ignore[import-untyped]

        closest = describe(best_match(error.context))[0]
        return [clip(f"{path}: matches none of the allowed alternatives ({keyword}) (closest: {closest})")]
    wording = _WORDING.get(str(keyword))
    return [clip(f"{path}: {wording(expected, value)}")] if wording is not None else []


def _expected_types(expected: Any, value: Any) -> str:
    names = expected if isinstance(expected, list) else [expected]
    return f"expected {' or '.join(map(str, names))}, got {_json_type(value)}"


_WORDING: dict[str, Callable[[Any, Any], str]] = {
    "type": _expected_types,
    "enum": lambda expected, _: f"must be one of {expected}",
    "const": lambda expected, _: f"must be {json.dumps(expected)}",
    "minLength": lambda expected, _: f"shorter than {expected} characters",
    "maxLength": lambda expected, _: f"longer than {expected} characters",
    "pattern": lambda expected, _: f"does not match the pattern {expected!r}",
    "format": lambda expected, _: f"is not a valid {expected}",
    "minimum": lambda expected, _: f"below the minimum {expected}",
    "maximum": lambda expected, _: f"above the maximum {expected}",
    "exclusiveMinimum": lambda expected, _: f"must be greater than {expected}",
    "exclusiveMaximum": lambda expected, _: f"must be less than {expected}",
    "multipleOf": lambda expected, _: f"must be a multiple of {expected}",
    "minItems": lambda expected, _: f"fewer than {expected} items",
    "maxItems": lambda expected, _: f"more than {expected} items",
    "uniqueItems": lambda expected, _: "items must be unique",
    "minProperties": lambda expected, _: f"fewer than {expected} properties",
    "maxProperties": lambda expected, _: f"more than {expected} properties",
    "oneOf": lambda expected, _: "matches more than one of the alternatives (oneOf)",
    "not": lambda expected, _: "matches a schema it must not match (not)",
}


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return (
        "array" if isinstance(value, list) else "object" if isinstance(value, dict) else type(value).__name__
    )


def json_path(root: str, parts: Iterable[str | int]) -> str:
    return root + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts)


def clip(text: str) -> str:
    return text if len(text) <= _MAX_PROBLEM_CHARS else text[: _MAX_PROBLEM_CHARS - 1] + "…"


def summary(problems: Sequence[str]) -> str:
    shown = "; ".join(problems[:_SHOWN_PROBLEMS])
    more = len(problems) - _SHOWN_PROBLEMS
    return f"{shown} (+{more} more)" if more > 0 else shown
