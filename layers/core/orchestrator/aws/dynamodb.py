"""DynamoDB plumbing shared by memory, tools, grounding and the API: one lazily created resource
per process (injectable for tests), paging, TTLs and the float/Decimal conversion."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from functools import lru_cache
from typing import Any

from orchestrator.aws.boto import boto_config, build_boto3_resource

#: Table reads and writes are small and fast; botocore's 60 s defaults would outlive a 30 s
#: Lambda. Botocore's standard retry mode retries throttling with its own backoff.
CONNECT_TIMEOUT_S = 2.0
READ_TIMEOUT_S = 5.0


@lru_cache(maxsize=1)
def _resource(region: str) -> Any:
    config = boto_config(connect_timeout_s=CONNECT_TIMEOUT_S, read_timeout_s=READ_TIMEOUT_S)
    return build_boto3_resource("dynamodb", region=region, config=config)


def table(name: str, region: str, resource: Any | None = None) -> Any:
    """Table ``name``, from ``resource`` if given (tests), else the process's resource."""
    return (resource or _resource(region)).Table(name)


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
    _resource.cache_clear()


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
