"""Request and response bodies of the API."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from orchestrator.state import (
    Approval,
    Cached,
    Citation,
    Intent,
    NodeResult,
    NodeUsage,
    PlanInfo,
    PlanStep,
    ToolCall,
    ToolResult,
)

#: Ids appear in DynamoDB keys and log lines: a conservative alphabet keeps both clean.
ID_PATTERN = r"^[A-Za-z0-9_.:@\-]+$"


class ErrorDetail(BaseModel):
    """What went wrong: a machine-readable code and a message for people."""

    code: str
    message: str
    run_id: str | None = None
    details: Any = None
    #: OpenAI-compatible paths only: the error type and the offending parameter, as OpenAI's SDKs read them.
    type: str | None = None
    param: str | None = None


class ErrorBody(BaseModel):
    """Every error response: ``{"error": {...}}``, with the run id on top when a run had started."""

    error: ErrorDetail
    run_id: str | None = None


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    prompt: str = Field(description="The user's message.")
    user_id: str = Field(min_length=1, max_length=128, pattern=ID_PATTERN)
    session_id: str | None = Field(default=None, min_length=1, max_length=128, pattern=ID_PATTERN)
    metadata: dict[str, Any] = Field(default_factory=dict)
    stream: bool = Field(
        default=False,
        description="Answer with server-sent events as the graph runs (as does Accept: text/event-stream).",
    )


class StepOutcome(BaseModel):
    step: PlanStep
    result: NodeResult | None = None


class ChatResponse(BaseModel):
    run_id: str
    session_id: str
    response: str
    #: The passages that support the answer: document, chunk, score and the supporting extract.
    citations: list[Citation] = Field(default_factory=list)
    intent: Intent | None = None
    plan: list[StepOutcome] | None = None
    #: Where the plan came from (``model`` / ``rule-based``) and why a model plan was rejected.
    planning: PlanInfo | None = None
    tool_calls: list[ToolCall] = Field(default_factory=list)
    tool_results: list[ToolResult] = Field(default_factory=list)
    usage: dict[str, NodeUsage] = Field(default_factory=dict)
    cached: Cached = False
    provider: str | None = None
    model: str | None = None
    #: ``waiting_for_approval``: a tool the turn chose needs a person's approval; the turn goes
    #: on as the asynchronous run ``run_id`` (follow ``status_url``), and ``approval`` says what waits.
    status: Literal["completed", "waiting_for_approval"] = "completed"
    status_url: str | None = None
    approval: Approval | None = None


class RunAccepted(BaseModel):
    run_id: str
    session_id: str
    #: ``RUNNING`` when this request started the run; ``EXISTING`` when its idempotency key had.
    status: str = "RUNNING"
    status_url: str


class ApprovalDecisionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str | None = Field(default=None, max_length=1_000, description="Why; shown in the run's answer.")


class ApprovalDecided(BaseModel):
    run_id: str
    #: ``RUNNING`` after an approval (the calls run now), ``REJECTED`` after a rejection.
    status: Literal["RUNNING", "REJECTED"]
    approval: Approval
    status_url: str


class ApiInfo(BaseModel):
    name: str
    version: str
    docs: str = "/docs"
    openapi: str = "/openapi.json"
    endpoints: list[str]


class HealthReport(BaseModel):
    #: ``down``: DynamoDB unreachable or no workflow configured (HTTP 503); ``degraded``: see below.
    status: Literal["ok", "degraded", "down"]
    #: Dependencies that failed runs recently or did not answer their probe, and how.
    degraded: dict[str, str] = Field(default_factory=dict)
    environment: str
    provider: str
    model: str
    embedding_provider: str
    external_agent_configured: bool
    datasource_configured: bool
    backends: dict[str, str]
    #: Whether callers must authenticate; which keys exist is never shown.
    auth: str


class RunSummary(BaseModel):
    """One row of ``GET /v1/runs``: what a runs list shows (the record has the rest)."""

    run_id: str
    status: str
    user_id: str
    session_id: str
    intent: str | None = None
    started_at: str
    finished_at: str | None = None
    latency_ms: float | None = None
    cost_usd: float = 0.0
    cached: Cached = False
    #: The last error's code and message, when the run failed.
    error: str | None = None


class RunList(BaseModel):
    runs: list[RunSummary] = Field(default_factory=list)
    #: More runs matched (or were left unread) in the window than are listed.
    truncated: bool = False
