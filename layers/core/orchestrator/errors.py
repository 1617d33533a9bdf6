"""Typed errors: each carries a machine-readable code, a user-facing message and one HTTP status."""

from __future__ import annotations

from typing import Any


class OrchestratorError(Exception):
    """Base of every error the orchestrator raises on purpose."""

    code = "orchestrator_error"
    status_code = 500
    #: Transient errors are retried by Step Functions (the ASL retries on these class names).
    transient = False

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            body["details"] = self.details
        return body


class ValidationError(OrchestratorError):
    code = "invalid_request"
    status_code = 422


class NotFoundError(OrchestratorError):
    code = "not_found"
    status_code = 404


class UnsupportedParameterError(OrchestratorError):
    """A request option this path cannot honour (OpenAI ``n>1``, tools on the offline provider)."""

    code = "unsupported_parameter"
    status_code = 400


class ModelNotFoundError(NotFoundError):
    """An OpenAI-compatible request named a model the orchestrator does not offer."""

    code = "model_not_found"


class PayloadTooLargeError(OrchestratorError):
    code = "payload_too_large"
    status_code = 413


class UnsupportedMediaTypeError(OrchestratorError):
    """A document of a kind no parser reads (``grounding/parsing.py`` lists the kinds)."""

    code = "unsupported_media_type"
    status_code = 415


class DocumentParseError(ValidationError):
    """A document of a supported kind whose content cannot be read (a broken or encrypted PDF)."""

    code = "unparseable_document"


class AuthenticationError(OrchestratorError):
    """No credentials, or credentials that match nothing (the API adds ``WWW-Authenticate``)."""

    code = "unauthorized"
    status_code = 401


class ForbiddenError(OrchestratorError):
    """Authenticated, but not allowed (a role, or acting for another user)."""

    code = "forbidden"
    status_code = 403


class ConflictError(OrchestratorError):
    code = "conflict"
    status_code = 409


class LimitExceededError(ConflictError):
    """A per-tenant quota (e.g. registered tools) is used up."""

    code = "limit_exceeded"


class ConfigurationError(OrchestratorError):
    code = "configuration_error"
    status_code = 500


class TransientError(OrchestratorError):
    """A remote dependency failed in a way worth retrying (timeouts, 429, 5xx)."""

    code = "upstream_unavailable"
    status_code = 503
    transient = True


class StorageUnavailableError(TransientError):
    """DynamoDB kept throttling or failing after the client's own retries; the same request can
    be sent again shortly."""

    code = "storage_unavailable"


class UpstreamError(OrchestratorError):
    """A remote dependency answered, but not usefully (4xx, garbage); retrying will not help."""

    code = "upstream_error"
    status_code = 502


class ModelUnavailableError(TransientError):
    code = "model_unavailable"


class ModelResponseError(UpstreamError):
    code = "model_error"


class ExternalAgentError(UpstreamError):
    code = "external_agent_error"


class ExternalAgentUnavailableError(TransientError):
    code = "external_agent_unavailable"


class DatasourceError(UpstreamError):
    code = "datasource_error"


class DatasourceUnavailableError(TransientError):
    code = "datasource_unavailable"


class ToolNotFoundError(NotFoundError):
    code = "tool_not_found"


class ToolInputError(ValidationError):
    code = "tool_invalid_input"


class ToolExecutionError(OrchestratorError):
    code = "tool_failed"
    status_code = 502


class ToolTimeoutError(ToolExecutionError):
    code = "tool_timeout"
    status_code = 504


class ToolBusyError(ToolExecutionError):
    """Every code-execution slot stayed taken for the whole queue wait; worth trying again shortly."""

    code = "busy"
    status_code = 503


class SandboxUnavailableError(ToolExecutionError):
    """No sandbox that confines untrusted code works here, and no weaker mode was opted into."""

    code = "sandbox_unavailable"
    status_code = 503


class ToolUnavailableError(ToolExecutionError):
    """The server behind a tool (an MCP server) could not be reached or did not answer properly."""

    code = "tool_unavailable"
    status_code = 503


class BlockedAddressError(ToolInputError):
    """A URL-fetching tool was asked for a private, loopback or metadata address."""

    code = "blocked_address"


class InternalNodeError(OrchestratorError):
    """An unexpected exception inside a node. The message names the node, never internals."""

    code = "internal_error"
    status_code = 502


class ApprovalRejectedError(OrchestratorError):
    """A person rejected a run's tool calls (``POST /v1/runs/{id}/reject``): sent to the waiting
    state with ``SendTaskFailure`` under this name, caught by the ASL, answered as a rejection."""

    code = "approval_rejected"
    status_code = 409


class ApprovalRequiredError(ForbiddenError):
    """A tool marked ``requires_approval`` was called outside an approved run."""

    code = "approval_required"


class ApprovalNotPendingError(ConflictError):
    """The run is not waiting for a decision (never was, already decided, or timed out)."""

    code = "approval_not_pending"


class WorkflowError(OrchestratorError):
    """The state machine run failed; carries the run id so the turn can be found."""

    code = "workflow_failed"
    status_code = 502


class WorkflowTimeoutError(WorkflowError):
    code = "workflow_timeout"
    status_code = 504


ERRORS_BY_NAME: dict[str, type[OrchestratorError]] = {
    cls.__name__: cls
    for cls in [
        OrchestratorError,
        ValidationError,
        NotFoundError,
        UnsupportedParameterError,
        ModelNotFoundError,
        PayloadTooLargeError,
        UnsupportedMediaTypeError,
        DocumentParseError,
        AuthenticationError,
        ForbiddenError,
        ConflictError,
        LimitExceededError,
        ConfigurationError,
        TransientError,
        StorageUnavailableError,
        UpstreamError,
        ModelUnavailableError,
        ModelResponseError,
        ExternalAgentError,
        ExternalAgentUnavailableError,
        DatasourceError,
        DatasourceUnavailableError,
        ToolNotFoundError,
        ToolInputError,
        ToolExecutionError,
        ToolTimeoutError,
        ToolBusyError,
        SandboxUnavailableError,
        ToolUnavailableError,
        BlockedAddressError,
        InternalNodeError,
        ApprovalRejectedError,
        ApprovalRequiredError,
        ApprovalNotPendingError,
        WorkflowError,
        WorkflowTimeoutError,
    ]
}
