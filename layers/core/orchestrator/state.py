"""The state contract: the one payload that moves between the state machine's states.

Every node returns the state it received plus its own contribution, so a run's execution
history reads as a trace. Anything that can grow without bound (history, documents, tool
output) is capped here or stored in DynamoDB and referenced, because Step Functions caps a
payload at 256 KiB.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

NodeName = Literal["llm_agent", "tool_executor", "grounding", "external_agent"]
IntentMethod = Literal["embedding", "embedding-unsupported-language", "llm", "default", "cache", "client"]

#: Tenant of runs that name none (EventBridge events from before tenants, auth off).
DEFAULT_TENANT = "default"

#: Output of one node or tool kept inline in the state; longer output is truncated with a marker.
MAX_INLINE_OUTPUT_CHARS = 8_000


def _cache_hit(value: Any) -> Any:
    # ``true`` predates semantic caching (a node of the previous deploy, an older run record).
    return "exact" if value is True else value


#: How a turn was answered from the cache: it wasn't (``false``), same prompt, or a paraphrase.
Cached = Annotated[Literal[False, "exact", "semantic"], BeforeValidator(_cache_hit)]


def new_run_id() -> str:
    return uuid.uuid4().hex


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class _Model(BaseModel):
    # Extra keys are ignored so an older node never fails on a newer state (rolling deploys).
    model_config = ConfigDict(extra="ignore")


class Intent(_Model):
    name: str
    confidence: float = Field(ge=0.0, le=1.0)
    method: IntentMethod
    #: Runner-up routes with their scores, for debugging misroutes.
    alternatives: dict[str, float] = Field(default_factory=dict)
    #: The external agent that answers (intent ``external_agent``); None: the default agent.
    agent: str | None = None


class PlanStep(_Model):
    id: str = Field(min_length=1, max_length=64)
    description: str = Field(min_length=1, max_length=2_000)
    node: NodeName
    inputs: dict[str, Any] = Field(default_factory=dict)
    depends_on: list[str] = Field(default_factory=list)


class Passage(_Model):
    """A retrieved piece of text with the id of the document it came from (for citations).

    ``source_id`` (``<doc_id>#<chunk_id>``, or the data source's id) is what the model cites in
    brackets; ``doc_id``, ``chunk_id`` and ``snippet`` are what a reader is shown.
    """

    source_id: str
    text: str
    score: float = 0.0
    title: str | None = None
    doc_id: str | None = None
    chunk_id: int | None = None
    #: A short extract of ``text`` (the sentences nearest the question), for display.
    snippet: str | None = None

    def citation(self) -> Citation:
        return Citation(
            doc_id=self.doc_id or self.source_id,
            title=self.title,
            chunk_id=self.chunk_id,
            score=self.score,
            snippet=self.snippet or clip(self.text, CITATION_SNIPPET_CHARS),
        )


#: Length of a citation's snippet when the retriever did not pick one.
CITATION_SNIPPET_CHARS = 300


class Citation(_Model):
    """A passage that supports an answer, as a client shows it."""

    doc_id: str
    title: str | None = None
    chunk_id: int | None = None
    score: float = 0.0
    snippet: str = ""

    @model_validator(mode="before")
    @classmethod
    def _from_source_id(cls, value: Any) -> Any:
        # States and cache entries written before citations were objects hold "doc#3" strings.
        if isinstance(value, str):
            doc_id, _, chunk = value.rpartition("#")
            return {"doc_id": doc_id or value, "chunk_id": int(chunk) if chunk.isdigit() and doc_id else None}
        return value


class ToolCall(_Model):
    id: str
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)


#: Spans a run's trace keeps; beyond it the oldest go (the failure and the answer are last).
MAX_TRACE_SPANS = 64
#: Length of a span's one-line input and output summaries.
SPAN_SUMMARY_CHARS = 400


class SpanError(_Model):
    code: str
    message: str


class Span(_Model):
    """One node action of a run: when it started, how long it took, what it decided.

    ``input`` and ``output`` are clipped one-line summaries (never whole documents, never
    settings); ``decision`` is what the action chose and why (intent, plan source, tools).
    """

    node: str
    action: str
    #: The template's logical id of the Lambda that ran it (``IntentRouterFunction``).
    function: str | None = None
    step_id: str | None = None
    started_at: str
    duration_ms: float = 0.0
    #: Client-level retries (tenacity) plus Step Functions' own (``$$.State.RetryCount``).
    retries: int = Field(default=0, ge=0)
    error: SpanError | None = None
    input: str = Field(default="", max_length=SPAN_SUMMARY_CHARS)
    output: str = Field(default="", max_length=SPAN_SUMMARY_CHARS)
    decision: dict[str, Any] | None = None


class ToolResult(_Model):
    call_id: str
    name: str
    ok: bool
    output: Any = None
    error: str | None = None
    latency_ms: float = 0.0
    #: This call's span (a Map iteration cannot touch the state); folded into ``trace`` later.
    span: Span | None = None


class NodeUsage(_Model):
    latency_ms: float = 0.0
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0
    model: str | None = None
    provider: str | None = None


class NodeResult(_Model):
    """What one node (or one plan step) produced."""

    node: str
    step_id: str | None = None
    ok: bool = True
    output: str = ""
    data: dict[str, Any] = Field(default_factory=dict)
    error: str | None = None
    usage: NodeUsage | None = None
    #: This step's span, folded into the state's ``trace`` when the wave's results are.
    span: Span | None = None


PlanSource = Literal["model", "rule-based"]


class PlanInfo(_Model):
    """Where a plan came from, and why a model's plan was not used."""

    source: PlanSource
    steps: int = 0
    #: Why the model's plan was rejected (it was replaced by the rule-based one); None: it wasn't.
    rejected: str | None = None


class Response(_Model):
    text: str
    citations: list[Citation] = Field(default_factory=list)
    provider: str | None = None
    model: str | None = None
    #: False when the answer is empty or the model was cut off: shown, but never cached.
    complete: bool = True
    #: The last model call's finish reason (``stop``, ``length``, ``tool_calls``…), when known.
    finish_reason: str | None = None
    #: Calls to tools the client supplied (``ClientTurn.tools``): returned to it, never run here.
    client_tool_calls: list[ToolCall] = Field(default_factory=list)


class ClientMessage(_Model):
    """One message of a conversation the client keeps itself (OpenAI ``messages``)."""

    role: Literal["user", "assistant", "tool"]
    content: str = ""
    tool_call_id: str | None = None
    tool_calls: list[ToolCall] = Field(default_factory=list)


class ClientTool(_Model):
    """A function tool the client offers (OpenAI ``tools``): the model may call it, the client runs it."""

    name: str
    description: str = ""
    parameters: dict[str, Any] = Field(default_factory=lambda: {"type": "object", "properties": {}})


class ClientTurn(_Model):
    """What a client that keeps its own conversation sent besides the prompt (the OpenAI surface).

    With ``history`` set, the agent reads the conversation from here instead of memory: the
    client is the source of truth, and memory only records the turn.
    """

    #: The client's system prompt: added after the orchestrator's own rules.
    system: str | None = None
    #: Earlier turns, oldest first; None: read memory as usual.
    history: list[ClientMessage] | None = None
    #: Messages after the prompt (an assistant's tool calls and the client's tool results).
    followups: list[ClientMessage] = Field(default_factory=list)
    tools: list[ClientTool] = Field(default_factory=list)
    #: OpenAI ``response_format`` (``json_object`` or ``json_schema``), passed to the model.
    response_format: dict[str, Any] | None = None
    max_tokens: int | None = Field(default=None, gt=0)
    temperature: float | None = Field(default=None, ge=0, le=2)
    #: A route the client chose (``orchestrator/<route>`` models): classification is skipped.
    route: str | None = None
    #: One model call, nothing else: no orchestrator tools (passthrough models, UI background tasks).
    direct: bool = False
    #: A chat UI's background task (title, tags): not remembered, not cached.
    background: bool = False

    def fingerprint(self) -> str:
        """A digest of everything besides the prompt that shapes the answer (the cache key's part)."""
        shaping = self.model_dump(
            mode="json",
            include={"system", "history", "followups", "tools", "response_format", "route", "direct"},
        )
        return hashlib.sha256(json.dumps(shaping, sort_keys=True).encode()).hexdigest()[:32]


class ErrorInfo(_Model):
    node: str
    code: str
    message: str
    error_type: str | None = None


ApprovalStatus = Literal["none", "required", "approved", "rejected", "timed_out"]


class Approval(_Model):
    """The human approval a turn's tool calls need (tools marked ``requires_approval``).

    ``none``: nothing to approve. ``required``: the selected calls include ``calls``; a Standard
    run waits for a decision (``.waitForTaskToken``), a chat turn hands over to one. Then
    ``approved`` (the calls run), ``rejected`` or ``timed_out`` (none runs; the answer says why).
    Always present, so the state machine's Choice rules never read a missing path.
    """

    status: ApprovalStatus = "none"
    #: The calls that wait for a person: what ``GET /v1/runs/{id}`` shows.
    calls: list[ToolCall] = Field(default_factory=list)
    #: How long the run waits (``APPROVAL_TIMEOUT_S``); the wait state's ``TimeoutSecondsPath``.
    timeout_s: int = Field(default=0, ge=0)
    requested_at: str | None = None
    #: When the wait times out (ISO 8601); later decisions are refused.
    expires_at: str | None = None
    decided_by: str | None = None
    decided_at: str | None = None
    reason: str | None = None

    def covers(self, call: ToolCall) -> bool:
        """Whether a person approved exactly this call (same id, tool and arguments)."""
        return self.status == "approved" and any(
            c.id == call.id and c.name == call.name and c.arguments == call.arguments for c in self.calls
        )


class GraphState(_Model):
    run_id: str = Field(default_factory=new_run_id)
    #: Everything stored is keyed by tenant first, then user (see ``orchestrator.identity``).
    tenant_id: str = DEFAULT_TENANT
    user_id: str
    #: Runs started by EventBridge may not name a session: each then starts its own.
    session_id: str = Field(default_factory=new_run_id)
    prompt: str
    metadata: dict[str, Any] = Field(default_factory=dict)
    started_at: str = Field(default_factory=utc_now)
    intent: Intent | None = None
    #: The prompt's language (ISO 639-1) as the router identified it; None: not identified.
    language: str | None = Field(default=None, max_length=8)
    plan: list[PlanStep] = Field(default_factory=list)
    #: The plan's source (model or rule-based) and why a model plan was rejected.
    planning: PlanInfo | None = None
    #: Ids of the plan steps the state machine runs next (one dependency wave at a time).
    pending_steps: list[PlanStep] = Field(default_factory=list)
    tool_calls: list[ToolCall] = Field(default_factory=list)
    tool_results: list[ToolResult] = Field(default_factory=list)
    results: list[NodeResult] = Field(default_factory=list)
    context: list[Passage] = Field(default_factory=list)
    response: Response | None = None
    usage: dict[str, NodeUsage] = Field(default_factory=dict)
    errors: list[ErrorInfo] = Field(default_factory=list)
    cached: Cached = False
    #: Set by the API for ``POST /v1/runs`` (Standard workflow): the run may pause for approval.
    #: A chat turn (Express, at most 5 minutes, no task tokens) hands over to a Standard run instead.
    asynchronous: bool = False
    #: Whether anyone can watch the run's progress (a stream, ``/v1/runs/{id}/events``). The API
    #: clears it for a turn it answers in one response, whose run id nobody knows until then: its
    #: nodes then write no progress records (most of a plain chat's DynamoDB writes).
    watched: bool = True
    approval: Approval = Field(default_factory=Approval)
    #: Set by the OpenAI-compatible API: the client's own conversation, tools and options.
    client: ClientTurn | None = None
    #: One span per node action, oldest first, at most ``MAX_TRACE_SPANS``.
    trace: list[Span] = Field(default_factory=list)

    def add_spans(self, spans: list[Span]) -> None:
        """Append ``spans`` (ordered by start time), dropping the oldest beyond the cap."""
        if spans:
            merged = self.trace + sorted(spans, key=lambda span: span.started_at)
            self.trace = merged[-MAX_TRACE_SPANS:]

    def collect_spans(self) -> None:
        """Move the spans Map iterations left on tool and step results into ``trace``."""
        carried: list[Span] = []
        for result in self.tool_results:
            if result.span is not None:
                carried.append(result.span)
                result.span = None
        for step in self.results:
            if step.span is not None:
                carried.append(step.span)
                step.span = None
        self.add_spans(carried)

    def cache_prompt(self) -> str:
        """The response cache's key text: the prompt, plus the client's conversation when it sent one."""
        if self.client is None:
            return self.prompt
        return f"{self.prompt}\n\x00client:{self.client.fingerprint()}"

    def add_usage(self, key: str, usage: NodeUsage) -> None:
        """Record a node's usage; repeated keys (loops, steps) accumulate."""
        previous = self.usage.get(key)
        if previous is None:
            self.usage[key] = usage
            return
        self.usage[key] = NodeUsage(
            latency_ms=previous.latency_ms + usage.latency_ms,
            tokens_in=previous.tokens_in + usage.tokens_in,
            tokens_out=previous.tokens_out + usage.tokens_out,
            cost_usd=previous.cost_usd + usage.cost_usd,
            model=usage.model or previous.model,
            provider=usage.provider or previous.provider,
        )


class NodeEvent(_Model):
    """The envelope every node Lambda receives: which action, and the inputs it needs.

    Main-path actions carry the whole ``state``; a plan step carries ``step`` + ``state``;
    one tool call (inside the tool Map) carries ``call`` + ``run_id``.
    """

    action: str
    state: GraphState | None = None
    step: PlanStep | None = None
    call: ToolCall | None = None
    run_id: str | None = None
    #: The run's tenant, sent with a lone tool call so tenant-registered tools resolve.
    tenant_id: str = DEFAULT_TENANT
    #: ``$$.Execution.Name``: the run id of runs started outside the API (EventBridge).
    execution_name: str | None = None
    wave_results: list[NodeResult] = Field(default_factory=list)
    #: What a Catch put at ``$.failure``: ``{"Error": ..., "Cause": ...}``.
    failure: dict[str, Any] | None = None
    #: What the Catch assigned (ASL variables): the state that failed, its node and action. The
    #: plan wave's Catch names no node (``""``): each step runs on its own, named by the step.
    failed_state: str | None = Field(default=None, max_length=128)
    failed_node: str | None = Field(default=None, max_length=64)
    failed_action: str | None = Field(default=None, max_length=64)
    #: ``$$.Task.Token`` of the approval wait (``.waitForTaskToken``): the API sends the decision with it.
    task_token: str | None = None
    #: The run's approval, sent with a lone tool call: approval-gated tools run only if it covers the call.
    approval: Approval | None = None
    #: ``$$.State.RetryCount``: how often Step Functions retried this Task before this attempt.
    retry_count: int = Field(default=0, ge=0)
    #: The run's ``watched``, sent with a lone tool call (which carries no state).
    watched: bool = True


def clip(text: str, limit: int) -> str:
    """``text`` on one line, cut at a word boundary to at most ``limit`` characters."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[: limit - 1]
    return (cut.rsplit(" ", 1)[0] if " " in cut else cut) + "…"


def truncate(text: str, limit: int = MAX_INLINE_OUTPUT_CHARS) -> str:
    if len(text) <= limit:
        return text
    return text[:limit] + f"… [truncated {len(text) - limit} chars]"
