"""Given the semantic cache on a (moto) DynamoDB cache table: one Query per lookup, bounded per user."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from boto3.dynamodb.conditions import Key
from moto import mock_aws

from orchestrator.clients.embeddings.embedded import EmbeddedEmbedder
from orchestrator.memory import ResponseCache
from orchestrator.memory.semantic_cache import SemanticCache, semantic_prefix
from tests.support.aws import use_fake_credentials

PARIS = {"response": {"text": "Paris."}, "intent": {"name": "chat", "confidence": 0.9, "method": "embedding"}}


@pytest.fixture(scope="module")
def aws() -> Iterator[Any]:
    with pytest.MonkeyPatch.context() as env:
        use_fake_credentials(env)
        with mock_aws():
            yield boto3.resource("dynamodb", region_name="us-east-1")


@pytest.fixture
def table_name(aws: Any) -> str:
    # The cache table of template.yaml: HASH pk (tenant), RANGE sk.
    name = f"cache-{uuid.uuid4().hex[:8]}"
    aws.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    return name


@pytest.fixture
def cache(aws: Any, table_name: str) -> SemanticCache:
    return SemanticCache(
        table_name, EmbeddedEmbedder(), region="us-east-1", threshold=0.86, max_entries=3, resource=aws
    )


def test_a_paraphrase_is_found_with_its_similarity_and_the_embedding_is_float32_bytes(
    aws: Any, table_name: str, cache: SemanticCache
) -> None:
    cache.put("acme", "ada", "chat", "What's the capital of France?", PARIS, ttl_s=60)

    hit = cache.lookup("acme", "ada", "chat", "Tell me France's capital")

    assert hit is not None and hit.value == PARIS and 0.86 <= hit.similarity <= 1.0
    (item,) = aws.Table(table_name).scan()["Items"]
    assert item["sk"].startswith("ada#sem#chat#") and len(bytes(item["embedding"].value)) == 256 * 4


def test_lookups_stay_within_tenant_user_and_route(cache: SemanticCache) -> None:
    cache.put("acme", "ada", "chat", "What's the capital of France?", PARIS, ttl_s=60)

    assert cache.lookup("globex", "ada", "chat", "Tell me France's capital") is None
    assert cache.lookup("acme", "bob", "chat", "Tell me France's capital") is None
    assert cache.lookup("acme", "ada", "rag", "Tell me France's capital") is None
    assert cache.lookup("acme", "ada", "chat", "Tell me Spain's capital") is None


def test_expired_entries_are_ignored(cache: SemanticCache, aws: Any, table_name: str) -> None:
    cache.put("acme", "ada", "chat", "What's the capital of France?", PARIS, ttl_s=60)
    table = aws.Table(table_name)
    (item,) = table.scan()["Items"]
    table.update_item(
        Key={"pk": item["pk"], "sk": item["sk"]},
        UpdateExpression="SET expires_at = :past",
        ExpressionAttributeValues={":past": 1},
    )

    assert cache.lookup("acme", "ada", "chat", "Tell me France's capital") is None


def test_a_user_keeps_at_most_max_entries_across_routes_the_oldest_go(
    cache: SemanticCache, aws: Any, table_name: str
) -> None:
    prompts = ["Who painted the Mona Lisa?", "How tall is Mount Everest?", "What is a black hole?"]
    cache.put("acme", "ada", "rag", "What's the capital of France?", PARIS, ttl_s=60)
    for prompt in prompts:
        cache.put("acme", "ada", "chat", prompt, PARIS, ttl_s=60)
    cache.put("acme", "ada", "chat", prompts[0], PARIS, ttl_s=60)  # the same prompt replaces its entry
    cache.put("acme", "bob", "chat", prompts[0], PARIS, ttl_s=60)

    ada = aws.Table(table_name).query(
        KeyConditionExpression=Key("pk").eq("acme") & Key("sk").begins_with(semantic_prefix("ada"))
    )["Items"]
    assert len(ada) == 3 and all(item["sk"].startswith("ada#sem#chat#") for item in ada)
    assert cache.lookup("acme", "ada", "rag", "Tell me France's capital") is None
    assert cache.lookup("acme", "bob", "chat", "Who was the painter of the Mona Lisa?") is not None


def test_clearing_a_users_cache_clears_their_semantic_entries(
    aws: Any, table_name: str, cache: SemanticCache
) -> None:
    exact = ResponseCache(table_name, region="us-east-1", resource=aws)
    exact.put("acme", "ada", "What's the capital of France?", PARIS, 60)
    cache.put("acme", "ada", "chat", "What's the capital of France?", PARIS, ttl_s=60)
    cache.put("acme", "bob", "chat", "What's the capital of France?", PARIS, ttl_s=60)

    assert exact.clear("acme", "ada") == 2
    assert cache.lookup("acme", "ada", "chat", "Tell me France's capital") is None
    assert cache.lookup("acme", "bob", "chat", "Tell me France's capital") is not None
