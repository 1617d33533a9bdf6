"""Given AUTH_ENABLED with API keys of two tenants, nobody reads, lists, deletes or uploads into another
user's or tenant's documents: foreign ids answer 404 like unknown ones, ``shared`` needs an admin, and
a presigned upload key names the caller's tenant whatever the request says."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from orchestrator.local.runtime import LocalRuntime
from tests.security.keys import ACME_ADMIN, ACME_APP, GLOBEX_ADMIN, GLOBEX_APP, KEYS, bearer


@pytest.fixture(scope="module")
def secured(stack: LocalRuntime) -> Iterator[TestClient]:
    from orchestrator.api import create_app
    from orchestrator.config import Settings

    settings = Settings(auth_enabled=True, api_keys=KEYS)  # type: ignore[arg-type]
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


def new_user() -> str:
    return f"iso-{uuid.uuid4().hex[:8]}"


def ingest(client: TestClient, key: str, user: str, doc_id: str) -> Any:
    body = {"user_id": user, "title": "Private", "text": f"{user} private notes.", "doc_id": doc_id}
    return client.post("/v1/documents", json=body, headers=bearer(key))


def test_another_users_document_is_404_to_read_and_to_delete(secured: TestClient) -> None:
    owner, other = new_user(), new_user()
    assert ingest(secured, ACME_APP, owner, "plan").status_code == 201

    read = secured.get("/v1/documents/plan", params={"user_id": other}, headers=bearer(ACME_APP))
    deleted = secured.delete("/v1/documents/plan", params={"user_id": other}, headers=bearer(ACME_APP))
    unknown = secured.get("/v1/documents/never-was", params={"user_id": other}, headers=bearer(ACME_APP))

    assert read.status_code == deleted.status_code == unknown.status_code == 404
    assert read.json()["error"]["message"].replace("plan", "X") == unknown.json()["error"]["message"].replace(
        "never-was", "X"
    )
    still = secured.get("/v1/documents/plan", params={"user_id": owner}, headers=bearer(ACME_APP))
    assert still.status_code == 200


def test_the_same_user_id_in_another_tenant_sees_nothing(secured: TestClient) -> None:
    user = new_user()
    ingest(secured, ACME_APP, user, "acme-doc")

    listed = secured.get("/v1/documents", params={"user_id": user}, headers=bearer(GLOBEX_APP)).json()
    read = secured.get("/v1/documents/acme-doc", params={"user_id": user}, headers=bearer(GLOBEX_ADMIN))
    deleted = secured.delete("/v1/documents/acme-doc", params={"user_id": user}, headers=bearer(GLOBEX_ADMIN))

    assert listed == {"items": [], "next_cursor": None}
    assert read.status_code == deleted.status_code == 404
    mine = secured.get("/v1/documents", params={"user_id": user}, headers=bearer(ACME_APP)).json()["items"]
    assert [d["doc_id"] for d in mine] == ["acme-doc"]


def test_a_cursor_from_another_users_listing_shows_only_the_callers_documents(secured: TestClient) -> None:
    owner, other = new_user(), new_user()
    for n in range(3):
        ingest(secured, ACME_APP, owner, f"o{n}")
    ingest(secured, ACME_APP, other, "mine")
    cursor = secured.get(
        "/v1/documents", params={"user_id": owner, "limit": 1}, headers=bearer(ACME_APP)
    ).json()["next_cursor"]

    page = secured.get(
        "/v1/documents", params={"user_id": other, "cursor": cursor}, headers=bearer(ACME_APP)
    ).json()
    forged = secured.get(
        "/v1/documents", params={"user_id": other, "cursor": "e30"}, headers=bearer(ACME_APP)
    )

    assert {d["owner"] for d in page["items"]} <= {other}
    assert forged.status_code == 422


@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [
        ("GET", "/v1/documents", {"params": {"user_id": "shared"}}),
        ("GET", "/v1/documents/any", {"params": {"user_id": "shared"}}),
        ("DELETE", "/v1/documents/any", {"params": {"user_id": "shared"}}),
        ("POST", "/v1/documents/uploads", {"json": {"user_id": "shared", "filename": "a.md"}}),
        (
            "POST",
            "/v1/documents/upload",
            {"data": {"user_id": "shared"}, "files": {"file": ("a.md", b"# Shared", "text/markdown")}},
        ),
    ],
)
def test_shared_documents_need_an_admin_on_every_route(
    secured: TestClient, method: str, path: str, kwargs: dict[str, Any]
) -> None:
    as_user = secured.request(method, path, headers=bearer(ACME_APP), **kwargs)
    as_admin = secured.request(method, path, headers=bearer(ACME_ADMIN), **kwargs)

    assert as_user.status_code == 403, as_user.text
    assert as_user.json()["error"]["code"] == "forbidden"
    assert as_admin.status_code in {200, 201, 204, 404}, as_admin.text


def test_an_upload_key_names_the_keys_tenant_whatever_the_request_says(secured: TestClient) -> None:
    user = new_user()

    acme = secured.post(
        "/v1/documents/uploads", json={"user_id": user, "filename": "a.md"}, headers=bearer(ACME_APP)
    )
    globex = secured.post(
        "/v1/documents/uploads",
        json={"user_id": user, "filename": "../../acme/x/a.md"},
        headers=bearer(GLOBEX_APP),
    )
    smuggled = secured.post(
        "/v1/documents/uploads",
        json={"user_id": user, "filename": "a.md", "tenant_id": "acme"},
        headers=bearer(GLOBEX_APP),
    )

    assert acme.json()["key"].startswith(f"uploads/acme/{user}/")
    assert globex.json()["key"].startswith(f"uploads/globex/{user}/")
    assert globex.json()["key"].count("/") == 4
    assert smuggled.status_code == 422


def test_every_documents_route_needs_a_key(secured: TestClient) -> None:
    for method, path in [
        ("GET", "/v1/documents"),
        ("GET", "/v1/documents/x"),
        ("DELETE", "/v1/documents/x"),
        ("POST", "/v1/documents/upload"),
        ("POST", "/v1/documents/uploads"),
    ]:
        response = secured.request(method, path, params={"user_id": "u"})
        assert response.status_code == 401, (method, path)
