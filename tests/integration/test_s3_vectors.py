"""Given VECTOR_STORE=s3vectors, chunk vectors live in Amazon S3 Vectors, scoped by tenant and owner.

moto implements S3 Vectors except QueryVectors: ingestion, replacement and deletion (PutVectors,
DeleteVectors, ListVectors) run against moto; questions (QueryVectors) against botocore's
Stubber, which checks the exact request, the tenant filter included.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import numpy as np
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from orchestrator.clients.embeddings.embedded import EmbeddedEmbedder
from orchestrator.config import Settings
from orchestrator.errors import ConfigurationError, ValidationError
from orchestrator.grounding import DocumentStore, build_retriever
from orchestrator.grounding.vector_stores import build_vector_store
from orchestrator.grounding.vector_stores.dynamodb import SegmentVectors
from orchestrator.grounding.vector_stores.s3_vectors import S3Vectors, tenant_filter, vector_key
from tests.support.aws import REGION, create_documents_table, use_fake_credentials
from tests.support.zephyr import ANSWER, MANUAL, QUESTION

BUCKET, INDEX = "document-vectors", "chunks"


@pytest.fixture(scope="module")
def embedder() -> EmbeddedEmbedder:
    return EmbeddedEmbedder()


@pytest.fixture
def aws(embedder: EmbeddedEmbedder) -> Iterator[tuple[Any, Any]]:
    """moto's DynamoDB resource and S3 Vectors client, with the bucket and index the template makes."""
    with pytest.MonkeyPatch.context() as env:
        use_fake_credentials(env)
        with mock_aws():
            vectors = boto3.client("s3vectors", region_name=REGION)
            vectors.create_vector_bucket(vectorBucketName=BUCKET)
            vectors.create_index(
                vectorBucketName=BUCKET,
                indexName=INDEX,
                dataType="float32",
                dimension=embedder.dim,
                distanceMetric="cosine",
            )
            yield boto3.resource("dynamodb", region_name=REGION), vectors


@pytest.fixture
def table_name(aws: tuple[Any, Any]) -> str:
    name = f"documents-{uuid.uuid4().hex[:8]}"
    create_documents_table(aws[0], name)
    return name


def s3_store(aws: tuple[Any, Any], table_name: str, embedder: EmbeddedEmbedder, client: Any) -> DocumentStore:
    vectors = S3Vectors(BUCKET, INDEX, client=client, candidates=10)
    return DocumentStore(table_name, embedder=embedder, resource=aws[0], vectors=vectors)


@pytest.fixture
def store(aws: tuple[Any, Any], table_name: str, embedder: EmbeddedEmbedder) -> DocumentStore:
    return s3_store(aws, table_name, embedder, aws[1])


def stored(client: Any) -> dict[str, dict[str, Any]]:
    """Every vector in the index: key -> metadata."""
    page = client.list_vectors(vectorBucketName=BUCKET, indexName=INDEX, returnMetadata=True)
    return {vector["key"]: vector["metadata"] for vector in page["vectors"]}


def segments(aws: tuple[Any, Any], table_name: str, tenant: str, owner: str) -> list[dict[str, Any]]:
    table = aws[0].Table(table_name)
    response = table.query(
        KeyConditionExpression="pk = :pk AND begins_with(sk, :seg)",
        ExpressionAttributeValues={":pk": f"{tenant}#{owner}", ":seg": "seg#"},
    )
    return list(response["Items"])


def long_text(paragraphs: int) -> str:
    return "\n\n".join(
        f"Paragraph {i} of the handbook describes procedure number {i} in detail." for i in range(paragraphs)
    )


