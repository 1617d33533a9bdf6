"""Given builtins, a config file and run-time registrations, the registry resolves names safely."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError as PydanticValidationError

from orchestrator import tools as tools_package
from orchestrator.config import Settings
from orchestrator.errors import BlockedAddressError, ConfigurationError, ConflictError, ToolNotFoundError
from orchestrator.tools.builtins.definitions import builtin_function
from orchestrator.tools.models import ToolDefinition
from orchestrator.tools.registry import ToolRegistry, load_config_tools

BUILTINS = ["calculator", "fetch_url", "http_request", "web_search", "run_python", "current_time"]
#: From settings with no search provider, web_search is not offered.
OFFERED = [name for name in BUILTINS if name != "web_search"]


def http_tool(
    name: str = "weather", url: str = "https://api.example.com/weather", **http: Any
) -> dict[str, Any]:
    return {
        "name": name,
        "description": "Weather for a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        "kind": "http",
        "http": {"url": url, "method": "GET", **http},
    }


def config_file(tmp_path: Path, tools: Any) -> Path:
    path = tmp_path / "tools.json"
    path.write_text(json.dumps(tools))
    return path


def test_a_registry_without_table_or_config_has_the_builtins() -> None:
    registry = ToolRegistry()

    assert [t.name for t in registry.list()] == BUILTINS
    assert registry.get("calculator").kind == "builtin"
    spec = registry.get("calculator").to_spec()
    assert spec.parameters["required"] == ["expression"]


def test_config_file_tools_are_listed_after_the_builtins(tmp_path: Path) -> None:
    path = config_file(tmp_path, {"tools": [http_tool()]})
    settings = Settings(_env_file=None, tools_config_path=str(path), tools_table="")  # type: ignore[call-arg]

    registry = ToolRegistry.from_settings(settings)

    assert [t.name for t in registry.list()] == [*OFFERED, "weather"]
    assert registry.get("weather").http is not None
    assert registry.get("weather").http.method == "GET"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("tools", "message"),
    [
        ([http_tool(name="calculator")], "builtin"),
        ([http_tool(), http_tool()], "already defined"),
        ([http_tool(url="http://169.254.169.254/latest")], "metadata"),
        ([{"name": "x", "description": "d", "kind": "builtin"}], "only http tools"),
        ([http_tool(name="bad name!")], "name"),
        ({"not": "a list"}, "must hold a list"),
    ],
)
def test_bad_config_files_fail_at_start_up_with_the_entry_named(
    tmp_path: Path, tools: Any, message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        load_config_tools(config_file(tmp_path, tools))


def test_unreadable_config_file_is_a_configuration_error(tmp_path: Path) -> None:
    (tmp_path / "tools.json").write_text("{not json")

    with pytest.raises(ConfigurationError, match="cannot read"):
        load_config_tools(tmp_path / "tools.json")


def test_run_time_registration_adds_a_tool() -> None:
    registry = ToolRegistry()

    registry.register(ToolDefinition.model_validate(http_tool()))

    assert registry.get("weather").description == "Weather for a city."
    assert [t.name for t in registry.list()][-1] == "weather"


def test_registering_a_taken_name_needs_replace() -> None:
    registry = ToolRegistry()
    registry.register(ToolDefinition.model_validate(http_tool()))
    other = ToolDefinition.model_validate(http_tool(url="https://other.example.com/"))

    with pytest.raises(ConflictError, match="already exists") as caught:
        registry.register(other)

    assert caught.value.status_code == 409
    assert registry.get("weather") == ToolDefinition.model_validate(http_tool())
    assert registry.register(other, replace=True) == other
    assert registry.get("weather") == other


def test_a_tool_of_one_tenant_is_invisible_to_another() -> None:
    registry = ToolRegistry()
    registry.for_tenant("a").register(ToolDefinition.model_validate(http_tool()))

    tenant_b = registry.for_tenant("b")

    assert [t.name for t in tenant_b.list()] == BUILTINS
    with pytest.raises(ToolNotFoundError):
        tenant_b.get("weather")
    assert registry.for_tenant("a").get("weather").name == "weather"
    assert (registry.tenant_id, tenant_b.tenant_id) == ("default", "b")


@pytest.mark.parametrize("name", BUILTINS)
def test_builtin_names_cannot_be_overwritten(name: str) -> None:
    registry = ToolRegistry()

    with pytest.raises(ConflictError, match="builtin"):
        registry.register(ToolDefinition.model_validate(http_tool(name=name)), replace=True)
    assert registry.get(name).kind == "builtin"


def test_configured_names_cannot_be_replaced_at_run_time(tmp_path: Path) -> None:
    registry = ToolRegistry(config_tools=load_config_tools(config_file(tmp_path, [http_tool()])))

    with pytest.raises(ConflictError, match="config file"):
        registry.register(
            ToolDefinition.model_validate(http_tool(url="https://other.example.com/")), replace=True
        )
    assert registry.get("weather") == ToolDefinition.model_validate(http_tool())


@pytest.mark.parametrize(
    ("url", "host"),
    [("http://10.0.0.7/api", "10.0.0.7"), ("http://[::1]:8080/", "::1"), ("http://localhost/x", "localhost")],
)
def test_registering_a_private_url_is_refused_unless_allowlisted(url: str, host: str) -> None:
    with pytest.raises(BlockedAddressError):
        ToolRegistry().register(ToolDefinition.model_validate(http_tool(url=url)))

    allowed = ToolRegistry(allowed_hosts=[host])
    assert allowed.register(ToolDefinition.model_validate(http_tool(url=url))).name == "weather"


def test_unknown_tool_is_not_found() -> None:
    with pytest.raises(ToolNotFoundError) as caught:
        ToolRegistry().get("nope")
    assert caught.value.status_code == 404


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"http": {"url": "ftp://x/"}}, "http:// or https://"),
        (
            {"http": {"url": "https://x.example/", "headers": {"Authorization": "Bearer abc"}}},
            "auth_secret_id",
        ),
        ({"http": None}, "needs an 'http' section"),
        ({"parameters": {"type": "string"}}, "type 'object'"),
        ({"parameters": {"type": "object", "properties": {}, "required": ["a"]}}, "not declared"),
    ],
)
def test_definitions_are_validated(change: dict[str, Any], problem: str) -> None:
    with pytest.raises(PydanticValidationError, match=problem):
        ToolDefinition.model_validate({**http_tool(), **change})


def test_listing_tools_loads_neither_httpx_nor_jsonschema() -> None:
    probe = (
        "import sys\n"
        "from orchestrator.tools.registry import ToolRegistry\n"
        "names = [t.name for t in ToolRegistry().list()]\n"
        "print(sorted(m for m in ('httpx', 'jsonschema') if m in sys.modules), len(names))\n"
    )
    core = Path(tools_package.__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(core)}

    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True)

    assert out.stdout.split() == ["[]", str(len(BUILTINS))]


def test_every_builtin_names_an_implementation_that_loads() -> None:
    for name in BUILTINS:
        assert callable(builtin_function(name)), name
