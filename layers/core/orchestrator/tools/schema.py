"""A small JSON-schema subset for tool arguments: the part models actually rely on.

Supported: ``type`` (one or a list), ``properties``, ``required``, ``additionalProperties``
(boolean), ``enum``, ``items``, ``minimum``/``maximum``, ``minLength``/``maxLength`` and
top-level ``default``. Other keywords (``description``, ``format``, ...) are accepted and ignored.
A full validator would be a new dependency for the layer; this covers what tool specs use.
"""

from __future__ import annotations

from typing import Any

from orchestrator.errors import ToolInputError

JSON_TYPES = frozenset({"object", "array", "string", "number", "integer", "boolean", "null"})
_MAX_PROBLEMS = 5


def check_parameters_schema(schema: dict[str, Any]) -> None:
    """Raise ``ValueError`` unless ``schema`` is an object schema this module can enforce."""
    if schema.get("type") != "object":
        raise ValueError("parameters must be a JSON schema with type 'object'")
    properties = schema.get("properties", {})
    if not isinstance(properties, dict) or not all(isinstance(p, dict) for p in properties.values()):
        raise ValueError("parameters.properties must map names to schemas")
    required = schema.get("required", [])
    if not isinstance(required, list) or not all(isinstance(r, str) for r in required):
        raise ValueError("parameters.required must be a list of property names")
    missing = [name for name in required if name not in properties]
    if missing:
        raise ValueError(f"required properties {missing} are not declared in parameters.properties")
    _check_types(schema, "parameters")


def _check_types(schema: dict[str, Any], where: str) -> None:
    declared = schema.get("type")
    names = declared if isinstance(declared, list) else [declared] if declared is not None else []
    unknown = [n for n in names if n not in JSON_TYPES]
    if unknown:
        raise ValueError(f"{where}: unknown type(s) {unknown}")
    for name, sub in (schema.get("properties") or {}).items():
        _check_types(sub, f"{where}.{name}")
    if isinstance(schema.get("items"), dict):
        _check_types(schema["items"], f"{where}[]")


def _type_ok(value: Any, name: str) -> bool:
    if name == "null":
        return value is None
    if name == "boolean":
        return isinstance(value, bool)
    if name == "integer":
        # JSON has one number type: 3.0 is an integer, true is not.
        return not isinstance(value, bool) and (
            isinstance(value, int) or (isinstance(value, float) and value.is_integer())
        )
    if name == "number":
        return not isinstance(value, bool) and isinstance(value, int | float)
    if name == "string":
        return isinstance(value, str)
    if name == "array":
        return isinstance(value, list)
    return isinstance(value, dict)


def _problems(value: Any, schema: dict[str, Any], path: str) -> list[str]:
    declared = schema.get("type")
    if declared is not None:
        names = declared if isinstance(declared, list) else [declared]
        if not any(_type_ok(value, n) for n in names):
            return [f"{path}: expected {' or '.join(names)}, got {_json_type(value)}"]
    found: list[str] = []
    if "enum" in schema and value not in schema["enum"]:
        found.append(f"{path}: must be one of {schema['enum']}")
    if isinstance(value, str):
        if len(value) < schema.get("minLength", 0):
            found.append(f"{path}: shorter than {schema['minLength']} characters")
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            found.append(f"{path}: longer than {schema['maxLength']} characters")
    if isinstance(value, int | float) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            found.append(f"{path}: below the minimum {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            found.append(f"{path}: above the maximum {schema['maximum']}")
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(value):
            found += _problems(item, schema["items"], f"{path}[{index}]")
    if isinstance(value, dict):
        found += _object_problems(value, schema, path)
    return found


def _object_problems(value: dict[str, Any], schema: dict[str, Any], path: str) -> list[str]:
    properties: dict[str, Any] = schema.get("properties") or {}
    found = [f"{path}.{name}: required" for name in schema.get("required", []) if name not in value]
    for name, item in value.items():
        if name in properties:
            found += _problems(item, properties[name], f"{path}.{name}")
        elif schema.get("additionalProperties") is False:
            found.append(f"{path}.{name}: unexpected argument")
    return found


def _json_type(value: Any) -> str:
    for name in ("null", "boolean", "integer", "number", "string", "array", "object"):
        if _type_ok(value, name):
            return name
    return type(value).__name__


def validate_arguments(schema: dict[str, Any], arguments: dict[str, Any]) -> dict[str, Any]:
    """``arguments`` with top-level defaults filled in, or :class:`ToolInputError` listing the problems."""
    if not isinstance(arguments, dict):
        raise ToolInputError("arguments must be a JSON object")
    filled = dict(arguments)
    for name, prop in (schema.get("properties") or {}).items():
        if name not in filled and "default" in prop:
            filled[name] = prop["default"]
    problems = _problems(filled, schema, "arguments")
    if problems:
        shown = "; ".join(problems[:_MAX_PROBLEMS])
        more = f" (+{len(problems) - _MAX_PROBLEMS} more)" if len(problems) > _MAX_PROBLEMS else ""
        raise ToolInputError(f"invalid arguments: {shown}{more}", details={"problems": problems})
    return filled
