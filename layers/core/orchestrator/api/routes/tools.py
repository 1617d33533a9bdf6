"""The tool registry: list, register (HTTP tools) and run one tool directly."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict, Field

from orchestrator import services
from orchestrator.api.deps import SettingsDep
from orchestrator.api.schemas import ErrorBody
from orchestrator.state import ToolCall, ToolResult
from orchestrator.tools.models import ToolDefinition

router = APIRouter(prefix="/v1/tools", tags=["tools"])


class ToolList(BaseModel):
    tools: list[ToolDefinition]


class ExecuteRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    arguments: dict[str, Any] = Field(default_factory=dict)


@router.get("/list", response_model=ToolList)
def list_tools() -> ToolList:
    """Every tool the agents may call: built-ins, configured and registered ones."""
    return ToolList(tools=services.tool_registry().list())


@router.post(
    "/register",
    response_model=ToolDefinition,
    status_code=status.HTTP_201_CREATED,
    responses={422: {"model": ErrorBody}, 503: {"model": ErrorBody}},
)
def register_tool(definition: ToolDefinition) -> ToolDefinition:
    """Register an HTTP tool (stored in DynamoDB); built-in names cannot be replaced."""
    return services.tool_registry().register(definition)


@router.post("/{name}/execute", response_model=ToolResult, responses={404: {"model": ErrorBody}})
def execute_tool(name: str, body: ExecuteRequest, settings: SettingsDep) -> ToolResult:
    """Run one tool with the given arguments; tool failures come back as ``ok: false``."""
    from orchestrator.tools.executor import execute_tool_call

    registry = services.tool_registry()
    registry.get(name)  # an unknown tool is a 404 here, not a failed result
    return execute_tool_call(ToolCall(id="api", name=name, arguments=body.arguments), registry, settings)
