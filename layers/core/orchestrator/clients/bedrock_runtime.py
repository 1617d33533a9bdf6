"""What the Bedrock chat client and the Titan embeddings client share: how their boto3 clients
are built (botocore's retries off, so tenacity's are the only ones) and how a botocore failure
is sorted into "retry" or "the model said no"."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from orchestrator.aws.boto import boto_config, build_boto3_client, transient_failure
from orchestrator.errors import ModelResponseError

if TYPE_CHECKING:
    from orchestrator.clients.retrying import TransientFailure


def bedrock_client(
    service: str, *, region: str, connect_timeout_s: float, read_timeout_s: float, client: Any | None = None
) -> Any:
    """``client`` if injected (tests use botocore's Stubber), else a new one making one attempt per call."""
    config = boto_config(connect_timeout_s=connect_timeout_s, read_timeout_s=read_timeout_s, max_attempts=1)
    return build_boto3_client(service, region=region, client=client, config=config)


def bedrock_failure(error: Exception, *, provider: str) -> TransientFailure | ModelResponseError:
    """A botocore failure as the retry policy sees it: transient, or a final model error."""
    from botocore.exceptions import ClientError

    transient = transient_failure(error, service="Bedrock")
    if transient is not None:
        return transient
    if isinstance(error, ClientError):
        code = str(error.response.get("Error", {}).get("Code", "Unknown"))
        status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        message = str(error.response.get("Error", {}).get("Message", ""))[:300]
        return ModelResponseError(
            f"Bedrock rejected the request ({code}): {message}",
            details={"provider": provider, "code": code, "status": status},
        )
    return ModelResponseError(f"Bedrock call failed: {type(error).__name__}", details={"provider": provider})