# ---------------------------------------------------------------------- ingestion, against moto
def test_ingestion_puts_one_vector_per_chunk_with_its_tenant_owner_and_document(
    store: DocumentStore, aws: tuple[Any, Any], table_name: str
) -> None:
    result = store.ingest("acme", "alice", "Zephyr-9 manual", MANUAL, doc_id="zephyr")

    vectors = stored(aws[1])
    assert sorted(vectors) == [f"acme#alice#zephyr#{chunk:05d}" for chunk in range(result.chunks)]
    assert {(m["tenant_id"], m["owner"], m["doc_id"]) for m in vectors.values()} == {
        ("acme", "alice", "zephyr")
    }
    assert sorted(int(m["chunk"]) for m in vectors.values()) == list(range(result.chunks))
    # The table keeps the BM25 half only: no segment carries vectors.
    assert segments(aws, table_name, "acme", "alice")
    assert not [item for item in segments(aws, table_name, "acme", "alice") if "vectors" in item]


def test_a_shorter_new_version_removes_the_vectors_past_its_end(
    store: DocumentStore, aws: tuple[Any, Any]
) -> None:
    first = store.ingest("acme", "alice", "Handbook", long_text(40), doc_id="handbook")
    second = store.ingest("acme", "alice", "Handbook", long_text(5), doc_id="handbook")

    assert second.replaced and second.chunks < first.chunks
    assert sorted(stored(aws[1])) == [
        vector_key("acme", "alice", "handbook", c) for c in range(second.chunks)
    ]


def test_deleting_a_document_deletes_its_vectors_and_no_one_elses(
    store: DocumentStore, aws: tuple[Any, Any]
) -> None:
    store.ingest("acme", "alice", "Zephyr-9 manual", MANUAL, doc_id="zephyr")
    kept = store.ingest(
        "globex", "alice", "Zephyr-9 manual", MANUAL, doc_id="zephyr"
    )  # same ids, other tenant
    store.ingest("acme", "bob", "Handbook", long_text(3), doc_id="zephyr")

    store.delete("acme", "alice", "zephyr")

    remaining = stored(aws[1])
    assert not [key for key in remaining if key.startswith("acme#alice#")]
    assert len([key for key in remaining if key.startswith("globex#alice#zephyr#")]) == kept.chunks
    assert [key for key in remaining if key.startswith("acme#bob#zephyr#")]
    assert {m["tenant_id"] for k, m in remaining.items() if k.startswith("globex#")} == {"globex"}


def test_keys_cannot_be_bent_by_a_hash_in_a_name(store: DocumentStore) -> None:
    with pytest.raises(ValidationError):
        vector_key("acme#globex", "alice", "d", 0)
    with pytest.raises(ValidationError):
        store.ingest("acme", "alice#x", "t", "text", doc_id="d")


# ---------------------------------------------------------------------- questions, with Stubber
def query_request(tenant: str, owners: list[str], candidates: int = 10) -> dict[str, Any]:
    """The QueryVectors request the store must send (the query vector itself is not compared)."""
    from botocore.stub import ANY

    return {
        "vectorBucketName": BUCKET,
        "indexName": INDEX,
        "topK": candidates,
        "queryVector": ANY,
        "filter": {"$and": [{"tenant_id": {"$eq": tenant}}, {"owner": {"$in": owners}}]},
        "returnMetadata": True,
        "returnDistance": True,
    }


def match(tenant: str, owner: str, doc_id: str, chunk: int, distance: float) -> dict[str, Any]:
    return {
        "key": vector_key(tenant, owner, doc_id, chunk),
        "distance": distance,
        "metadata": {"tenant_id": tenant, "owner": owner, "doc_id": doc_id, "chunk": chunk},
    }


