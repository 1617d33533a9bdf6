"""Given the local stack, a user's documents can be ingested (JSON or file), listed a page at a time,
read and deleted; bad files are refused with the API's JSON error body (413, 415, 422), never a 500."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from orchestrator.local.runtime import LocalRuntime
from tests.support.documents import make_pdf

ZEPHYR = "The Zephyr-9 launch authorization code is 4471-delta."


def new_user() -> str:
    return f"docs-{uuid.uuid4().hex[:8]}"


def upload(client: TestClient, user: str, name: str, data: bytes, content_type: str, **form: str) -> Any:
    return client.post(
        "/v1/documents/upload", files={"file": (name, data, content_type)}, data={"user_id": user, **form}
    )


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == code and error["message"]
    return error


def test_documents_are_listed_a_page_at_a_time(client: TestClient) -> None:
    user = new_user()
    for n in range(5):
        body = {"user_id": user, "title": f"Doc {n}", "text": f"Document number {n}.", "doc_id": f"d{n}"}
        assert client.post("/v1/documents", json=body).status_code == 201

    seen: list[str] = []
    cursor = None
    for _ in range(5):
        params: dict[str, Any] = {"user_id": user, "limit": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get("/v1/documents", params=params).json()
        seen += [item["doc_id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break

    assert sorted(seen) == [f"d{n}" for n in range(5)]
    assert client.get("/v1/documents", params={"user_id": new_user()}).json() == {
        "items": [],
        "next_cursor": None,
    }


def test_a_document_is_read_and_deleted_with_its_chunks(client: TestClient) -> None:
    user = new_user()
    client.post(
        "/v1/documents", json={"user_id": user, "title": "Zephyr", "text": ZEPHYR, "doc_id": "zephyr"}
    )

    document = client.get("/v1/documents/zephyr", params={"user_id": user}).json()
    deleted = client.delete("/v1/documents/zephyr", params={"user_id": user})

    assert document["title"] == "Zephyr" and document["chars"] == len(ZEPHYR) and document["chunks"] == 1
    assert document["content_type"] == "text/plain"
    assert deleted.status_code == 204 and deleted.content == b""
    assert_error(client.get("/v1/documents/zephyr", params={"user_id": user}), 404, "not_found")
    assert_error(client.delete("/v1/documents/zephyr", params={"user_id": user}), 404, "not_found")
    assert client.get("/v1/documents", params={"user_id": user}).json()["items"] == []


PAGE = f"<html><head><title>Launch page</title></head><body><nav>Menu</nav><p>{ZEPHYR}</p></body></html>"


@pytest.mark.parametrize(
    ("name", "data", "content_type", "kind", "title"),
    [
        ("notes.txt", ZEPHYR.encode(), "text/plain", "text/plain", "notes"),
        (
            "zephyr.md",
            f"# Zephyr-9\n\n{ZEPHYR}".encode(),
            "application/octet-stream",
            "text/markdown",
            "Zephyr-9",
        ),
        ("launch.html", PAGE.encode(), "text/html", "text/html", "Launch page"),
        (
            "manual.pdf",
            make_pdf([ZEPHYR], title="Zephyr Manual"),
            "application/pdf",
            "application/pdf",
            "Zephyr Manual",
        ),
    ],
)
def test_files_are_uploaded_as_their_kind_with_their_own_title(
    client: TestClient, name: str, data: bytes, content_type: str, kind: str, title: str
) -> None:
    user = new_user()

    created = upload(client, user, name, data, content_type)

    assert created.status_code == 201, created.text
    doc_id = created.json()["doc_id"]
    document = client.get(f"/v1/documents/{doc_id}", params={"user_id": user}).json()
    assert (document["content_type"], document["title"], document["source"]) == (kind, title, name)
    assert document["chars"] >= len(ZEPHYR)


def test_an_uploaded_file_is_retrievable_by_a_rag_question(client: TestClient) -> None:
    user = new_user()
    upload(
        client, user, "manual.pdf", make_pdf(["Boilerplate page.", ZEPHYR]), "application/pdf", title="Manual"
    )

    response = client.post(
        "/v1/chat",
        json={
            "prompt": "According to my documents, what is the Zephyr-9 launch authorization code?",
            "user_id": user,
        },
    )

    assert response.status_code == 200, response.text
    assert "4471-delta" in response.text


def test_a_caller_title_and_id_win_and_reuploading_replaces(client: TestClient) -> None:
    user = new_user()
    first = upload(client, user, "a.md", b"# Old\n\nold text", "text/markdown", title="Mine", doc_id="same")
    second = upload(
        client, user, "b.md", b"# New\n\nnew text", "text/markdown", title="Mine v2", doc_id="same"
    )

    assert first.status_code == second.status_code == 201
    items = client.get("/v1/documents", params={"user_id": user}).json()["items"]
    assert [(d["doc_id"], d["title"]) for d in items] == [("same", "Mine v2")]


def test_unsupported_files_are_415(client: TestClient) -> None:
    response = upload(client, new_user(), "photo.png", b"\x89PNG\r\n\x1a\n\x00\x00", "image/png")

    error = assert_error(response, 415, "unsupported_media_type")
    assert "application/pdf" in error["message"]


@pytest.mark.parametrize(
    "data",
    [b"%PDF-1.4 not a pdf at all", make_pdf(["x"], password="pw"), make_pdf([""])],
    ids=["broken", "encrypted", "scan"],
)
def test_unreadable_pdfs_are_422_with_a_reason(client: TestClient, data: bytes) -> None:
    error = assert_error(
        upload(client, new_user(), "x.pdf", data, "application/pdf"), 422, "unparseable_document"
    )

    assert "PDF" in error["message"]


def test_a_file_without_a_user_is_422(client: TestClient) -> None:
    response = client.post("/v1/documents/upload", files={"file": ("a.txt", b"text", "text/plain")})

    assert_error(response, 422, "invalid_request")


@pytest.fixture(scope="module")
def small_caps(stack: LocalRuntime) -> Iterator[TestClient]:
    """The same stack's API with a 2,000-byte direct upload cap."""
    from orchestrator.api import create_app
    from orchestrator.config import Settings

    settings = Settings(documents_direct_upload_max_bytes=2_000)
    with TestClient(create_app(settings), raise_server_exceptions=False) as test_client:
        yield test_client


