"""DynamoDB plumbing shared by memory, tools, grounding and the API: one lazily created resource
per process (injectable for tests), typed errors for throttling, paging, TTLs and the
float/Decimal conversion."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from functools import lru_cache
from typing import Any

from orchestrator.aws.boto import boto_config, build_boto3_resource, transient_failure
from orchestrator.errors import StorageUnavailableError

#: Table reads and writes are small and fast; botocore's 60 s defaults would outlive a 30 s
#: Lambda. Botocore's standard retry mode retries throttling and 5xx with its own backoff
#: (jittered, 1 s then 2 s at most), three attempts in all: a burst of throttling is absorbed
#: within the node's time, a table that keeps throttling becomes a 503 the client can retry.
CONNECT_TIMEOUT_S = 2.0
READ_TIMEOUT_S = 5.0
MAX_ATTEMPTS = 3
#: The table calls whose retryable failures are raised as :class:`StorageUnavailableError`.
_GUARDED_CALLS = frozenset({"get_item", "put_item", "update_item", "delete_item", "query", "scan"})

logger = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def shared_resource(region: str) -> Any:
    """The process's DynamoDB resource (its client's events are where tests hook in faults)."""
    config = boto_config(
        connect_timeout_s=CONNECT_TIMEOUT_S, read_timeout_s=READ_TIMEOUT_S, max_attempts=MAX_ATTEMPTS
    )
    return build_boto3_resource("dynamodb", region=region, config=config)


def table(name: str, region: str, resource: Any | None = None) -> Any:
    """Table ``name``, from ``resource`` if given (tests), else the process's resource.

    Its item calls raise :class:`StorageUnavailableError` for throttling and transient failures
    that outlived botocore's retries, so a node fails with a typed error the state machine and the
    API map to a 503, never an unexplained 500; any other ``ClientError`` (a failed condition) is
    raised as botocore raised it.
    """
    return GuardedTable((resource or shared_resource(region)).Table(name))


class GuardedTable:
    """A boto3 ``Table`` whose retryable failures are typed; everything else passes through."""

    def __init__(self, wrapped: Any) -> None:
        self._wrapped = wrapped

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._wrapped, name)
        if name not in _GUARDED_CALLS:
            return value

        def guarded(*args: Any, **kwargs: Any) -> Any:
            try:
                return value(*args, **kwargs)
            except Exception as exc:
                failure = transient_failure(exc, service="dynamodb")
                if failure is None:
                    raise
                # The cause (code, table) goes to the logs, not to the caller.
                where = getattr(self._wrapped, "name", "a table")
                logger.warning("DynamoDB %s on %s failed after retries: %s", name, where, failure)
                raise StorageUnavailableError(
                    "The data store is throttling or unavailable; retry the request shortly."
                ) from exc

        return guarded


def all_items(read: Callable[..., dict[str, Any]], **kwargs: Any) -> Iterator[dict[str, Any]]:
    """Every item of a ``Table.query`` or ``Table.scan``, following ``LastEvaluatedKey`` pages."""
    while True:
        page = read(**kwargs)
        yield from page.get("Items", [])
        if "LastEvaluatedKey" not in page:
            return
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def reset_clients() -> None:
    """Forget cached clients (the local runtime and tests start a fresh moto between runs)."""
    shared_resource.cache_clear()


def expires_at(ttl_s: int) -> int:
    return int(time.time()) + ttl_s


def to_dynamo(value: Any) -> Any:
    """DynamoDB rejects floats; store them as Decimal (recursively)."""
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {k: to_dynamo(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_dynamo(v) for v in value]
    return value


def from_dynamo(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: from_dynamo(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_dynamo(v) for v in value]
    return value
