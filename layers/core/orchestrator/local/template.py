"""Reads ``template.yaml`` the way CloudFormation would, for the resources the local runtime builds.

moto's CloudFormation has no SAM transform, so this module parses the template itself: the short
intrinsic tags (``!Ref``, ``!GetAtt``, ``!Sub``, ``!If`` …), parameters with defaults and overrides,
pseudo parameters, conditions, and SAM ``Globals`` for functions. Resource physical ids come from a
callback, so the runtime decides names and ARNs and this module stays free of AWS calls.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml

#: moto's default account id: ARNs computed here match the ones moto returns.
LOCAL_ACCOUNT_ID = "123456789012"

_NO_VALUE = object()
_SUB_VARIABLE = re.compile(r"\$\{(!?)([^}]+)\}")

RefResolver = Callable[[str], Any]
AttResolver = Callable[[str, str], Any]


class TemplateError(ValueError):
    """The template cannot be read or resolved (unknown reference, missing parameter, …)."""


class _CfnLoader(yaml.SafeLoader):
    """SafeLoader that turns CloudFormation short-form tags into their long form."""


def _construct_tag(loader: _CfnLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    if tag_suffix in ("Ref", "Condition"):
        return {tag_suffix: value}
    if tag_suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{tag_suffix}": value}


_CfnLoader.add_multi_constructor("!", _construct_tag)


def load_template(path: Path) -> dict[str, Any]:
    """The template as plain data, short-form tags expanded."""
    with path.open(encoding="utf-8") as handle:
        document = yaml.load(handle, Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass
    if not isinstance(document, dict) or "Resources" not in document:
        raise TemplateError(f"{path} is not a CloudFormation template (no Resources)")
    return document


class Template:
    """A parsed template with its parameters and conditions resolved."""

    def __init__(
        self,
        document: dict[str, Any],
        *,
        region: str,
        stack_name: str,
        parameter_overrides: Mapping[str, str] | None = None,
    ) -> None:
        self.document = document
        self.pseudo: dict[str, str] = {
            "AWS::Region": region,
            "AWS::StackName": stack_name,
            "AWS::AccountId": LOCAL_ACCOUNT_ID,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackId": f"arn:aws:cloudformation:{region}:{LOCAL_ACCOUNT_ID}:stack/{stack_name}/local",
        }
        self.parameters = self._resolve_parameters(dict(parameter_overrides or {}))
        self.conditions: dict[str, bool] = {}
        for name in document.get("Conditions", {}):
            self._condition(name)

    @classmethod
    def from_file(
        cls,
        path: Path,
        *,
        region: str,
        stack_name: str,
        parameter_overrides: Mapping[str, str] | None = None,
    ) -> Template:
        return cls(
            load_template(path), region=region, stack_name=stack_name, parameter_overrides=parameter_overrides
        )

    # ------------------------------------------------------------------ parameters and conditions
    def _resolve_parameters(self, overrides: dict[str, str]) -> dict[str, str]:
        declared: dict[str, Any] = self.document.get("Parameters", {})
        unknown = sorted(set(overrides) - set(declared))
        if unknown:
            raise TemplateError(f"Unknown parameter override(s): {', '.join(unknown)}")
        values: dict[str, str] = {}
        for name, spec in declared.items():
            if name in overrides:
                value = str(overrides[name])
            elif "Default" in spec:
                value = str(spec["Default"])
            else:
                raise TemplateError(f"Parameter {name} has no default and no override")
            allowed = spec.get("AllowedValues")
            if allowed is not None and value not in [str(item) for item in allowed]:
                raise TemplateError(f"Parameter {name}={value!r} is not one of {allowed}")
            values[name] = value
        return values

    def _condition(self, name: str) -> bool:
        if name not in self.conditions:
            definitions: dict[str, Any] = self.document.get("Conditions", {})
            if name not in definitions:
                raise TemplateError(f"Unknown condition {name}")
            self.conditions[name] = bool(self._evaluate_condition(definitions[name]))
        return self.conditions[name]

    def _evaluate_condition(self, expression: Any) -> Any:
        if isinstance(expression, dict) and len(expression) == 1:
            ((key, args),) = expression.items()
            if key == "Condition":
                return self._condition(args)
            if key == "Fn::Equals":
                left, right = (self.resolve(arg) for arg in args)
                return str(left) == str(right)
            if key == "Fn::Not":
                return not self._evaluate_condition(args[0])
            if key == "Fn::And":
                return all(self._evaluate_condition(arg) for arg in args)
            if key == "Fn::Or":
                return any(self._evaluate_condition(arg) for arg in args)
        return self.resolve(expression)

    # ------------------------------------------------------------------ resources
    def resources(self, *types: str) -> dict[str, dict[str, Any]]:
        """Resources of the given types whose condition holds, in template order."""
        selected: dict[str, dict[str, Any]] = {}
        for logical_id, resource in self.document["Resources"].items():
            if types and resource.get("Type") not in types:
                continue
            condition = resource.get("Condition")
            if condition is not None and not self._condition(condition):
                continue
            selected[logical_id] = resource
        return selected

    def function_properties(self, logical_id: str) -> dict[str, Any]:
        """A serverless function's properties with SAM ``Globals.Function`` merged in (unresolved)."""
        resource = self.document["Resources"][logical_id]
        return _merge_globals(self.document.get("Globals", {}).get("Function", {}), resource["Properties"])

    # ------------------------------------------------------------------ intrinsic functions
    def resolve(self, value: Any, ref: RefResolver | None = None, get_att: AttResolver | None = None) -> Any:
        """``value`` with every intrinsic function evaluated; ``AWS::NoValue`` entries dropped."""
        result = self._resolve(value, ref, get_att)
        return None if result is _NO_VALUE else result

    def _resolve(self, value: Any, ref: RefResolver | None, get_att: AttResolver | None) -> Any:
        if isinstance(value, list):
            items = [self._resolve(item, ref, get_att) for item in value]
            return [item for item in items if item is not _NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, args),) = value.items()
            if key == "Ref" or key.startswith("Fn::"):
                return self._intrinsic(key, args, ref, get_att)
        resolved = {key: self._resolve(item, ref, get_att) for key, item in value.items()}
        return {key: item for key, item in resolved.items() if item is not _NO_VALUE}

    def _intrinsic(self, key: str, args: Any, ref: RefResolver | None, get_att: AttResolver | None) -> Any:
        if key == "Ref":
            return self._ref(args, ref)
        if key == "Fn::GetAtt":
            logical_id, attribute = args if isinstance(args, list) else str(args).split(".", 1)
            if get_att is None:
                raise TemplateError(f"Cannot resolve GetAtt {logical_id}.{attribute} here")
            return get_att(logical_id, attribute)
        if key == "Fn::Sub":
            return self._sub(args, ref, get_att)
        if key == "Fn::If":
            name, when_true, when_false = args
            return self._resolve(when_true if self._condition(name) else when_false, ref, get_att)
        if key in ("Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or"):
            return self._evaluate_condition({key: args})
        if key == "Fn::Join":
            separator, items = args
            return str(separator).join(str(item) for item in self._resolve(items, ref, get_att))
        if key == "Fn::Select":
            index, items = self._resolve(args, ref, get_att)
            return items[int(index)]
        if key == "Fn::Split":
            separator, text = self._resolve(args, ref, get_att)
            return str(text).split(separator)
        if key == "Fn::FindInMap":
            map_name, top, second = self._resolve(args, ref, get_att)
            return self.document["Mappings"][map_name][top][second]
        if key == "Fn::Base64":
            text = str(self._resolve(args, ref, get_att))
            return base64.b64encode(text.encode()).decode()
        if key == "Fn::GetAZs":
            region = self._resolve(args, ref, get_att) or self.pseudo["AWS::Region"]
            return [f"{region}{zone}" for zone in "abc"]
        raise TemplateError(f"Intrinsic function {key} is not supported by the local runtime")

    def _ref(self, name: str, ref: RefResolver | None) -> Any:
        if name == "AWS::NoValue":
            return _NO_VALUE
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        if ref is None:
            raise TemplateError(f"Cannot resolve Ref {name} here")
        return ref(name)

    def _sub(self, args: Any, ref: RefResolver | None, get_att: AttResolver | None) -> str:
        text, variables = (args, {}) if isinstance(args, str) else (args[0], args[1])
        values = {key: self._resolve(item, ref, get_att) for key, item in variables.items()}

        def replace(match: re.Match[str]) -> str:
            literal, name = match.groups()
            if literal:  # ${!Name} is the literal text ${Name}
                return "${" + name + "}"
            if name in values:
                return str(values[name])
            if "." in name and name.split(".", 1)[0] not in self.parameters:
                logical_id, attribute = name.split(".", 1)
                return str(self._intrinsic("Fn::GetAtt", [logical_id, attribute], ref, get_att))
            return str(self._ref(name, ref))

        return _SUB_VARIABLE.sub(replace, text)


def _merge_globals(globals_section: Mapping[str, Any], properties: Mapping[str, Any]) -> dict[str, Any]:
    """SAM's rule: maps merge (resource wins), lists concatenate, scalars are the resource's."""
    merged: dict[str, Any] = dict(globals_section)
    for key, value in properties.items():
        current = merged.get(key)
        if isinstance(current, dict) and isinstance(value, dict):
            merged[key] = _merge_globals(current, value)
        elif isinstance(current, list) and isinstance(value, list):
            merged[key] = current + value
        else:
            merged[key] = value
    return merged
