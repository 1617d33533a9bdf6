"""Given documents in a (moto) DynamoDB table, when queried, then the right passages come back first."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import numpy as np
import numpy.typing as npt
import pytest
from moto import mock_aws

from orchestrator.clients.embeddings.base import Embedder
from orchestrator.clients.embeddings.embedded import EmbeddedEmbedder
from orchestrator.config import Settings
from orchestrator.errors import NotFoundError, ValidationError
from orchestrator.grounding import SHARED_OWNER, DocumentStore
from tests.support.aws import create_documents_table, use_fake_credentials

TENANT = "acme"

DOCS = {
    "refund-policy": (
        "Refund policy",
        "Annual plans can be refunded pro rata within 30 days of renewal. "
        "Monthly plans are not refundable, but you can cancel at any time before the next billing date.",
    ),
    "support-hours": (
        "Support hours",
        "The support desk is open Monday to Friday from 9am to 5pm Central European Time. "
        "Outside these hours, critical outages are handled by the on-call engineer via the pager.",
    ),
    "vpn-setup": (
        "VPN setup",
        "To connect to the company network from home, install the WireGuard client and import the "
        "configuration file from the IT portal. Keys are rotated every 90 days.",
    ),
    "travel-expenses": (
        "Travel expenses",
        "Book economy flights for trips under six hours. Hotels are reimbursed up to 150 euros per night. "
        "Submit receipts in the expense tool within 14 days of returning.",
    ),
}

QUERIES = [
    ("Can I get a refund on my annual plan?", "refund-policy"),
    ("When is the support desk open?", "support-hours"),
    ("How do I connect to the VPN from home?", "vpn-setup"),
    ("How much can I spend on a hotel when travelling?", "travel-expenses"),
]


@pytest.fixture(scope="module")
def embedder() -> EmbeddedEmbedder:
    return EmbeddedEmbedder()


@pytest.fixture(scope="module")
def aws() -> Iterator[Any]:
    # One moto per module (starting it costs ~0.2 s); each test gets its own table instead.
    with pytest.MonkeyPatch.context() as env:
        use_fake_credentials(env)
        with mock_aws():
            yield boto3.resource("dynamodb", region_name="us-east-1")


@pytest.fixture
def table_name(aws: Any) -> str:
    name = f"documents-{uuid.uuid4().hex[:8]}"
    create_documents_table(aws, name)
    return name


@pytest.fixture
def store(aws: Any, table_name: str, embedder: EmbeddedEmbedder) -> DocumentStore:
    return DocumentStore(table_name, embedder=embedder, resource=aws, chunk_chars=300, chunk_overlap=60)


def ingest_all(store: DocumentStore, owner: str) -> None:
    for doc_id, (title, text) in DOCS.items():
        store.ingest(TENANT, owner, title, text, doc_id=f"{owner}-{doc_id}")


@pytest.mark.parametrize(("query", "expected"), QUERIES)
def test_the_right_passage_comes_first(store: DocumentStore, query: str, expected: str) -> None:
    ingest_all(store, "alice")

    passages = store.retrieve(query, TENANT, "alice", top_k=3)

    assert passages, query
    assert passages[0].source_id.startswith(f"alice-{expected}#"), [p.source_id for p in passages]
    assert passages[0].title == DOCS[expected][0]
    assert passages[0].text in DOCS[expected][1] or DOCS[expected][1].startswith(passages[0].text[:40])
    assert [p.score for p in passages] == sorted((p.score for p in passages), reverse=True)


def test_another_users_documents_are_never_returned(store: DocumentStore) -> None:
    ingest_all(store, "alice")
    store.ingest(
        TENANT,
        "bob",
        "Bob's refund notes",
        "Refunds for annual plans: ask Bob in finance.",
        doc_id="bob-notes",
    )

    for query, _ in QUERIES:
        passages = store.retrieve(query, TENANT, "alice", top_k=10)
        assert all(p.source_id.startswith("alice-") for p in passages)
    bobs = store.retrieve("annual plan refund", TENANT, "bob", top_k=10)
    assert [p.source_id for p in bobs] == ["bob-notes#0"]
    assert store.retrieve("annual plan refund", TENANT, "carol", top_k=10) == []


def test_shared_documents_are_visible_to_every_user(store: DocumentStore) -> None:
    store.ingest(
        TENANT,
        SHARED_OWNER,
        "Holiday calendar",
        "The office is closed on the first of May and on Christmas Day.",
    )

    for user in ("alice", "bob"):
        passages = store.retrieve("Is the office closed on Christmas?", TENANT, user, top_k=2)
        assert passages and passages[0].title == "Holiday calendar"


def test_another_tenants_shared_documents_are_never_returned(store: DocumentStore) -> None:
    store.ingest(
        "globex",
        SHARED_OWNER,
        "Holiday calendar",
        "The office is closed on the first of May and on Christmas Day.",
        doc_id="holidays",
    )

    assert store.retrieve("Is the office closed on Christmas?", TENANT, "alice", top_k=5) == []
    assert store.retrieve("Is the office closed on Christmas?", TENANT, SHARED_OWNER, top_k=5) == []
    assert store.retrieve("Is the office closed on Christmas?", "globex", "alice", top_k=5)


def test_unrelated_questions_fall_below_the_score_threshold(store: DocumentStore) -> None:
    ingest_all(store, "alice")

    question = "What is the capital of France?"
    assert store.retrieve(question, TENANT, "alice", top_k=4, min_score=0.3) == []
    assert len(store.retrieve(question, TENANT, "alice", top_k=4, min_score=-1.0)) == 4


HANDBOOK = [
    "Welcome to Northwind. This handbook explains how we work, what we expect from each other and where "
    "to find help. Read it in your first week and come back to it whenever you are unsure.",
    "Working hours are flexible between 7am and 7pm, with core hours from 10am to 3pm when everyone should "
    "be reachable. Remote work is allowed up to three days a week; agree the days with your manager.",
    "Parking permits are issued by the facilities team on level two. Bring your badge and your car "
    "registration. Bicycle racks are in the basement and need no permit.",
    "Annual leave is 27 days plus public holidays. Request leave in the HR portal at least two weeks ahead "
    "for anything longer than three days. Unused leave of up to five days carries over to the next year.",
    "Security: lock your screen when you leave your desk, never share passwords, and report phishing "
    "emails to security@northwind.example. Laptops are encrypted and must not be left in cars.",
    "The cafeteria on level one serves breakfast from 8am and lunch from noon to 2pm. Vegetarian and vegan "
    "options are available every day, and the menu is posted on the intranet each Monday.",
]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Who issues parking permits?", "Parking permits are issued"),
        ("How many days of annual leave do I get?", "Annual leave is 27 days"),
        ("Where do I report a phishing email?", "report phishing"),
        ("When is lunch served?", "lunch from noon"),
    ],
)
def test_a_long_document_is_chunked_and_the_relevant_chunk_wins(
    store: DocumentStore, query: str, expected: str
) -> None:
    result = store.ingest(TENANT, "alice", "Employee handbook", "\n\n".join(HANDBOOK), doc_id="handbook")

    passages = store.retrieve(query, TENANT, "alice", top_k=2)

    assert result.chunks >= 4
    assert passages[0].source_id.startswith("handbook#")
    assert expected in passages[0].text, [p.text[:60] for p in passages]
    assert len(passages[0].text) <= 300


def test_reingesting_replaces_the_document_and_drops_stale_chunks(store: DocumentStore) -> None:
    long_text = " ".join(f"Sentence {i} of the first version of the policy." for i in range(40))
    first = store.ingest(TENANT, "alice", "Policy", long_text, doc_id="policy")

    second = store.ingest(
        TENANT, "alice", "Policy", "The second version is one sentence long.", doc_id="policy"
    )

    assert first.chunks > 1 and second.chunks == 1
    assert store.stats(TENANT, "alice").chunks == 1
    passages = store.retrieve("second version policy", TENANT, "alice", top_k=5)
    assert [p.text for p in passages] == ["The second version is one sentence long."]


def test_a_doc_id_of_another_owner_cannot_be_overwritten(store: DocumentStore, aws: Any) -> None:
    store.ingest(TENANT, "alice", "Mine", "Alice's private note about the roadmap.", doc_id="note")

    result = store.ingest(TENANT, "mallory", "Mine", "Overwritten!", doc_id="note")

    # The same public id makes mallory's own document; alice's chunks are untouched.
    assert (result.doc_id, result.owner, result.replaced) == ("note", "mallory", False)
    alices = store.retrieve("roadmap note", TENANT, "alice", top_k=5)
    assert [(p.source_id, p.text) for p in alices] == [("note#0", "Alice's private note about the roadmap.")]
    mallorys = store.retrieve("Overwritten", TENANT, "mallory", top_k=5, min_score=-1.0)
    assert [(p.source_id, p.text) for p in mallorys] == [("note#0", "Overwritten!")]
    stored = aws.Table(store.table_name).scan()["Items"]
    documents = [i for i in stored if str(i["sk"]).startswith("doc#")]
    assert sorted((i["pk"], i["doc_id"], i["tenant_id"], i["owner"]) for i in documents) == [
        ("acme#alice", "note", TENANT, "alice"),
        ("acme#mallory", "note", TENANT, "mallory"),
    ]
    chunks = sorted(str(i["pk"]) for i in stored if str(i["sk"]).isdigit())
    assert chunks == ["acme#alice#note", "acme#mallory#note"]


def test_the_same_owner_and_doc_id_in_two_tenants_never_meet(store: DocumentStore) -> None:
    store.ingest("acme", "alice", "Plan", "Acme's roadmap: ship the rocket skates in spring.", doc_id="plan")
    store.ingest("globex", "alice", "Plan", "Globex's roadmap: build the doomsday device.", doc_id="plan")

    acme = store.retrieve("roadmap", "acme", "alice", top_k=5, min_score=-1.0)
    globex = store.retrieve("roadmap", "globex", "alice", top_k=5, min_score=-1.0)

    assert [(p.source_id, p.text) for p in acme] == [
        ("plan#0", "Acme's roadmap: ship the rocket skates in spring.")
    ]
    assert [(p.source_id, p.text) for p in globex] == [
        ("plan#0", "Globex's roadmap: build the doomsday device.")
    ]
    assert store.stats("acme").model_dump() == {"documents": 1, "chunks": 1, "owners": 1}
    assert store.delete("globex", "alice", "plan") == 1
    assert [p.text for p in store.retrieve("roadmap", "acme", "alice", top_k=5, min_score=-1.0)] == [
        "Acme's roadmap: ship the rocket skates in spring."
    ]
    assert store.stats("globex").chunks == 0


def test_ingest_without_doc_id_is_idempotent(store: DocumentStore) -> None:
    first = store.ingest(TENANT, "alice", "Note", "Same text twice.")
    second = store.ingest(TENANT, "alice", "Note", "Same text twice.")

    assert first.doc_id == second.doc_id and first.doc_id.startswith("doc-")
    assert store.stats(TENANT).chunks == 1


def test_stats_and_delete(store: DocumentStore) -> None:
    ingest_all(store, "alice")
    store.ingest(TENANT, "bob", "B", "Bob's only document.", doc_id="bob-doc")
    store.ingest("globex", "bob", "B", "Another tenant's document.", doc_id="bob-doc")

    assert store.stats(TENANT).model_dump() == {"documents": 5, "chunks": 5, "owners": 2}
    assert store.stats(TENANT, "alice").documents == 4
    with pytest.raises(NotFoundError):
        store.delete(TENANT, "alice", "bob-doc")  # not yours: looks like it does not exist
    with pytest.raises(NotFoundError):
        store.delete("initech", "bob", "bob-doc")  # another tenant's bob: same
    assert store.delete(TENANT, "bob", "bob-doc") == 1
    with pytest.raises(NotFoundError):
        store.delete(TENANT, "bob", "bob-doc")
    assert store.stats(TENANT).documents == 4
    assert store.stats("globex").model_dump() == {"documents": 1, "chunks": 1, "owners": 1}


@pytest.mark.parametrize(
    ("text", "doc_id", "match"),
    [
        ("x" * 5_001, None, "limit is 5000"),
        ("word. " * 800, None, "chunks; the limit is 10"),
        ("   ", None, "no text"),
        ("fine", "../etc/passwd", "doc_id"),
    ],
)
def test_ingest_limits(
    aws: Any, table_name: str, embedder: EmbeddedEmbedder, text: str, doc_id: str | None, match: str
) -> None:
    store = DocumentStore(
        table_name, embedder=embedder, resource=aws, chunk_chars=300, max_chars=5_000, max_chunks=10
    )

    with pytest.raises(ValidationError, match=match):
        store.ingest(TENANT, "alice", "T", text, doc_id=doc_id)

    assert store.stats(TENANT).chunks == 0


class OtherModel(Embedder):
    """Another embedding model: its vectors live in another space (and size)."""

    name = "openai:text-embedding-3-small"
    dim = 8

    def embed(self, texts: list[str], *, deadline: float | None = None) -> npt.NDArray[np.float32]:
        return np.ones((len(texts), self.dim), dtype=np.float32) / np.sqrt(self.dim)


def test_chunks_from_a_different_embedder_are_skipped(store: DocumentStore, aws: Any) -> None:
    store.ingest(TENANT, "alice", "Refund policy", DOCS["refund-policy"][1], doc_id="refund")
    legacy = DocumentStore(store.table_name, embedder=OtherModel(), resource=aws)
    legacy.ingest(TENANT, "alice", "Legacy", "Refund policy from an old model.", doc_id="legacy")

    passages = store.retrieve("refund policy", TENANT, "alice", top_k=5)

    assert [p.source_id for p in passages] == ["refund#0"]


def test_from_settings_reads_the_table_and_limits(
    aws: Any, table_name: str, embedder: EmbeddedEmbedder
) -> None:
    settings = Settings(
        _env_file=None, documents_table=table_name, documents_max_chars=10, grounding_min_score=0.5
    )

    store = DocumentStore.from_settings(settings, embedder=embedder, resource=aws)

    assert (store.table_name, store.max_chars, store.search.min_score) == (table_name, 10, 0.5)
    with pytest.raises(ValidationError):
        store.ingest(TENANT, "alice", "T", "more than ten characters")
