"""API information and health (configuration status without secrets)."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request, Response

from orchestrator import __version__
from orchestrator.api.deps import ContainerDep, SettingsDep
from orchestrator.api.schemas import ApiInfo, HealthReport
from orchestrator.config import Settings
from orchestrator.container import Container
from orchestrator.monitoring.health import overall, recent_failures

router = APIRouter(tags=["meta"])
#: Health stays open when auth is on: load balancers and uptime checks carry no key.
public_router = APIRouter(tags=["meta"])


@router.get("/", response_model=ApiInfo)
def root(request: Request) -> ApiInfo:
    """What this API is and where its endpoints are."""
    # The OpenAPI document is the one list of routes FastAPI keeps for included routers too.
    schema = request.app.openapi()
    paths = sorted(f"{method.upper()} {path}" for path, ops in schema["paths"].items() for method in ops)
    return ApiInfo(name="serverless-agent-orchestrator", version=__version__, endpoints=paths)


def _check_table(name: str, region: str) -> str:
    from orchestrator.aws.dynamodb import table

    try:
        table(name, region).load()
        return "ok"
    except Exception as exc:  # health must report, never fail
        return f"unreachable ({type(exc).__name__})"


def _check_external_agent(container: Container) -> str:
    client = container.external_agent
    if client is None:
        return "not configured"
    return "ok" if client.health().ok else "unreachable"


def _code_sandbox(settings: Settings) -> str:
    from orchestrator.tools.sandbox import sandbox_status

    try:
        return sandbox_status(settings)
    except Exception as exc:  # health must report, never fail
        return f"unavailable ({type(exc).__name__})"


def _degraded(backends: dict[str, str], settings: Settings, container: Container) -> dict[str, str]:
    degraded = {}
    if backends["external_agent"] == "unreachable":
        degraded["external_agent"] = "unreachable (health probe)"
    if backends["dynamodb"] == "ok":
        try:
            failures = container.run_store.dependency_failures()
        except Exception as exc:  # health must report, never fail
            return {**degraded, "runs_table": f"unreadable ({type(exc).__name__})"}
        now = datetime.now(UTC)
        degraded.update(recent_failures(failures, now=now, window_s=settings.health_failure_window_s))
    return degraded


@public_router.get("/health", response_model=HealthReport, responses={503: {"model": HealthReport}})
def health(settings: SettingsDep, container: ContainerDep, response: Response) -> HealthReport:
    """Status (ok, degraded, down), provider, model and which backends are reachable (no secrets)."""
    backends = {
        "state_machine": "configured" if settings.chat_state_machine_arn else "not configured",
        "dynamodb": _check_table(settings.conversations_table, settings.aws_region),
        "external_agent": _check_external_agent(container),
        "code_sandbox": _code_sandbox(settings),
    }
    degraded = _degraded(backends, settings, container)
    status = overall(backends, degraded)
    if status == "down":
        response.status_code = 503
    return HealthReport(
        status=status,
        degraded=degraded,
        environment=settings.environment,
        provider=settings.llm_provider,
        model=settings.llm_default_model,
        embedding_provider=settings.embedding_provider,
        external_agent_configured=bool(settings.external_agent_base_url),
        datasource_configured=bool(settings.datasource_base_url),
        backends=backends,
        auth="on" if settings.auth_enabled else "off",
    )
