"""The local runtime's shortcuts in moto's interpreter copy and cache exactly what moto did."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from orchestrator.local.interpreter import JsonCopyModule, cached_jsonpath_parser, json_copy
from orchestrator.local.sfn_seam import _cached_client_factory


@dataclass
class Opaque:
    items: list[int]


def test_json_copy_is_deep_and_equal() -> None:
    value: dict[str, Any] = {"a": [1, {"b": "c", "d": None}], "e": 1.5, "f": True}

    copied = json_copy(value)
    copied["a"][1]["b"] = "changed"
    copied["a"].append(2)

    assert value == {"a": [1, {"b": "c", "d": None}], "e": 1.5, "f": True}
    assert json_copy(value) == copy.deepcopy(value)


def test_json_copy_hands_other_objects_to_deepcopy() -> None:
    inner = Opaque([1, 2])
    value = {"opaque": inner, "pair": (1, [2])}

    copied = json_copy(value)

    assert copied == value
    assert copied["opaque"] is not inner and copied["opaque"].items is not inner.items
    assert copied["pair"][1] is not value["pair"][1]
    assert JsonCopyModule.deepcopy is json_copy and JsonCopyModule.copy is copy.copy


def test_jsonpath_parser_parses_each_path_once() -> None:
    parsed: list[str] = []

    def parse(path: str) -> object:
        parsed.append(path)
        return object()

    cached = cached_jsonpath_parser(parse)

    assert cached("$.a") is cached("$.a")
    assert cached("$.b") is not cached("$.a")
    assert parsed == ["$.a", "$.b"]


def test_task_clients_are_shared_per_region_service_and_role() -> None:
    made: list[tuple[str, str, Any]] = []

    def boto_client_for(region: str, service: str, state_credentials: Any = None) -> object:
        made.append((region, service, state_credentials))
        return object()

    client_for = _cached_client_factory(SimpleNamespace(boto_client_for=boto_client_for))
    role_a, role_b = SimpleNamespace(role_arn="arn:role/a"), SimpleNamespace(role_arn="arn:role/b")

    first = client_for("us-east-1", "lambda", role_a)

    assert client_for("us-east-1", "lambda", SimpleNamespace(role_arn="arn:role/a")) is first
    assert client_for("us-east-1", "lambda", role_b) is not first
    assert client_for("eu-west-1", "lambda", role_a) is not first
    assert client_for("us-east-1", "dynamodb", role_a) is not first
    assert client_for("us-east-1", "lambda", None) is not first
    assert len(made) == 5
