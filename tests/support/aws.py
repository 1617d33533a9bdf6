"""moto set-up shared by the unit and integration tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities import parameters
from moto import mock_aws

REGION = "us-east-1"


def use_fake_credentials(env: pytest.MonkeyPatch) -> None:
    """Credentials and a region for moto, so boto3 never looks for real ones."""
    env.setenv("AWS_ACCESS_KEY_ID", "testing")
    env.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    env.setenv("AWS_DEFAULT_REGION", REGION)


@contextmanager
def mocked_parameter_store(env: pytest.MonkeyPatch, service: str) -> Iterator[Any]:
    """``service``'s boto3 client (``ssm``, ``secretsmanager``) inside moto, for Powertools reads.

    Powertools' caches and providers are emptied around the mock: a provider keeps the boto3
    client it made first, which must be created inside the mock.
    """
    use_fake_credentials(env)
    parameters.clear_caches()
    parameters.base.DEFAULT_PROVIDERS.clear()
    with mock_aws():
        yield boto3.client(service, region_name=REGION)  # type: ignore[call-overload]
    parameters.clear_caches()
    parameters.base.DEFAULT_PROVIDERS.clear()


def create_documents_table(resource: Any, name: str) -> None:
    """The documents table as template.yaml declares it: ``pk`` HASH, ``sk`` RANGE."""
    resource.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
    )
