"""Given stored documents and a data source on 127.0.0.1, when retrieving, then results merge sensibly."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from pydantic import SecretStr

from orchestrator.clients.datasource import DatasourceClient
from orchestrator.clients.embeddings.embedded import EmbeddedEmbedder
from orchestrator.config import Settings
from orchestrator.container import Container
from orchestrator.errors import DatasourceError, DatasourceUnavailableError
from orchestrator.grounding import DocumentStore, Retriever, fuse
from orchestrator.state import Passage
from tests.support import FakeClock
from tests.support.aws import create_documents_table, use_fake_credentials
from tests.support.fake_agent import SEARCH, FakeAgentServer

TABLE = "retriever-docs"
TENANT = "acme"
KB = [
    {
        "id": "kb-17",
        "title": "Churn definition",
        "text": "Churn is the share of customers who cancel in a period.",
    },
    {"id": "kb-42", "title": "Cohorts", "text": "A cohort groups customers by the month they signed up."},
    {"id": "kb-99", "text": "Private note for another user about churn.", "user_id": "someone-else"},
]


def p(source_id: str, score: float = 0.0, text: str | None = None) -> Passage:
    return Passage(source_id=source_id, text=text or f"text of {source_id}", score=score)


def test_fuse_interleaves_by_rank_not_by_incomparable_scores() -> None:
    store = [p("doc#0", 0.6), p("doc#1", 0.5)]
    bm25 = [p("ds:a", 14.0), p("ds:b", 9.0)]

    assert [x.source_id for x in fuse([store, bm25], top_k=3)] == ["doc#0", "ds:a", "doc#1"]


def test_fuse_merges_duplicates_and_ranks_them_higher() -> None:
    shared = "Refunds are pro rata within 30 days."
    store = [p("doc#0", 0.4), p("doc#1", 0.3, shared)]
    source = [p("ds:x", 3.0, "  refunds are PRO RATA within 30 days. "), p("ds:y", 2.0)]

    fused = fuse([store, source], top_k=10)

    assert fused[0].source_id == "doc#1"  # found by both lists: first, under the first-seen id
    assert len(fused) == 3
    assert sum("pro rata" in x.text.lower() for x in fused) == 1


@pytest.fixture
def agent() -> Iterator[FakeAgentServer]:
    with FakeAgentServer(documents=KB) as server:
        yield server


def datasource(agent: FakeAgentServer, **kwargs: Any) -> DatasourceClient:
    options: dict[str, Any] = {
        "auth_token": SecretStr("ds-token"),
        "timeout_s": 2.0,
        "sleep": FakeClock().sleep,
    }
    options.update(kwargs)
    return DatasourceClient(agent.base_url, **options)


def test_datasource_search_sends_query_user_and_token(agent: FakeAgentServer) -> None:
    passages = datasource(agent).search(
        "what is churn for customers", top_k=5, user_id="u1", tenant_id=TENANT
    )

    assert passages[0].source_id == "datasource:kb-17"
    assert passages[0].title == "Churn definition"
    assert "datasource:kb-99" not in [x.source_id for x in passages]  # the service filtered by user
    [sent] = agent.requests_to(SEARCH)
    assert sent["json"] == {
        "query": "what is churn for customers",
        "top_k": 5,
        "user_id": "u1",
        "tenant_id": TENANT,
    }
    assert sent["headers"]["authorization"] == "Bearer ds-token"


def test_datasource_skips_malformed_items_and_rejects_malformed_bodies(agent: FakeAgentServer) -> None:
    agent.reply_next(
        {"results": [{"id": "ok", "text": "fine", "score": 1}, {"text": "no id"}, "junk"]}, path=SEARCH
    )
    agent.reply_next({"hits": []}, path=SEARCH)
    client = datasource(agent)

    passages = client.search("q", top_k=5, user_id="u", tenant_id=TENANT)
    assert [x.source_id for x in passages] == ["datasource:ok"]
    with pytest.raises(DatasourceError, match="results"):
        client.search("q", top_k=5, user_id="u", tenant_id=TENANT)


def test_datasource_errors_are_typed(agent: FakeAgentServer) -> None:
    agent.fail_next(status=403, path=SEARCH, message="bad token")
    agent.fail_next(status=503, times=3, path=SEARCH)
    client = datasource(agent, max_retries=2)

    with pytest.raises(DatasourceError, match="HTTP 403: bad token"):
        client.search("q", top_k=3, user_id="u", tenant_id=TENANT)
    with pytest.raises(DatasourceUnavailableError):
        client.search("q", top_k=3, user_id="u", tenant_id=TENANT)
    assert len(agent.requests_to(SEARCH)) == 4


@pytest.fixture
def store(monkeypatch: pytest.MonkeyPatch) -> Iterator[DocumentStore]:
    use_fake_credentials(monkeypatch)
    with mock_aws():
        resource = boto3.resource("dynamodb", region_name="us-east-1")
        create_documents_table(resource, TABLE)
        document_store = DocumentStore(TABLE, embedder=EmbeddedEmbedder(), resource=resource)
        document_store.ingest(
            TENANT,
            "u1",
            "Retention playbook",
            "To reduce churn, call customers whose usage dropped.",
            doc_id="playbook",
        )
        document_store.ingest(TENANT, "u1", "Lunch menu", "Soup and salad every Friday.", doc_id="lunch")
        # The same user name in another tenant is another user: never retrieved for TENANT's u1.
        document_store.ingest(
            "globex",
            "u1",
            "Churn memo",
            "To reduce churn, call customers whose usage dropped, says Globex.",
            doc_id="globex-memo",
        )
        yield document_store


def test_a_slow_datasource_ends_as_unavailable_by_the_callers_deadline(agent: FakeAgentServer) -> None:
    # Given a search service slower than the time the caller has left
    agent.hang_next(3.0, path=SEARCH)
    client = datasource(agent, timeout_s=10.0, budget_s=20.0)
    started = time.monotonic()

    # When the caller has 1 s left, then the search ends with the typed error by then
    with pytest.raises(DatasourceUnavailableError, match="timed out"):
        client.search("q", top_k=3, user_id="u", tenant_id=TENANT, deadline=started + 1.0)

    assert 0.9 <= time.monotonic() - started < 1.5


def test_retriever_merges_store_and_datasource_with_citable_ids(
    store: DocumentStore, agent: FakeAgentServer
) -> None:
    retriever = Retriever(store, datasource(agent), top_k=4)

    result = retriever.search("how do we reduce customer churn", TENANT, "u1")

    ids = [x.source_id for x in result.passages]
    assert "playbook#0" in ids and "datasource:kb-17" in ids
    assert "lunch#0" not in ids  # below the similarity threshold
    assert "globex-memo#0" not in ids  # another tenant's document
    [sent] = agent.requests_to(SEARCH)
    assert (sent["json"]["tenant_id"], sent["json"]["user_id"]) == (TENANT, "u1")
    assert ids.index("playbook#0") <= 1
    assert result.failed_sources == []
    assert len(ids) == len(set(ids))


def test_a_datasource_outage_degrades_to_stored_documents(
    store: DocumentStore, agent: FakeAgentServer
) -> None:
    agent.fail_next(status=503, times=3, path=SEARCH)
    retriever = Retriever(store, datasource(agent, max_retries=2))

    result = retriever.search("how do we reduce customer churn", TENANT, "u1")

    assert [x.source_id for x in result.passages] == ["playbook#0"]
    assert result.failed_sources == ["datasource"]


def test_a_datasource_rejection_fails_retrieval(store: DocumentStore, agent: FakeAgentServer) -> None:
    agent.fail_next(status=401, path=SEARCH)

    with pytest.raises(DatasourceError):
        Retriever(store, datasource(agent)).retrieve("churn", TENANT, "u1")


def test_the_container_builds_the_retriever_once_from_its_settings(agent: FakeAgentServer) -> None:
    plain = Container(Settings(_env_file=None, documents_table=TABLE, grounding_top_k=3))  # type: ignore[call-arg]
    with_source = Container(
        Settings(_env_file=None, documents_table=TABLE, datasource_base_url=agent.base_url)  # type: ignore[call-arg]
    )

    first = plain.retriever

    assert plain.retriever is first
    assert first.store.embedder is plain.embedder  # one embedder per container, shared
    assert first.datasource is None and first.top_k == 3 and first.store.table_name == TABLE
    assert with_source.retriever.datasource is not None