def test_a_body_over_the_upload_cap_is_413_before_it_is_read(small_caps: TestClient) -> None:
    response = upload(small_caps, new_user(), "big.txt", b"x" * 40_000, "text/plain")

    assert_error(response, 413, "payload_too_large")


def test_a_file_over_the_cap_inside_the_envelope_is_413_too(small_caps: TestClient) -> None:
    error = assert_error(
        upload(small_caps, new_user(), "big.txt", b"x" * 3_000, "text/plain"), 413, "payload_too_large"
    )

    assert "/v1/documents/uploads" in error["message"]


def test_the_documents_json_cap_still_applies_to_json_ingestion_only(small_caps: TestClient) -> None:
    # 2 KB is the file cap; a JSON document keeps its own (larger) cap.
    body = {"user_id": new_user(), "title": "t", "text": "y" * 5_000}

    assert small_caps.post("/v1/documents", json=body).status_code == 201


def test_direct_uploads_without_a_bucket_are_a_configuration_error(stack: LocalRuntime) -> None:
    from orchestrator.api import create_app
    from orchestrator.config import Settings

    settings = Settings(document_uploads_bucket=None)  # init arguments beat the stack's environment
    with TestClient(create_app(settings), raise_server_exceptions=False) as test_client:
        response = test_client.post("/v1/documents/uploads", json={"user_id": "u1", "filename": "a.md"})

    assert_error(response, 500, "configuration_error")
