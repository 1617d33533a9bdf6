"""Given AUTH_ENABLED with keys of two tenants, the Studio API shows nobody else's runs, progress,
passages or secrets. Each test is the attack: list or watch someone else's runs, read the
configuration without being an admin, grep the configuration for the keys it was given."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from orchestrator.local.runtime import LocalRuntime
from tests.security.keys import ACME_ADMIN, ACME_APP, GLOBEX_ADMIN, GLOBEX_APP, KEYS, bearer

SECRETS = {
    "llm_api_key": "sk-studio-llm-secret-0123456789",
    "external_agent_auth_token": "agent-token-studio-0123456789",
    "datasource_auth_token": "datasource-token-studio-012345",
    "web_search_api_key": "search-key-studio-0123456789",
}
URL_PASSWORD = "url-password-studio-0123"


@pytest.fixture(scope="module")
def secured(stack: LocalRuntime) -> Iterator[TestClient]:
    from orchestrator.api import create_app
    from orchestrator.config import Settings

    settings = Settings(
        auth_enabled=True,
        api_keys=KEYS,  # type: ignore[arg-type]
        datasource_base_url=f"http://reader:{URL_PASSWORD}@127.0.0.1:9/search?token=abc",
        web_search_api_key_secret_id=None,
        **SECRETS,  # type: ignore[arg-type]
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


def new_user() -> str:
    return f"u-{uuid.uuid4().hex[:8]}"


def chat(client: TestClient, key: str, prompt: str, user_id: str) -> str:
    response = client.post("/v1/chat", json={"prompt": prompt, "user_id": user_id}, headers=bearer(key))
    assert response.status_code == 200, response.text
    run_id: str = response.json()["run_id"]
    return run_id


def listed(client: TestClient, key: str, **params: str) -> set[str]:
    response = client.get("/v1/runs", params=params, headers=bearer(key))
    assert response.status_code == 200, response.text
    return {row["run_id"] for row in response.json()["runs"]}


def test_runs_lists_show_a_user_their_own_runs_and_an_admin_only_their_tenants(secured: TestClient) -> None:
    victim, attacker = new_user(), new_user()
    victims_run = chat(secured, ACME_APP, "Explain what a mutex is.", victim)
    attackers_run = chat(secured, ACME_APP, "Explain what a semaphore is.", attacker)
    same_name_elsewhere = chat(secured, GLOBEX_APP, "Explain what a monitor is.", victim)

    refused = secured.get("/v1/runs", headers=bearer(ACME_APP))  # "everyone's, please"
    assert refused.status_code == 422

    assert listed(secured, ACME_APP, user_id=attacker) == {attackers_run}
    assert listed(secured, GLOBEX_APP, user_id=victim) == {same_name_elsewhere}  # not acme's victim
    assert listed(secured, GLOBEX_ADMIN, limit="200").isdisjoint({victims_run, attackers_run})
    tenant = listed(secured, ACME_ADMIN, limit="200")
    assert {victims_run, attackers_run} <= tenant and same_name_elsewhere not in tenant


def test_a_run_cannot_be_watched_from_another_tenant_or_as_another_user(secured: TestClient) -> None:
    victim = new_user()
    run_id = chat(secured, ACME_APP, "Explain what a mutex is.", victim)

    other_tenant = secured.get(
        f"/v1/runs/{run_id}/events", params={"user_id": victim}, headers=bearer(GLOBEX_ADMIN)
    )
    other_user = secured.get(
        f"/v1/runs/{run_id}/events", params={"user_id": new_user()}, headers=bearer(ACME_APP)
    )
    with secured.stream(
        "GET", f"/v1/runs/{run_id}/events", params={"user_id": victim}, headers=bearer(ACME_APP)
    ) as own:
        kinds = [line.split(":", 1)[1].strip() for line in own.iter_lines() if line.startswith("event:")]

    assert other_tenant.status_code == 404 and other_user.status_code == 404
    assert other_tenant.json()["error"]["code"] == other_user.json()["error"]["code"] == "not_found"
    assert kinds[0] == "run" and kinds[-1] == "done"


def test_settings_are_for_admins_and_never_show_a_secret(secured: TestClient) -> None:
    refused = secured.get("/v1/studio/settings", headers=bearer(ACME_APP))
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "forbidden"

    response = secured.get("/v1/studio/settings", headers=bearer(ACME_ADMIN))

    assert response.status_code == 200, response.text
    text = response.text
    for secret in [*SECRETS.values(), URL_PASSWORD, ACME_ADMIN, ACME_APP, GLOBEX_APP, GLOBEX_ADMIN]:
        assert secret not in text
    assert "token=abc" not in text
    shown = response.json()["settings"]
    assert shown["llm_api_key"] == shown["api_keys"] == "••••"
    assert shown["datasource_base_url"] == "http://127.0.0.1:9/search"
    assert shown["llm_max_tokens"] == 1024  # a size, not a secret: shown
    assert shown["web_search_api_key_secret_id"] is None  # unset secrets say so


def test_a_user_token_lists_only_its_own_runs(stack: LocalRuntime) -> None:
    from mangum import Mangum

    from orchestrator.api import create_app
    from orchestrator.config import Settings

    api = Mangum(create_app(Settings(auth_enabled=True)), lifespan="off")
    claims = {"sub": "ada-1", "custom:tenant_id": "initech", "custom:role": "user"}

    other = api(_get_event("/v1/runs", "user_id=bob-2", claims), None)
    own = api(_get_event("/v1/runs", "", claims), None)
    settings = api(_get_event("/v1/studio/settings", "", claims), None)

    assert other["statusCode"] == 403, other["body"]
    assert own["statusCode"] == 200, own["body"]
    assert all(row["user_id"] == "ada-1" for row in json.loads(own["body"])["runs"])
    assert settings["statusCode"] == 403


def test_document_search_never_reaches_another_tenants_passages(secured: TestClient) -> None:
    owner = new_user()
    stored = secured.post(
        "/v1/documents",
        json={
            "user_id": owner,
            "title": "Acme secrets",
            "text": "The vault code of the Acme office is 4711.",
        },
        headers=bearer(ACME_APP),
    )
    assert stored.status_code == 201, stored.text
    query = {"query": "What is the vault code?", "user_id": owner}

    mine = secured.post("/v1/documents/search", json=query, headers=bearer(ACME_APP))
    theirs = secured.post("/v1/documents/search", json=query, headers=bearer(GLOBEX_APP))

    assert mine.status_code == theirs.status_code == 200
    assert "4711" in mine.text and "4711" not in theirs.text and theirs.json()["passages"] == []


def _get_event(path: str, query: str, claims: dict[str, Any]) -> dict[str, Any]:
    """An HTTP API v2 GET as API Gateway sends it after its JWT authorizer accepted the token."""
    event: dict[str, Any] = json.loads((Path(__file__).parents[2] / "events" / "api_chat.json").read_text())
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event["requestContext"]["http"]["method"] = "GET"
    event["rawQueryString"] = query
    event["queryStringParameters"] = dict(p.split("=", 1) for p in query.split("&")) if query else None
    event["body"] = None
    event["isBase64Encoded"] = False
    for header in ("content-length", "content-type"):
        event["headers"].pop(header, None)
    event["requestContext"]["authorizer"] = {"jwt": {"claims": claims, "scopes": None}}
    return event