@pytest.fixture
def stubbed() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client("s3vectors", region_name=REGION)
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def test_a_question_asks_for_the_callers_tenant_and_owners_only_and_blends_with_bm25(
    store: DocumentStore,
    aws: tuple[Any, Any],
    table_name: str,
    embedder: EmbeddedEmbedder,
    stubbed: tuple[Any, Stubber],
) -> None:
    ingested = store.ingest("acme", "alice", "Zephyr-9 manual", MANUAL, doc_id="zephyr")
    fact_chunk = next(i for i, text in enumerate(store.chunks("acme", "alice", "zephyr")) if ANSWER in text)
    client, stubber = stubbed
    found = [match("acme", "alice", "zephyr", c, 0.4 + 0.01 * c) for c in range(ingested.chunks)]
    stubber.add_response(
        "query_vectors",
        {"vectors": found, "distanceMetric": "cosine"},
        query_request("acme", ["alice", "shared"]),
    )
    grounding = s3_store(aws, table_name, embedder, client)  # another Lambda: the grounding function's

    passages = grounding.retrieve(QUESTION, "acme", "alice", top_k=3)

    assert passages[0].source_id == f"zephyr#{fact_chunk}"
    assert ANSWER in passages[0].text


def test_results_naming_another_tenant_or_owner_are_dropped(
    store: DocumentStore,
    aws: tuple[Any, Any],
    table_name: str,
    embedder: EmbeddedEmbedder,
    stubbed: tuple[Any, Stubber],
) -> None:
    # The same document id under another tenant and another user: a leaked match would map onto
    # acme/alice's chunk positions if the store trusted the index blindly.
    store.ingest("acme", "alice", "Zephyr-9 manual", MANUAL, doc_id="zephyr")
    store.ingest("globex", "alice", "Zephyr-9 manual", MANUAL, doc_id="zephyr")
    client, stubber = stubbed
    leaked = [
        match("globex", "alice", "zephyr", 3, 0.0),
        match("acme", "bob", "zephyr", 2, 0.0),
        {**match("acme", "alice", "zephyr", 1, 0.0), "key": vector_key("globex", "alice", "zephyr", 1)},
    ]
    honest = match("acme", "alice", "zephyr", 0, 0.5)
    stubber.add_response(
        "query_vectors",
        {"vectors": [*leaked, honest], "distanceMetric": "cosine"},
        query_request("acme", ["alice", "shared"]),
    )
    vectors = S3Vectors(BUCKET, INDEX, client=client)

    matches = vectors.query("acme", ["alice", "shared"], np.ones(embedder.dim, np.float32), 10)

    assert [(m.owner, m.doc_id, m.chunk) for m in matches] == [("alice", "zephyr", 0)]
    assert matches[0].similarity == pytest.approx(0.5)


def _matches(condition: dict[str, Any], metadata: dict[str, Any]) -> bool:
    """S3 Vectors' filter semantics for the operators the store uses."""
    ((operator, operand),) = condition.items()
    if operator == "$and":
        return all(_matches(c, metadata) for c in operand)
    if operator == "$or":
        return any(_matches(c, metadata) for c in operand)
    ((test, value),) = operand.items()
    actual = metadata.get(operator)
    return bool({"$eq": actual == value, "$in": actual in value}[test])


@pytest.mark.parametrize(
    ("tenant", "owners"),
    [
        ("acme", ["alice", "shared"]),
        ("acme", ["shared"]),
        ("globex", ["alice", "shared"]),
        ("a", ["b", "shared"]),
    ],
)
def test_no_query_filter_for_one_tenant_can_match_another_tenants_vectors(
    tenant: str, owners: list[str]
) -> None:
    query_filter = tenant_filter(tenant, owners)
    others = [
        {"tenant_id": other, "owner": owner, "doc_id": "d", "chunk": 0}
        for other in ("acme", "globex", "a", "b", "", "acme#alice")
        if other != tenant
        for owner in (*owners, "mallory")
    ]
    mine = [{"tenant_id": tenant, "owner": owner, "doc_id": "d", "chunk": 0} for owner in owners]

    assert not [m for m in others if _matches(query_filter, m)]
    assert all(_matches(query_filter, m) for m in mine)
    assert not _matches(query_filter, {"tenant_id": tenant, "owner": "mallory"})  # another user
    assert {"tenant_id": {"$eq": tenant}} in query_filter["$and"]  # a conjunct, never an alternative


