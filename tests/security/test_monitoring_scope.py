"""Given AUTH_ENABLED with keys of two tenants, monitoring shows a tenant to its admins and a user
only themselves; another tenant's runs never count."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from orchestrator.local.runtime import LocalRuntime
from tests.security.keys import ACME_ADMIN, ACME_APP, GLOBEX_APP, KEYS, bearer


@pytest.fixture(scope="module")
def secured(stack: LocalRuntime) -> Iterator[TestClient]:
    from orchestrator.api import create_app
    from orchestrator.config import Settings

    settings = Settings(auth_enabled=True, api_keys=KEYS)  # type: ignore[arg-type]
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


def _metrics(client: TestClient, key: str, **params: str) -> dict[str, object]:
    response = client.get("/v1/monitoring/metrics", params=params, headers=bearer(key))
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def test_a_user_sees_themselves_and_an_admin_the_tenant_never_another(secured: TestClient) -> None:
    who = f"u-{uuid.uuid4().hex[:8]}"
    for key in (ACME_APP, GLOBEX_APP):  # the same user id in two tenants: two people
        response = secured.post(
            "/v1/chat", json={"prompt": "Explain what a mutex is.", "user_id": who}, headers=bearer(key)
        )
        assert response.status_code == 200, response.text

    refused = secured.get("/v1/monitoring/metrics", headers=bearer(ACME_APP))
    assert refused.status_code == 422  # a user names themselves; the tenant's figures are for admins

    mine = _metrics(secured, ACME_APP, user_id=who)
    assert (mine["tenant_id"], mine["user_id"], mine["requests"]) == ("acme", who, 1)
    tenant = _metrics(secured, ACME_ADMIN)
    assert tenant["tenant_id"] == "acme" and tenant["user_id"] is None
    assert _metrics(secured, ACME_ADMIN, user_id=who)["requests"] == 1  # not the globex run
    assert _metrics(secured, GLOBEX_APP, user_id=who)["requests"] == 1
