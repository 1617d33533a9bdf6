"""Settings: environment and `.env` first, then SSM Parameter Store, then documented defaults.

On AWS the template points ``SETTINGS_SSM_PATH`` at a parameter path; every parameter under it
(``/orchestrator/dev/llm_provider`` → ``llm_provider``) becomes a setting. Secrets are never
settings values on AWS: ``LLM_API_KEY_SECRET_ID`` names a Secrets Manager secret read on first
use (see :mod:`orchestrator.secrets`). Locally the same SSM path exists in moto, created from
``template.yaml``, so the same code path runs.
"""

from __future__ import annotations

import json
import os
from functools import lru_cache
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, ValidationInfo, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)


class SsmSettingsSource(PydanticBaseSettingsSource):
    """Reads every parameter under ``SETTINGS_SSM_PATH`` once per container (Powertools caches)."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        raise NotImplementedError  # __call__ is overridden; pydantic-settings requires the method

    def __call__(self) -> dict[str, Any]:
        path = os.environ.get("SETTINGS_SSM_PATH", "").strip()
        if not path:
            return {}
        from aws_lambda_powertools.utilities import parameters

        values = parameters.get_parameters(path, max_age=300, recursive=False)
        fields = self.settings_cls.model_fields
        return {name.lower(): value for name, value in values.items() if name.lower() in fields}


class Settings(BaseSettings):
    """Every number and address a user may want to change, with its default."""

    model_config = SettingsConfigDict(
        env_file=".env", extra="ignore", env_file_encoding="utf-8", env_ignore_empty=True
    )

    environment: str = "local"
    aws_region: str = Field(default="us-east-1", alias="AWS_REGION")
    log_level: str = "INFO"

    # Identity and tenants (AUTH_ENABLED is off for `make run`, on in the deployed template)
    auth_enabled: bool = False
    #: ``KEY``, ``KEY:TENANT`` or ``KEY:TENANT:ROLE`` entries, comma-separated (local use).
    api_keys: SecretStr | None = None
    #: Secrets Manager secret holding the keys (same format, or JSON ``[{"key","tenant","role"}]``).
    api_keys_secret_id: str | None = None
    default_tenant: str = "default"
    #: JWT claims (set by the HTTP API's JWT authorizer) naming the tenant, the user and the role.
    jwt_tenant_claim: str = "custom:tenant_id"
    jwt_user_claim: str = "sub"
    jwt_role_claim: str = "custom:role"

    # Model provider
    llm_provider: Literal["offline", "openai", "bedrock"] = "offline"
    llm_base_url: str | None = None
    llm_api_key: SecretStr | None = None
    llm_api_key_secret_id: str | None = None
    llm_default_model: str = "offline-stand-in"
    llm_fallback_model: str | None = None
    llm_connect_timeout_s: float = Field(default=3.0, gt=0)
    #: One attempt's read timeout. Node Lambdas time out at 30 s, so one slow attempt (20 s)
    #: leaves room to answer with ``model_unavailable``; a node's deadline shortens it further.
    llm_read_timeout_s: float = Field(default=20.0, gt=0)
    llm_max_retries: int = Field(default=3, ge=0, le=10)
    #: One model call, every attempt, wait and the fallback model included, ends within this:
    #: 25 s fits the 30 s node Lambda with a margin to report the error. The node's deadline
    #: (the invocation's remaining time minus a margin) shortens it when that is sooner.
    llm_retry_budget_s: float = Field(default=25.0, gt=0)
    #: Exponential backoff with full jitter: the n-th wait is uniform in [0, min(max, base * 2**n)].
    llm_backoff_base_s: float = Field(default=0.5, gt=0)
    llm_backoff_max_s: float = Field(default=8.0, gt=0)
    #: A server's Retry-After is honoured up to this many seconds.
    llm_retry_after_max_s: float = Field(default=20.0, gt=0)
    llm_max_tokens: int = Field(default=1024, gt=0)
    llm_temperature: float = Field(default=0.2, ge=0, le=2)
    llm_max_tool_rounds: int = Field(default=4, ge=0, le=20)
    llm_history_token_budget: int = Field(default=2000, ge=0)
    #: The model's context window in tokens: bounds what the OpenAI-compatible route accepts
    #: (a conversation of up to this minus the answer's tokens, at about four characters a token).
    llm_context_tokens: int = Field(default=8192, gt=0)
    #: The most a caller may ask for with ``max_tokens`` (OpenAI-compatible route).
    llm_max_output_tokens: int = Field(default=4096, gt=0)
    #: JSON object: model id → {"input_per_1k": USD, "output_per_1k": USD}.
    llm_price_table: dict[str, dict[str, float]] = Field(default_factory=dict)

    # Embeddings (routing, retrieval, semantic cache)
    embedding_provider: Literal["embedded", "openai", "bedrock"] = "embedded"
    embedding_model: str = "l2_supercat_256"
    #: Vector size asked of remote embedding models that support it (OpenAI v3, Titan v2).
    embedding_dimensions: int | None = Field(default=None, gt=0)

    # Routing and planning
    routes_config_path: str | None = None
    #: SSM parameter holding the routes JSON; used when ROUTES_CONFIG_PATH is not set.
    routes_ssm_parameter: str | None = None
    router_llm_threshold: float = Field(default=0.45, ge=0, le=1)
    #: Ceiling on the embedded router's confidence for a prompt in a language its routes have no
    #: examples in (``languages`` in routes.json): below every threshold, so a real model decides.
    router_unsupported_language_confidence: float = Field(default=0.3, ge=0, lt=0.35)
    planner_max_steps: int = Field(default=6, ge=2, le=20)

    # API limits
    max_prompt_chars: int = Field(default=8000, gt=0)
    max_metadata_bytes: int = Field(default=4096, gt=0)
    #: Hard cap on the text of one OpenAI-compatible request's messages (UTF-8 bytes), whatever
    #: the context window: the run's state must stay under Step Functions' 256 KiB payload.
    openai_max_messages_bytes: int = Field(default=160_000, gt=0)
    #: ``max_tokens`` of the one short model call answering a chat UI's background task (titles, tags).
    openai_task_max_tokens: int = Field(default=200, gt=0)
    #: Containers nested in a JSON body; DynamoDB stores 32 levels and a run record adds a few.
    max_json_depth: int = Field(default=20, ge=2, le=32)
    #: Models a caller may pick with ``metadata.model`` (CSV or JSON), besides the default and the
    #: fallback model, which are always allowed. Empty: only those two.
    llm_allowed_models: Annotated[list[str], NoDecode] = Field(default_factory=list)
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)

    # Workflow
    chat_state_machine_arn: str | None = None
    runs_state_machine_arn: str | None = None
    workflow_timeout_s: float = Field(default=120.0, gt=0)
    #: A node's remote calls must end this long before its Lambda times out, so a slow dependency
    #: becomes the node's typed error (and the Catch path) instead of a Lambda timeout.
    node_deadline_margin_s: float = Field(default=2.0, ge=0)
    #: The time budget of a node invoked without a Lambda context (scripts, tests).
    node_default_budget_s: float = Field(default=25.0, gt=0)
    #: How long an asynchronous run waits for a person to approve a tool marked
    #: ``requires_approval`` (the wait state's timeout); then the calls are rejected. A day by
    #: default; Standard workflows may wait up to a year.
    approval_timeout_s: int = Field(default=86_400, ge=1, le=31_536_000)

    # DynamoDB tables
    conversations_table: str = "orchestrator-conversations"
    cache_table: str = "orchestrator-cache"
    runs_table: str = "orchestrator-runs"
    tools_table: str = "orchestrator-tools"
    documents_table: str = "orchestrator-documents"
    #: Progress records of runs (what POST /v1/chat streams); empty turns them off.
    run_events_table: str = "orchestrator-run-events"
    #: How long progress records are kept: only a watching client reads them.
    run_events_ttl_s: int = Field(default=900, ge=60)
    #: Answer tokens are written in batches: at most this often, or once this many characters wait.
    run_events_flush_ms: float = Field(default=50.0, ge=0)
    run_events_flush_chars: int = Field(default=200, ge=1)
    #: A streaming chat reads the run's progress records this often.
    stream_poll_ms: float = Field(default=75.0, ge=10)
    #: A keep-alive comment goes out after this many seconds without an event.
    stream_ping_s: float = Field(default=15.0, gt=0)
    #: GET /v1/monitoring/metrics reads at most this many of a tenant's newest runs in its window
    #: (the response says when the window held more).
    monitoring_max_runs: int = Field(default=2000, ge=1, le=50_000)
    #: /health says ``degraded`` while a dependency (model, external agent…) failed a run this recently.
    health_failure_window_s: int = Field(default=300, ge=1)
    #: EventBridge bus of the ``orchestrator.run.completed`` event put when a run ends; empty: none.
    run_completed_event_bus: str = "default"
    cache_ttl_s: int = Field(default=3600, ge=0)
    #: Also answer a prompt from the same user's cached answer on the same route to a paraphrase.
    semantic_cache_enabled: bool = False
    #: Cosine similarity a paraphrase must reach (numbers and negations must also match). With the
    #: embedded model, 0.86 hits 13 of 24 paraphrase pairs and none of 30 near misses (tests).
    semantic_cache_threshold: float = Field(default=0.86, ge=-1, le=1)
    #: Semantic entries kept per user (the oldest go): bounds the Query behind each lookup.
    semantic_cache_max_entries: int = Field(default=100, ge=1, le=1_000)
    history_max_turns: int = Field(default=10, ge=0)

    # External agent, data source, vector DB
    external_agent_base_url: str | None = None
    external_agent_auth_token: SecretStr | None = None
    external_agent_token_secret_id: str | None = None
    #: One attempt's read timeout: 20 s, so a hanging agent leaves time for a retry or an answer
    #: within the 30 s node Lambda (each attempt is also capped by what is left of the budget).
    external_agent_timeout_s: float = Field(default=20.0, gt=0)
    external_agent_max_retries: int = Field(default=2, ge=0, le=10)
    #: One agent call, retries included, ends within this; kept under the node Lambda's 30 s timeout.
    external_agent_retry_budget_s: float = Field(default=25.0, gt=0)
    #: ``http``: our ``POST {base}/invoke`` contract; ``a2a``: the A2A protocol (agent card, message/send).
    external_agent_protocol: Literal["http", "a2a"] = "http"
    #: How long an A2A agent's card is cached before it is read again.
    external_agent_card_ttl_s: float = Field(default=300.0, ge=0)
    #: JSON file of further external agents (name, description, examples, url, protocol, secret).
    external_agents_config_path: str | None = None
    #: SSM parameter holding the same JSON; used when EXTERNAL_AGENTS_CONFIG_PATH is not set.
    external_agents_ssm_parameter: str | None = None
    datasource_base_url: str | None = None
    datasource_auth_token: SecretStr | None = None
    datasource_timeout_s: float = Field(default=5.0, gt=0)
    datasource_max_retries: int = Field(default=2, ge=0, le=10)
    datasource_retry_budget_s: float = Field(default=12.0, gt=0)
    #: First backoff wait of the agent and data source clients (full jitter, doubling).
    http_backoff_base_s: float = Field(default=0.2, gt=0)
    grounding_top_k: int = Field(default=4, ge=1, le=50)
    #: Cosine similarity below which a stored chunk is not returned. With the embedded model and
    #: 500-character chunks, unrelated questions score under 0.12 and answering chunks over 0.22.
    grounding_min_score: float = Field(default=0.15, ge=-1, le=1)
    #: BM25 score at which a chunk is returned even below GROUNDING_MIN_SCORE (an exact rare
    #: term or name the static embedding misses); a single common word scores below it.
    grounding_min_lexical_score: float = Field(default=2.0, ge=0)
    #: (tenant, user) indexes a warm grounding Lambda keeps in memory (least recently used go).
    grounding_index_cache_entries: int = Field(default=32, ge=1)
    #: Longest passage kept in the state (Step Functions caps a payload at 256 KiB).
    grounding_passage_max_chars: int = Field(default=2_000, ge=100)
    #: Where the dense half of the retrieval index lives: ``dynamodb`` (the documents table's index
    #: segments, ranked in the warm Lambda) or ``s3vectors`` (Amazon S3 Vectors). BM25 terms stay in
    #: the table either way. This is the external vector store the seed's ``VECTOR_DB_URL`` named.
    vector_store: Literal["dynamodb", "s3vectors"] = "dynamodb"
    #: S3 Vectors bucket and index (``float32``, ``cosine``, the embedder's dimension): set by the
    #: template when its ``VectorStore`` parameter is ``s3vectors``; required by that store.
    s3_vectors_bucket: str | None = None
    s3_vectors_index: str | None = None
    #: Nearest chunks asked of S3 Vectors per question, then blended with BM25 like in-table vectors.
    s3_vectors_candidates: int = Field(default=30, ge=1, le=100)
    #: Static embeddings average their words, so long chunks dilute a fact: 500 keeps it findable.
    documents_chunk_chars: int = Field(default=500, ge=100)
    documents_chunk_overlap: int = Field(default=100, ge=0)
    documents_max_chars: int = Field(default=200_000, gt=0)
    #: Enough for a document at DOCUMENTS_MAX_CHARS: 200k chars / (500 - 100 overlap) = 500 chunks.
    documents_max_chunks: int = Field(default=600, gt=0)
    #: PDFs with more pages are refused (422) before their text is read.
    documents_max_pages: int = Field(default=500, gt=0)
    #: Largest file sent to ``POST /v1/documents/upload`` (multipart, through the API). API
    #: Gateway and Lambda cap a request near 6 MB, base64 included: larger files go to S3.
    documents_direct_upload_max_bytes: int = Field(default=4_000_000, gt=0)
    #: S3 bucket for large uploads (``POST /v1/documents/uploads``); set by the template.
    document_uploads_bucket: str | None = None
    #: Largest file the presigned S3 form accepts, and the ingestion function reads.
    documents_upload_max_bytes: int = Field(default=20 * 1024 * 1024, gt=0)
    #: Seconds a presigned upload form stays valid.
    documents_upload_url_ttl_s: int = Field(default=900, ge=60, le=7 * 24 * 3600)

    # Tools
    tools_config_path: str | None = None
    tool_timeout_s: float = Field(default=10.0, gt=0)
    code_exec_timeout_s: float = Field(default=5.0, gt=0)
    code_exec_memory_mb: int = Field(default=256, gt=16)
    http_tool_max_bytes: int = Field(default=200_000, gt=0)
    #: Output a sandboxed program may write (stdout and stderr each); the kernel enforces it.
    code_exec_max_output_bytes: int = Field(default=65_536, gt=0)
    #: Where run_python's programs run. ``auto``/``namespaces``: Linux namespaces (own PID, mount,
    #: network, IPC namespaces, fresh root), refused with ``sandbox_unavailable`` when they do not
    #: work. ``lambda``: a plain child process, trusted only inside the dedicated code-executor
    #: Lambda (``AWS_LAMBDA_RUNTIME_API`` set); elsewhere it means ``auto``. ``unsafe-subprocess``:
    #: a plain child process anywhere; an operator's explicit, logged opt-in.
    code_exec_sandbox: Literal["auto", "namespaces", "lambda", "unsafe-subprocess"] = "auto"
    #: Uid the program runs as when the server runs as root (a non-root server maps its own uid).
    code_exec_sandbox_uid: int = Field(default=65534, ge=1)
    #: Processes (threads count) the program may run at once: bounds fork bombs. Running as the
    #: sandbox uid, concurrent programs share this budget.
    code_exec_max_processes: int = Field(default=32, ge=1)
    #: Size of the program's writable scratch space (its working directory and /tmp), in MiB.
    code_exec_scratch_mb: int = Field(default=16, ge=1)
    #: Programs running at once in this process; more wait up to CODE_EXEC_QUEUE_WAIT_S, then ``busy``.
    code_exec_max_concurrency: int = Field(default=4, ge=1)
    code_exec_queue_wait_s: float = Field(default=0.5, ge=0)
    #: The code-executor Lambda (no permissions, no network): when set, run_python runs there.
    code_executor_function_name: str | None = None
    #: Hosts (names or IPs, comma-separated) the URL tools may reach even though they resolve to
    #: private or loopback addresses: local test servers and sanctioned internal APIs. Empty on AWS.
    #: Cloud metadata addresses stay blocked regardless.
    http_tool_allowed_hosts: Annotated[list[str], NoDecode] = Field(default_factory=list)
    #: ``none`` (the tool is not offered), ``searxng`` (WEB_SEARCH_URL), ``brave`` or ``tavily``.
    web_search_provider: Literal["none", "searxng", "brave", "tavily"] = "none"
    #: A SearxNG base URL, or another endpoint for the hosted APIs (a proxy, a test server).
    web_search_url: str | None = None
    web_search_api_key: SecretStr | None = None
    web_search_api_key_secret_id: str | None = None
    web_search_max_results: int = Field(default=5, ge=1, le=10)

    # MCP: servers as tool sources, and the orchestrator as an MCP server at /mcp
    #: Seconds a server's tool list is reused before it is asked again.
    mcp_tools_cache_ttl_s: float = Field(default=300.0, ge=0)
    #: Listing one server's tools (connect, handshake, tools/list) ends within this; a slower or
    #: unreachable server is skipped, so a chat turn waits at most this long for it.
    mcp_list_timeout_s: float = Field(default=5.0, gt=0, le=60)
    #: A server that failed to list its tools is skipped this long before listing asks it again.
    mcp_unavailable_retry_s: float = Field(default=30.0, ge=0)
    #: Serve the orchestrator's own tools (chat, search_documents, the tenant's tools) at /mcp.
    mcp_server_enabled: bool = True

    # Tool registry governance: what admins may register, per tenant
    #: Registered tools may only name secrets under ``<prefix><tenant>/`` ({environment} expands).
    tools_secret_prefix: str = "/orchestrator/{environment}/tools/"  # noqa: S105 - a path
    tools_max_per_tenant: int = Field(default=50, ge=0)
    tools_max_description_chars: int = Field(default=500, ge=20, le=1_024)
    tools_max_schema_bytes: int = Field(default=8_192, ge=256)

    @field_validator("cors_origins", "http_tool_allowed_hosts", "llm_allowed_models", mode="before")
    @classmethod
    def _split_list(cls, value: Any, info: ValidationInfo) -> Any:
        """Lists come from the environment as CSV (``a,b``) or JSON (``["a", "b"]``)."""
        if isinstance(value, str):
            text = value.strip()
            items = (
                json.loads(text)
                if text.startswith("[")
                else [i.strip() for i in text.split(",") if i.strip()]
            )
            # Host names are case-insensitive; origins are compared as sent by browsers.
            return [i.lower() for i in items] if info.field_name == "http_tool_allowed_hosts" else items
        return value

    @model_validator(mode="after")
    def _vector_store_is_named(self) -> Settings:
        """A handler fails at start-up, not on the first question, when S3 Vectors is half configured."""
        if self.vector_store == "s3vectors" and not (self.s3_vectors_bucket and self.s3_vectors_index):
            raise ValueError("VECTOR_STORE=s3vectors needs S3_VECTORS_BUCKET and S3_VECTORS_INDEX")
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # An explicit environment variable beats SSM so a developer can override one value locally.
        return (init_settings, env_settings, dotenv_settings, SsmSettingsSource(settings_cls))


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once per Lambda container."""
    return Settings()
