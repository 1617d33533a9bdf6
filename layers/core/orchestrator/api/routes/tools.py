"""The tool registry: list, register, replace and delete (admins), and run one tool directly."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, ConfigDict, Field

from orchestrator.api.auth import PrincipalDep
from orchestrator.api.deps import ContainerDep, SettingsDep
from orchestrator.api.schemas import ErrorBody
from orchestrator.container import Container
from orchestrator.errors import ForbiddenError, OrchestratorError, ToolNotFoundError
from orchestrator.identity import Principal
from orchestrator.state import ToolCall, ToolResult
from orchestrator.tools.models import ToolDefinition
from orchestrator.tools.registry import ToolRegistry

router = APIRouter(prefix="/v1/tools", tags=["tools"])


class ToolList(BaseModel):
    tools: list[ToolDefinition]


class ExecuteRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    arguments: dict[str, Any] = Field(default_factory=dict)


def _registry(container: Container, principal: Principal) -> ToolRegistry:
    return container.tools.for_tenant(principal.tenant_id)


def _admin(principal: Principal, action: str) -> None:
    if not principal.is_admin:
        raise ForbiddenError(f"{action} a tool needs the admin role")


@router.get("/list", response_model=ToolList)
def list_tools(principal: PrincipalDep, container: ContainerDep) -> ToolList:
    """Every tool the caller's agents may call: built-ins, configured ones and the tenant's own."""
    return ToolList(tools=_registry(container, principal).list())


@router.post(
    "/register",
    response_model=ToolDefinition,
    status_code=status.HTTP_201_CREATED,
    responses={403: {"model": ErrorBody}, 409: {"model": ErrorBody}, 422: {"model": ErrorBody}},
)
def register_tool(
    definition: ToolDefinition,
    principal: PrincipalDep,
    container: ContainerDep,
    replace: Annotated[bool, Query(description="Replace the tenant's tool of the same name.")] = False,
) -> ToolDefinition:
    """Register an HTTP tool or an MCP server for the tenant (admins); 409 if taken, unless ``replace``."""
    _admin(principal, "Registering")
    return _registry(container, principal).register(definition, replace=replace)


@router.delete(
    "/{name}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={403: {"model": ErrorBody}, 404: {"model": ErrorBody}, 409: {"model": ErrorBody}},
)
def delete_tool(name: str, principal: PrincipalDep, container: ContainerDep) -> None:
    """Delete one of the tenant's registered tools (admins); built-in and configured tools stay."""
    _admin(principal, "Deleting")
    _registry(container, principal).delete(name)


@router.post("/{name}/execute", response_model=ToolResult, responses={404: {"model": ErrorBody}})
def execute_tool(
    name: str, body: ExecuteRequest, settings: SettingsDep, principal: PrincipalDep, container: ContainerDep
) -> ToolResult:
    """Run one tool with the given arguments; tool failures come back as ``ok: false``.

    A tool that needs a person's approval runs here for admins only (they are the approvers);
    anyone else gets ``approval_required`` and asks for it in a run.
    """
    from orchestrator.tools.executor import execute_tool_call

    registry = _registry(container, principal)
    try:
        registry.get(name)  # an unknown tool is a 404 here, not a failed result
    except ToolNotFoundError:
        raise
    except OrchestratorError:
        pass  # e.g. its MCP server is down: the executor reports that as the call's result
    call = ToolCall(id="api", name=name, arguments=body.arguments)
    return execute_tool_call(call, registry, settings, approved=principal.is_admin)
