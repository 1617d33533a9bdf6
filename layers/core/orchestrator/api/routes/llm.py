"""The configured model provider: its models and a connection check."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from orchestrator.api.deps import ContainerDep, SettingsDep
from orchestrator.api.schemas import ErrorBody
from orchestrator.clients.llm import ConnectionReport, ModelInfo, test_connection
from orchestrator.clients.llm.allowlist import chosen_model
from orchestrator.errors import OrchestratorError

router = APIRouter(prefix="/v1/llm", tags=["llm"])


class ModelList(BaseModel):
    provider: str
    default_model: str
    models: list[ModelInfo]


class TestConnectionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str | None = Field(default=None, max_length=200)
    prompt: str | None = Field(default=None, min_length=1, max_length=500)


@router.get(
    "/models", response_model=ModelList, responses={502: {"model": ErrorBody}, 503: {"model": ErrorBody}}
)
def list_models(settings: SettingsDep, container: ContainerDep) -> ModelList:
    """Models the configured provider offers."""
    client = container.llm
    return ModelList(
        provider=client.provider, default_model=settings.llm_default_model, models=client.list_models()
    )


@router.post("/test-connection", response_model=ConnectionReport)
def check_connection(
    settings: SettingsDep, container: ContainerDep, body: TestConnectionRequest | None = None
) -> ConnectionReport:
    """Reachability, latency and the model's reply to a tiny prompt — or why it failed."""
    body = body or TestConnectionRequest()
    if body.model is not None:
        # The same allowlist as metadata.model: a connection test is still a billed model call.
        chosen_model({"model": body.model}, settings)
    try:
        client = container.llm
    except OrchestratorError as exc:
        # A misconfiguration is the answer this endpoint exists to give, not a server error.
        return ConnectionReport(
            ok=False, provider=settings.llm_provider, latency_ms=0.0, error_code=exc.code, error=exc.message
        )
    kwargs: dict[str, Any] = {"model": body.model}
    if body.prompt:
        kwargs["prompt"] = body.prompt
    return test_connection(client, **kwargs)
