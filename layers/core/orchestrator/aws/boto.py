"""One way to build boto3 clients and resources, and one table of botocore errors worth retrying.

In the spirit of Powertools' ``_build_boto3_client`` (``utilities/parameters/base.py``): an
injected client is used as is (tests hand in a stubbed one), else one is built from the injected
session or a new one, with a botocore ``Config`` carrying the connect and read timeouts and the
retry mode. boto3 is imported only when a client is first built, so a handler that never calls
AWS does not pay for it at cold start.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from orchestrator.clients.retrying import RETRYABLE_STATUSES, TransientFailure, parse_retry_after

if TYPE_CHECKING:
    import boto3
    from botocore.config import Config

__all__ = [
    "RETRYABLE_ERROR_CODES",
    "boto_config",
    "build_boto3_client",
    "build_boto3_resource",
    "transient_failure",
]

#: The one table of botocore error codes worth retrying: throttling, a service or model that is
#: unavailable or not ready yet, internal errors and timeouts. Any other code is an answer.
RETRYABLE_ERROR_CODES = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "ServiceUnavailableException",
        "ServiceUnavailable",
        "InternalServerException",
        "InternalServerError",
        "InternalFailure",
        "ModelNotReadyException",
        "ModelTimeoutException",
        "RequestTimeout",
        "RequestTimeoutException",
    }
)


def boto_config(
    *,
    connect_timeout_s: float,
    read_timeout_s: float,
    retry_mode: str = "standard",
    max_attempts: int | None = None,
) -> Config:
    """Timeouts and the retry mode; ``max_attempts=1`` leaves retrying to tenacity."""
    from botocore.config import Config

    retries: dict[str, Any] = {"mode": retry_mode}
    if max_attempts is not None:
        retries["total_max_attempts"] = max_attempts
    return Config(connect_timeout=connect_timeout_s, read_timeout=read_timeout_s, retries=retries)  # type: ignore[arg-type]


def build_boto3_client(
    service: str,
    *,
    region: str | None = None,
    client: Any | None = None,
    session: boto3.Session | None = None,
    config: Config | None = None,
) -> Any:
    """``client`` if given, else a new client for ``service`` from ``session`` (or a new session).

    Callers annotate the client they get: the stubs type clients per literal service name.
    """
    if client is not None:
        return client
    import boto3

    return (session or boto3.Session()).client(service, region_name=region, config=config)  # type: ignore[call-overload]


def build_boto3_resource(
    service: str,
    *,
    region: str | None = None,
    resource: Any | None = None,
    session: boto3.Session | None = None,
    config: Config | None = None,
) -> Any:
    """Like :func:`build_boto3_client`, for boto3's resource layer (DynamoDB tables)."""
    if resource is not None:
        return resource
    import boto3

    return (session or boto3.Session()).resource(service, region_name=region, config=config)  # type: ignore[call-overload]


def transient_failure(error: BaseException, *, service: str) -> TransientFailure | None:
    """A botocore failure worth retrying as a :class:`TransientFailure`, else None.

    Retried: :data:`RETRYABLE_ERROR_CODES`, :data:`~orchestrator.clients.retrying.RETRYABLE_STATUSES`,
    and connection errors and timeouts (botocore's ``ConnectionError`` and ``HTTPClientError``
    families, which include its read and connect timeouts).
    """
    from botocore.exceptions import ClientError, ConnectionError, HTTPClientError

    if isinstance(error, ClientError):
        code = str(error.response.get("Error", {}).get("Code", "Unknown"))
        metadata = error.response.get("ResponseMetadata", {})
        status = int(metadata.get("HTTPStatusCode", 0) or 0)
        if code not in RETRYABLE_ERROR_CODES and status not in RETRYABLE_STATUSES:
            return None
        message = str(error.response.get("Error", {}).get("Message", ""))[:300]
        headers = metadata.get("HTTPHeaders", {}) or {}
        return TransientFailure(
            f"{code}: {message}" if message else code,
            status=status or None,
            retry_after_s=parse_retry_after(headers.get("retry-after")),
        )
    if isinstance(error, ConnectionError | HTTPClientError):
        return TransientFailure(f"{type(error).__name__} talking to {service}")
    return None
