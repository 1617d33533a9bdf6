"""Is a tool's ``parameters`` a JSON Schema we can apply? Checked when a tool is registered or
configured, and again before a schema's validator is first compiled.

A schema is read as Draft 2020-12 unless its ``$schema`` names Draft 7, and checked against that
draft's meta-schema (``format: regex`` included, so a broken ``pattern`` is refused). Its root must
be an object schema (what model providers accept for tool arguments), every required property must
be declared, and it is capped in size and depth. ``$ref`` must stay inside the schema (``#...``):
jsonschema would otherwise download a remote reference, from wherever the tool runs.
"""

from __future__ import annotations

import json
from functools import lru_cache
from itertools import islice
from typing import Any

from orchestrator.errors import ValidationError
from orchestrator.tools.json_schema.wording import KEPT_PROBLEMS, clip, json_path, summary

#: Hard limits, whatever the registry's policy allows (``TOOLS_MAX_SCHEMA_BYTES`` is usually lower).
MAX_SCHEMA_BYTES = 65_536
MAX_SCHEMA_DEPTH = 32

DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"
DRAFT_7 = "http://json-schema.org/draft-07/schema"
#: Keywords whose values are data, not subschemas: a "$ref" inside them is not a reference.
_DATA_KEYWORDS = frozenset({"enum", "const", "default", "examples"})


def check_object_root(schema: dict[str, Any]) -> None:
    """Raise ``ValueError`` unless ``schema`` is an object schema whose required names are declared.

    Cheap and library-free: :class:`~orchestrator.tools.models.ToolDefinition` runs it on every
    definition it parses. The full check is :func:`check_parameters_schema`.
    """
    if schema.get("type") != "object":
        raise ValueError("parameters must be a JSON schema with type 'object'")
    properties = schema.get("properties", {})
    if not isinstance(properties, dict) or not all(isinstance(p, dict | bool) for p in properties.values()):
        raise ValueError("parameters.properties must map names to schemas")
    required = schema.get("required", [])
    if not isinstance(required, list) or not all(isinstance(r, str) for r in required):
        raise ValueError("parameters.required must be a list of property names")
    missing = [name for name in required if name not in properties]
    if missing:
        raise ValueError(f"required properties {missing} are not declared in parameters.properties")


def check_parameters_schema(schema: dict[str, Any]) -> None:
    """Raise :class:`ValidationError` (422) unless ``schema`` may describe a tool's arguments."""
    problems = schema_problems(schema)
    if problems:
        raise ValidationError(
            f"parameters is not a usable JSON Schema: {summary(problems)}",
            details={"field": "parameters", "problems": problems},
        )


def schema_problems(schema: dict[str, Any]) -> list[str]:
    """What is wrong with ``schema`` as a tool's ``parameters``, each problem with its path."""
    try:
        check_object_root(schema)
    except ValueError as exc:
        return [str(exc)]
    size = len(json.dumps(schema).encode())
    if size > MAX_SCHEMA_BYTES:
        return [f"parameters: {size} bytes is over the limit of {MAX_SCHEMA_BYTES}"]
    if _depth(schema) > MAX_SCHEMA_DEPTH:
        return [f"parameters: nested deeper than {MAX_SCHEMA_DEPTH} levels"]
    declared = schema.get("$schema")
    if declared is not None and draft_of(declared) is None:
        return [f"parameters.$schema: {declared!r} is not supported; use {DRAFT_2020_12} or {DRAFT_7}"]
    meta = _meta_validator(draft_of(declared) or DRAFT_2020_12)
    problems = [
        clip(f"{json_path('parameters', error.absolute_path)}: {error.message}")
        for error in islice(meta.iter_errors(schema), KEPT_PROBLEMS)
    ]
    return problems or _reference_problems(schema)


def validator_class(schema: dict[str, Any]) -> Any:
    """jsonschema's validator class for the draft ``schema`` declares (2020-12 by default)."""
    from jsonschema import Draft7Validator, Draft202012Validator  # type: ignore[import-untyped]

    return Draft7Validator if draft_of(schema.get("$schema")) == DRAFT_7 else Draft202012Validator


@lru_cache(maxsize=2)
def _meta_validator(draft: str) -> Any:
    """A validator of schemas against ``draft``'s meta-schema (``format: regex`` included)."""
    from jsonschema_specifications import REGISTRY  # type: ignore[import-untyped]

    meta = validator_class({"$schema": draft})
    return meta(meta.META_SCHEMA, registry=REGISTRY, format_checker=meta.FORMAT_CHECKER)


def draft_of(declared: Any) -> str | None:
    """The supported draft a ``$schema`` value names, or None."""
    if not isinstance(declared, str):
        return None
    uri = declared.rstrip("#")
    return uri if uri in (DRAFT_2020_12, DRAFT_7) else None


def _depth(value: Any) -> int:
    """Nesting depth of a JSON value, without recursion (the value may be hostile)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        deepest = max(deepest, level)
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        stack.extend((child, level + 1) for child in children if isinstance(child, dict | list))
    return deepest


def _references(schema: dict[str, Any]) -> list[tuple[str, str]]:
    """(path, target) of every ``$ref`` and ``$dynamicRef`` in ``schema``."""
    found: list[tuple[str, str]] = []
    stack: list[tuple[Any, str]] = [(schema, "parameters")]
    while stack:
        item, where = stack.pop()
        if isinstance(item, list):
            stack.extend((child, f"{where}[{i}]") for i, child in enumerate(item))
            continue
        if not isinstance(item, dict):
            continue
        for key, child in item.items():
            if key in ("$ref", "$dynamicRef") and isinstance(child, str):
                found.append((f"{where}.{key}", child))
            elif key not in _DATA_KEYWORDS:
                stack.append((child, f"{where}.{key}"))
    return sorted(found)


def _reference_problems(schema: dict[str, Any]) -> list[str]:
    """References that leave the schema, or (when no ``$id`` moves the base) that lead nowhere."""
    from referencing import Registry
    from referencing.exceptions import Unresolvable
    from referencing.jsonschema import DRAFT7, DRAFT202012

    references = _references(schema)
    problems = [
        f"{where}: only local references ('#...') are allowed"
        for where, target in references
        if not target.startswith("#")
    ]
    if problems or "$id" in json.dumps(schema):
        return problems
    specification = DRAFT7 if draft_of(schema.get("$schema")) == DRAFT_7 else DRAFT202012
    resolver = Registry().with_resource("", specification.create_resource(schema)).resolver()
    for where, target in references:
        try:
            resolver.lookup(target)
        except Unresolvable:
            problems.append(f"{where}: {target!r} does not resolve inside the schema")
    return problems