def test_every_query_a_store_sends_names_the_callers_tenant(
    store: DocumentStore,
    aws: tuple[Any, Any],
    table_name: str,
    embedder: EmbeddedEmbedder,
    stubbed: tuple[Any, Stubber],
) -> None:
    for tenant in ("acme", "globex"):
        store.ingest(tenant, "alice", "Zephyr-9 manual", MANUAL, doc_id="zephyr")
    store.ingest("acme", "shared", "Zephyr-9 manual", MANUAL, doc_id="zephyr")
    client, stubber = stubbed
    for tenant in ("acme", "globex"):
        stubber.add_response(
            "query_vectors",
            {"vectors": [], "distanceMetric": "cosine"},
            query_request(tenant, ["alice", "shared"]),
        )
    stubber.add_response(
        "query_vectors", {"vectors": [], "distanceMetric": "cosine"}, query_request("acme", ["shared"])
    )
    grounding = s3_store(aws, table_name, embedder, client)

    for tenant in ("acme", "globex"):
        grounding.retrieve(QUESTION, tenant, "alice")
    grounding.retrieve(QUESTION, "acme", "shared")
    # Stubber refuses any request but the expected ones, in order.


def test_a_throttled_vector_store_leaves_the_question_to_bm25(
    store: DocumentStore,
    aws: tuple[Any, Any],
    table_name: str,
    embedder: EmbeddedEmbedder,
) -> None:
    store.ingest("acme", "alice", "Zephyr-9 manual", MANUAL, doc_id="zephyr")
    client = boto3.client("s3vectors", region_name=REGION, config=_no_retries())
    with Stubber(client) as stubber:
        stubber.add_client_error("query_vectors", "ThrottlingException", http_status_code=429)
        passages = s3_store(aws, table_name, embedder, client).retrieve(QUESTION, "acme", "alice", top_k=1)

    assert ANSWER in passages[0].text  # the exact code still matches lexically


def test_a_refused_query_raises_and_a_non_cosine_index_is_a_configuration_error(
    embedder: EmbeddedEmbedder, stubbed: tuple[Any, Stubber]
) -> None:
    from botocore.exceptions import ClientError

    client, stubber = stubbed
    stubber.add_client_error("query_vectors", "AccessDeniedException", http_status_code=403)
    stubber.add_response("query_vectors", {"vectors": [], "distanceMetric": "euclidean"})
    vectors = S3Vectors(BUCKET, INDEX, client=client)
    question = np.ones(embedder.dim, np.float32)

    with pytest.raises(ClientError):
        vectors.query("acme", ["alice"], question, 5)
    with pytest.raises(ConfigurationError):
        vectors.query("acme", ["alice"], question, 5)


def _no_retries() -> Any:
    from botocore.config import Config

    return Config(retries={"total_max_attempts": 1})


# ---------------------------------------------------------------------- configuration
def test_the_setting_selects_the_vector_store_and_s3vectors_needs_its_names(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SETTINGS_SSM_PATH", raising=False)
    assert isinstance(build_vector_store(Settings()), SegmentVectors)

    client = boto3.client("s3vectors", region_name=REGION)
    settings = Settings(vector_store="s3vectors", s3_vectors_bucket=BUCKET, s3_vectors_index=INDEX)
    chosen = build_vector_store(settings, client=client)
    assert isinstance(chosen, S3Vectors) and chosen.client is client
    assert (chosen.bucket, chosen.index, chosen.candidates) == (BUCKET, INDEX, 30)
    assert isinstance(build_retriever(settings, EmbeddedEmbedder()).store.vectors, S3Vectors)

    with pytest.raises(ValueError, match="S3_VECTORS_BUCKET and S3_VECTORS_INDEX"):
        Settings(vector_store="s3vectors", s3_vectors_bucket=BUCKET)
