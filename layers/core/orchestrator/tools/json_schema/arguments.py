"""Validate a tool call's arguments against the tool's ``parameters``, with jsonschema.

The whole vocabulary of the schema's draft applies. ``format`` is checked for what jsonschema
checks with the packages the layer ships (date, email, ipv4, ipv6, uuid, regex, ...) plus
``date-time``; other formats are annotations, as the specification allows. Only top-level
defaults are filled in. A validator is compiled once per schema (keyed by its JSON) and cached:
validation runs on every tool call. ``jsonschema`` is imported on the first call, so listing
tools never loads it.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from functools import lru_cache
from itertools import islice
from typing import Any

from orchestrator.errors import ToolExecutionError, ToolInputError
from orchestrator.tools.json_schema.parameters import schema_problems, validator_class
from orchestrator.tools.json_schema.wording import KEPT_PROBLEMS, describe, summary

#: Compiled validators kept per process: the builtins plus a tenant's registered tools fit easily.
VALIDATOR_CACHE_SIZE = 256
_RFC3339_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$")


def validate_arguments(schema: dict[str, Any], arguments: dict[str, Any]) -> dict[str, Any]:
    """``arguments`` with top-level defaults filled in, or :class:`ToolInputError` naming each problem."""
    if not isinstance(arguments, dict):
        raise ToolInputError("arguments must be a JSON object")
    filled = dict(arguments)
    for name, prop in (schema.get("properties") or {}).items():
        if name not in filled and isinstance(prop, dict) and "default" in prop:
            filled[name] = prop["default"]
    validator = _compiled(json.dumps(schema))
    from referencing.exceptions import Unresolvable  # loaded with jsonschema by _compiled

    try:
        errors = list(islice(validator.iter_errors(filled), KEPT_PROBLEMS))
    except (RecursionError, Unresolvable) as exc:  # a reference cycle, or one under a moved base
        raise ToolExecutionError(
            f"the tool's parameters schema cannot be applied ({type(exc).__name__})"
        ) from exc
    if errors:
        problems = list(dict.fromkeys(p for error in errors for p in describe(error)))
        raise ToolInputError(f"invalid arguments: {summary(problems)}", details={"problems": problems})
    return filled


@lru_cache(maxsize=VALIDATOR_CACHE_SIZE)
def _compiled(schema_json: str) -> Any:
    """The validator for one schema (keyed by its JSON text), checked as at registration."""
    from referencing import Registry

    schema: dict[str, Any] = json.loads(schema_json)
    problems = schema_problems(schema)
    if problems:
        # Only a definition stored before these checks existed can get here.
        raise ToolExecutionError(f"the tool's parameters schema is not usable: {summary(problems)}")
    # An empty registry: nothing outside the schema is ever resolved, let alone fetched.
    return validator_class(schema)(schema, registry=Registry(), format_checker=_format_checker())


@lru_cache(maxsize=1)
def _format_checker() -> Any:
    """jsonschema's format checks for Draft 2020-12, plus ``date-time`` (its own needs a package)."""
    from jsonschema import Draft202012Validator, FormatChecker  # type: ignore[import-untyped]

    checker = FormatChecker()
    checker.checkers = dict(Draft202012Validator.FORMAT_CHECKER.checkers)
    checker.checks("date-time", raises=ValueError)(_is_date_time)
    return checker


def _is_date_time(value: object) -> bool:
    """RFC 3339 ``date-time``; out-of-range fields make ``fromisoformat`` raise ``ValueError``."""
    if not isinstance(value, str):
        return True
    if not _RFC3339_DATE_TIME.match(value):
        return False
    datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    return True
