"""Given the local stack (moto S3 with the template's bucket and its ObjectCreated notification), a
presigned upload becomes the owner's document and its object is deleted; the key names the owner,
and nothing a client sends can move it to another tenant's or user's prefix."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import requests
from fastapi.testclient import TestClient

from orchestrator.errors import ValidationError
from orchestrator.grounding.uploads import UploadTarget, handle_event, safe_filename
from orchestrator.local.runtime import LocalRuntime
from orchestrator.local.server import local_stack
from tests.support.documents import make_pdf

ZEPHYR = "The Zephyr-9 launch authorization code is 4471-delta."


@pytest.fixture(scope="module")
def runtime() -> Iterator[LocalRuntime]:
    with local_stack() as stack:
        yield stack


@pytest.fixture(scope="module")
def client(runtime: LocalRuntime) -> Iterator[TestClient]:
    from orchestrator.api import create_app

    with TestClient(create_app(), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def s3(runtime: LocalRuntime) -> Any:
    return boto3.client("s3", region_name="us-east-1")


def bucket(runtime: LocalRuntime) -> str:
    return runtime.physical_id("DocumentUploadsBucket")


def post_form(form: dict[str, Any], filename: str, data: bytes, content_type: str) -> requests.Response:
    """What a browser or curl does with the form (moto answers S3's endpoint in this process)."""
    return requests.post(
        form["url"], data=form["fields"], files={"file": (filename, data, content_type)}, timeout=30
    )


def test_a_presigned_upload_is_ingested_listed_and_its_object_deleted(
    runtime: LocalRuntime, client: TestClient, s3: Any
) -> None:
    form = client.post(
        "/v1/documents/uploads", json={"user_id": "ada", "filename": "Zephyr manual.pdf"}
    ).json()

    posted = post_form(
        form, "Zephyr manual.pdf", make_pdf([ZEPHYR], title="Zephyr-9 Manual"), "application/pdf"
    )

    assert posted.status_code == 204, posted.text
    assert form["key"] == f"uploads/default/ada/{form['doc_id']}/Zephyr_manual.pdf"
    listed = client.get("/v1/documents", params={"user_id": "ada"}).json()["items"]
    (document,) = [d for d in listed if d["doc_id"] == form["doc_id"]]
    assert document["content_type"] == "application/pdf"
    assert document["title"] == "Zephyr-9 Manual"
    assert document["source"] == f"s3://{bucket(runtime)}/{form['key']}"
    assert s3.list_objects_v2(Bucket=bucket(runtime), Prefix="uploads/").get("KeyCount") == 0


def test_the_form_pins_key_type_and_size(client: TestClient, runtime: LocalRuntime) -> None:
    form = client.post(
        "/v1/documents/uploads",
        json={"user_id": "ada", "filename": "notes.md", "title": "Notes", "doc_id": "notes-1"},
    ).json()

    policy = json.loads(base64.b64decode(form["fields"]["policy"]))
    conditions = policy["conditions"]
    assert {"key": "uploads/default/ada/notes-1/notes.md"} in conditions
    assert {"bucket": bucket(runtime)} in conditions
    assert ["content-length-range", 1, form["max_bytes"]] in conditions
    assert {"Content-Type": "text/markdown"} in conditions
    assert form["fields"]["x-amz-algorithm"] == "AWS4-HMAC-SHA256"


@pytest.mark.parametrize(
    "filename", ["../../globex/bob/x/evil.md", "..\\..\\globex\\evil.md", "a/b/c.md", "%2e%2e%2fglobex.md"]
)
def test_a_file_name_cannot_move_the_key_to_another_prefix(client: TestClient, filename: str) -> None:
    form = client.post("/v1/documents/uploads", json={"user_id": "ada", "filename": filename}).json()

    tenant, owner, doc_id, name = form["key"].split("/")[1:]
    assert (tenant, owner, doc_id) == ("default", "ada", form["doc_id"])
    assert "/" not in name and ".." not in name and not name.startswith(".")


@pytest.mark.parametrize(
    "body",
    [
        {"user_id": "ada", "filename": "x.md", "doc_id": "a/b"},
        {"user_id": "../globex", "filename": "x.md"},
        {"user_id": "ada", "filename": "x.md", "tenant_id": "globex"},  # not a field: refused
    ],
)
def test_ids_that_could_shift_the_key_are_refused(client: TestClient, body: dict[str, Any]) -> None:
    assert client.post("/v1/documents/uploads", json=body).status_code == 422


def test_an_unsupported_type_gets_no_form(client: TestClient) -> None:
    response = client.post(
        "/v1/documents/uploads", json={"user_id": "ada", "filename": "photo.png", "content_type": "image/png"}
    )

    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"


def test_keys_outside_the_layout_name_no_target() -> None:
    for key in (
        "uploads/t/u/d",
        "other/t/u/d/f.md",
        "uploads/t/u/d/e/f.md",
        "uploads/t/../d/f.md",
        "uploads/t/u/d/.f",
    ):
        with pytest.raises(ValidationError):
            UploadTarget.from_key(key)
    assert UploadTarget.from_key("uploads/t/u/d/f.md") == UploadTarget("t", "u", "d", "f.md")
    assert safe_filename("C:\\Users\\ada\\My Report (final).PDF") == "My_Report_final_.PDF"


def _without_notifications(runtime: LocalRuntime, s3: Any) -> dict[str, Any]:
    name = bucket(runtime)
    saved = s3.get_bucket_notification_configuration(Bucket=name)
    saved.pop("ResponseMetadata", None)
    s3.put_bucket_notification_configuration(Bucket=name, NotificationConfiguration={})
    return saved


def test_the_handler_ingests_an_s3_event_with_the_uploaders_title(runtime: LocalRuntime, s3: Any) -> None:
    from orchestrator.container import current

    saved = _without_notifications(runtime, s3)
    key = "uploads/default/grace/page-1/page.html"
    try:
        s3.put_object(
            Bucket=bucket(runtime),
            Key=key,
            Body=f"<html><title>Page</title><body><p>{ZEPHYR}</p></body></html>".encode(),
            ContentType="text/html",
            Metadata={"title": "Launch%20codes%20%E2%9C%93"},
        )
        event = {
            "Records": [
                {
                    "eventName": "ObjectCreated:Put",
                    "s3": {"bucket": {"name": bucket(runtime)}, "object": {"key": key}},
                }
            ]
        }

        result = handle_event(event, current().document_uploads, current().retriever.store)
        again = handle_event(event, current().document_uploads, current().retriever.store)  # redelivered
    finally:
        s3.put_bucket_notification_configuration(Bucket=bucket(runtime), NotificationConfiguration=saved)

    assert result == {"ingested": [{"doc_id": "page-1", "owner": "grace", "chunks": 1}], "skipped": []}
    assert again == {"ingested": [], "skipped": [key]}
    document = current().retriever.store.get_document("default", "grace", "page-1")
    assert document.title == "Launch codes ✓" and document.content_type == "text/html"


def test_an_unreadable_upload_is_dropped_not_retried_forever(
    runtime: LocalRuntime, client: TestClient, s3: Any
) -> None:
    form = client.post("/v1/documents/uploads", json={"user_id": "ada", "filename": "broken.pdf"}).json()

    posted = post_form(form, "broken.pdf", b"%PDF-1.4 this is not really a pdf", "application/pdf")

    assert posted.status_code == 204
    assert client.get(f"/v1/documents/{form['doc_id']}", params={"user_id": "ada"}).status_code == 404
    assert s3.list_objects_v2(Bucket=bucket(runtime), Prefix=form["key"]).get("KeyCount") == 0
