"""Given documents in (moto) DynamoDB, the store lists, reads, deletes and searches by Query, never
Scan; the per-owner index is cached and reloaded only when its version changes; tenants never meet.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from orchestrator.clients.embeddings.embedded import EmbeddedEmbedder
from orchestrator.errors import NotFoundError, ValidationError
from orchestrator.grounding import SHARED_OWNER, DocumentStore
from tests.support.aws import create_documents_table, use_fake_credentials
from tests.support.zephyr import ANSWER, FACT, MANUAL, QUESTION

TENANT = "acme"


@pytest.fixture(scope="module")
def embedder() -> EmbeddedEmbedder:
    return EmbeddedEmbedder()


@pytest.fixture(scope="module")
def aws() -> Iterator[Any]:
    with pytest.MonkeyPatch.context() as env:
        use_fake_credentials(env)
        with mock_aws():
            resource = boto3.resource("dynamodb", region_name="us-east-1")

            def no_scans(**_: Any) -> None:
                raise AssertionError("the documents store must never Scan")

            resource.meta.client.meta.events.register("before-call.dynamodb.Scan", no_scans)
            yield resource


@pytest.fixture
def table_name(aws: Any) -> str:
    name = f"documents-{uuid.uuid4().hex[:8]}"
    create_documents_table(aws, name)
    return name


def new_store(aws: Any, table_name: str, embedder: EmbeddedEmbedder) -> DocumentStore:
    """A store with its own warm cache, as another Lambda process would have."""
    return DocumentStore(table_name, embedder=embedder, resource=aws)


@pytest.fixture
def store(aws: Any, table_name: str, embedder: EmbeddedEmbedder) -> DocumentStore:
    return new_store(aws, table_name, embedder)


def test_the_fact_among_boilerplate_comes_first(store: DocumentStore) -> None:
    result = store.ingest(TENANT, "alice", "Zephyr-9 operations manual", MANUAL, doc_id="zephyr-manual")

    passages = store.retrieve(QUESTION, TENANT, "alice", top_k=3)

    assert result.chunks == 7
    assert FACT in passages[0].text, [p.text[:60] for p in passages]
    assert passages[0].doc_id == "zephyr-manual" and passages[0].chunk_id == 3
    assert passages[0].title == "Zephyr-9 operations manual"
    assert ANSWER in (passages[0].snippet or "")
    assert 0 < passages[0].score <= 1.0


def test_documents_are_listed_page_by_page_and_read_by_id(store: DocumentStore) -> None:
    for n in range(5):
        store.ingest(TENANT, "alice", f"Note {n}", f"Note number {n}.", doc_id=f"note-{n}", source=f"s{n}")
    store.ingest(TENANT, "bob", "Bob's", "Not Alice's.", doc_id="note-9")
    store.ingest("globex", "alice", "Globex", "Another tenant's alice.", doc_id="note-8")

    first = store.list_documents(TENANT, "alice", limit=3)
    second = store.list_documents(TENANT, "alice", limit=3, cursor=first.next_cursor)

    assert [d.doc_id for d in first.items] == ["note-0", "note-1", "note-2"]
    assert [d.doc_id for d in second.items] == ["note-3", "note-4"]
    assert second.next_cursor is None
    info = store.get_document(TENANT, "alice", "note-1")
    assert (info.title, info.owner, info.chunks, info.source, info.chars) == ("Note 1", "alice", 1, "s1", 14)
    assert info.content_type == "text/plain" and info.created_at
    assert store.chunks(TENANT, "alice", "note-1") == ["Note number 1."]
    with pytest.raises(NotFoundError):
        store.get_document(TENANT, "alice", "note-9")  # bob's
    with pytest.raises(NotFoundError):
        store.get_document(TENANT, "alice", "note-8")  # another tenant's alice
    # A cursor names a position only: it cannot carry a caller into another partition.
    assert [d.doc_id for d in store.list_documents(TENANT, "bob", cursor=first.next_cursor).items] == [
        "note-9"
    ]
    with pytest.raises(ValidationError):
        store.list_documents(TENANT, "alice", cursor="not-a-cursor")


def test_a_warm_index_is_reloaded_only_when_its_version_changes(
    aws: Any, table_name: str, embedder: EmbeddedEmbedder
) -> None:
    reader, writer = new_store(aws, table_name, embedder), new_store(aws, table_name, embedder)
    writer.ingest(
        TENANT, "alice", "Refunds", "Annual plans are refunded pro rata within 30 days.", doc_id="r"
    )

    reader.retrieve("refund annual plan", TENANT, "alice", top_k=3)
    loads = reader.search.cache.loads
    reader.retrieve("refund annual plan", TENANT, "alice", top_k=3)
    assert reader.search.cache.loads == loads  # unchanged version: no segment read

    writer.ingest(TENANT, "alice", "VPN", "Install the WireGuard client to reach the network.", doc_id="v")
    found = reader.retrieve("WireGuard client", TENANT, "alice", top_k=3)
    assert reader.search.cache.loads == loads + 1
    assert found and found[0].doc_id == "v"

    writer.delete(TENANT, "alice", "v")
    assert all(p.doc_id != "v" for p in reader.retrieve("WireGuard client", TENANT, "alice", top_k=3))


def test_reingest_replaces_the_document_in_the_index(store: DocumentStore) -> None:
    long_text = "\n\n".join(f"Paragraph {i}: the first version of the travel policy." for i in range(30))
    store.ingest(TENANT, "alice", "Travel", long_text, doc_id="travel")
    store.retrieve("travel policy", TENANT, "alice", top_k=3)  # warm

    result = store.ingest(
        TENANT, "alice", "Travel", "Economy class for flights under six hours.", doc_id="travel"
    )

    passages = store.retrieve("travel policy flights", TENANT, "alice", top_k=5, min_score=-1.0)
    assert result.replaced and result.chunks == 1
    assert [(p.source_id, p.text) for p in passages] == [
        ("travel#0", "Economy class for flights under six hours.")
    ]
    assert store.chunks(TENANT, "alice", "travel") == ["Economy class for flights under six hours."]
    assert store.stats(TENANT, "alice").model_dump() == {"documents": 1, "chunks": 1, "owners": 1}


def test_delete_removes_chunks_index_and_listing(store: DocumentStore, aws: Any) -> None:
    store.ingest(TENANT, "alice", "Zephyr", MANUAL, doc_id="zephyr")
    assert store.retrieve(QUESTION, TENANT, "alice", top_k=1)

    assert store.delete(TENANT, "alice", "zephyr") == 7

    assert store.retrieve(QUESTION, TENANT, "alice", top_k=3, min_score=-1.0) == []
    assert store.list_documents(TENANT, "alice").items == []
    assert store.chunks(TENANT, "alice", "zephyr") == []
    left = aws.Table(store.table_name).query(
        KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": f"{TENANT}#alice"}
    )["Items"]
    assert left == []  # no metadata, no index segment
    with pytest.raises(NotFoundError):
        store.delete(TENANT, "alice", "zephyr")


def test_users_search_their_own_and_their_tenants_shared_documents_only(store: DocumentStore) -> None:
    store.ingest(TENANT, SHARED_OWNER, "Holidays", "The office is closed on Christmas Day.", doc_id="hol")
    store.ingest(TENANT, "alice", "Mine", "Alice's office key is in drawer four.", doc_id="key")
    store.ingest(TENANT, "bob", "Bob's", "Bob's office key is under the plant.", doc_id="bkey")
    store.ingest("globex", SHARED_OWNER, "Globex", "The office is closed all of December.", doc_id="g")

    alice = store.retrieve("office closed Christmas key", TENANT, "alice", top_k=10, min_score=-1.0)
    shared = store.retrieve("office closed", TENANT, SHARED_OWNER, top_k=10, min_score=-1.0)
    globex = store.retrieve("office closed", "globex", "alice", top_k=10, min_score=-1.0)

    assert sorted(p.doc_id or "" for p in alice) == ["hol", "key"]
    assert [p.doc_id for p in shared] == ["hol"]
    assert [p.doc_id for p in globex] == ["g"]
    assert store.stats(TENANT).model_dump() == {"documents": 3, "chunks": 3, "owners": 3}


def test_a_question_past_its_deadline_is_a_typed_error(store: DocumentStore) -> None:
    from orchestrator.errors import TransientError

    store.ingest(TENANT, "alice", "T", "Some text.", doc_id="t")
    with pytest.raises(TransientError):
        store.retrieve("text", TENANT, "alice", top_k=1, deadline=0.0)
