"""What a tool is: its name, what it does, the JSON schema of its arguments, how it runs."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from orchestrator.clients.llm.base import ToolSpec
from orchestrator.tools.json_schema.parameters import check_object_root

if TYPE_CHECKING:
    from orchestrator.config import Settings

TOOL_NAME_PATTERN = r"^[a-zA-Z0-9_-]{1,64}$"
#: Between an MCP server's name and one of its tools' names: ``<server>__<tool>``.
MCP_SEPARATOR = "__"

#: Header names that carry credentials: they belong in Secrets Manager (``auth_secret_id``), never
#: in a definition that is stored in DynamoDB and listed over the API.
SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "x-api-key", "api-key", "x-auth-token"}
)


def _http_url(value: str) -> str:
    if not value.lower().startswith(("http://", "https://")):
        raise ValueError("url must start with http:// or https://")
    return value


def _no_inline_secrets(value: dict[str, str]) -> dict[str, str]:
    leaked = sorted(name for name in value if name.strip().lower() in SECRET_HEADERS)
    if leaked:
        raise ValueError(f"headers {leaked} carry credentials: put the secret in auth_secret_id instead")
    return value


class HttpToolConfig(BaseModel):
    """How an ``http`` tool calls its endpoint: arguments go in the query (GET) or a JSON body (POST)."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=1, max_length=2_048)
    method: Literal["GET", "POST"] = "POST"
    headers: dict[str, str] = Field(default_factory=dict)
    #: Secrets Manager secret whose value is sent in ``auth_header`` (read on use, cached 5 min).
    auth_secret_id: str | None = None
    auth_header: str = "Authorization"
    #: Prefix for the secret in ``auth_header``; empty sends the bare value (e.g. for X-Api-Key).
    auth_scheme: str = "Bearer"
    #: Seconds per attempt; the whole call (retries included) also stays within ``TOOL_TIMEOUT_S``.
    timeout_s: float = Field(default=10.0, gt=0, le=120)

    @field_validator("method", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    _scheme = field_validator("url")(_http_url)
    _headers = field_validator("headers")(_no_inline_secrets)


class McpServerConfig(BaseModel):
    """An MCP server (streamable HTTP) whose tools become ``<server>__<tool>`` tools."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=1, max_length=2_048)
    headers: dict[str, str] = Field(default_factory=dict)
    #: Secrets Manager secret whose value is sent in ``auth_header`` on every request to the server.
    auth_secret_id: str | None = None
    auth_header: str = "Authorization"
    auth_scheme: str = "Bearer"
    #: Seconds a tool call may take; it also stays within ``TOOL_TIMEOUT_S``.
    timeout_s: float = Field(default=10.0, gt=0, le=120)
    #: The server's own name for the tool: set on the tools listed from a server, never registered.
    tool: str | None = Field(default=None, max_length=256)

    _scheme = field_validator("url")(_http_url)
    _headers = field_validator("headers")(_no_inline_secrets)


class ToolDefinition(BaseModel):
    """A tool as the registry stores it and the model sees it."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=TOOL_NAME_PATTERN)
    description: str = Field(min_length=1, max_length=1_024)
    parameters: dict[str, Any] = Field(default_factory=lambda: {"type": "object", "properties": {}})
    kind: Literal["builtin", "http", "mcp"] = "http"
    http: HttpToolConfig | None = None
    mcp: McpServerConfig | None = None
    #: A person must approve each call first: it runs only in an asynchronous run, after
    #: ``POST /v1/runs/{id}/approve`` (see ``tools/executor.py``). Builtins never do.
    requires_approval: bool = False

    @model_validator(mode="before")
    @classmethod
    def _secret_of_the_server(cls, value: Any) -> Any:
        # An MCP registration may name its secret beside "mcp" (the shape MCP clients use);
        # it is kept in the "mcp" section, like an http tool's.
        if isinstance(value, dict) and value.get("kind") == "mcp" and "auth_secret_id" in value:
            value = dict(value)
            secret = value.pop("auth_secret_id")
            if isinstance(value.get("mcp"), dict):
                value["mcp"] = {"auth_secret_id": secret, **value["mcp"]}
        return value

    @field_validator("parameters")
    @classmethod
    def _object_schema(cls, value: dict[str, Any]) -> dict[str, Any]:
        # The full JSON Schema check needs jsonschema: registration runs it, listing does not.
        check_object_root(value)
        return value

    @model_validator(mode="after")
    def _kind_matches_config(self) -> ToolDefinition:
        if self.kind == "http" and self.http is None:
            raise ValueError("an http tool needs an 'http' section (url, method, ...)")
        if self.kind == "mcp" and self.mcp is None:
            raise ValueError("an mcp server needs an 'mcp' section (url, ...)")
        if self.kind != "http" and self.http is not None:
            raise ValueError(f"a {self.kind} tool takes no 'http' section")
        if self.kind != "mcp" and self.mcp is not None:
            raise ValueError(f"a {self.kind} tool takes no 'mcp' section")
        if self.is_mcp_server and MCP_SEPARATOR in self.name:
            raise ValueError(f"an mcp server's name may not contain '{MCP_SEPARATOR}'")
        return self

    @property
    def is_mcp_server(self) -> bool:
        """A registered MCP server (its tools are listed from it, it is never called itself)."""
        return self.kind == "mcp" and self.mcp is not None and self.mcp.tool is None

    @property
    def secret_id(self) -> str | None:
        section = self.http or self.mcp
        return section.auth_secret_id if section else None

    def to_spec(self) -> ToolSpec:
        return ToolSpec(name=self.name, description=self.description, parameters=self.parameters)


@dataclass(frozen=True)
class ToolContext:
    """What a running tool may use: the settings and the monotonic deadline it must finish by."""

    settings: Settings
    deadline: float

    def remaining(self) -> float:
        return max(0.0, self.deadline - time.monotonic())
