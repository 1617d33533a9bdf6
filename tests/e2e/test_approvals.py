"""Given a tool marked ``requires_approval`` (a config-file HTTP tool calling a server on 127.0.0.1),
an asynchronous run pauses on the real ASL's task token until a person approves or rejects it,
or the wait times out; a chat turn hands over to such a run; nobody else can decide for it.

The model is an OpenAI-compatible server on 127.0.0.1 that picks the tool when asked to select
tools, and repeats the tool results when asked to answer. The tool's server records every call,
so each test can tell whether, and when, the action really happened.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi.testclient import TestClient

from orchestrator.local.runtime import LocalRuntime
from tests.e2e.conftest import reconfigured
from tests.security.keys import ACME_ADMIN, ACME_APP, GLOBEX_ADMIN, KEYS, bearer
from tests.support.fake_openai import CHAT, FakeOpenAIServer, ScriptedReply, completion

SELECTOR_CUE = "Decide which tools to call"


class DeployServer:
    """The system the approved action changes: answers ``POST /deploy`` and remembers each call."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                server.calls.append(body)
                payload = json.dumps({"deployed": body.get("version"), "ticket": "DEP-4242"}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self._http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._http.daemon_threads = True
        self.port = self._http.server_address[1]
        threading.Thread(target=self._http.serve_forever, args=(0.02,), daemon=True).start()

    def versions(self) -> list[str]:
        return [str(call.get("version")) for call in self.calls]

    def close(self) -> None:
        self._http.shutdown()
        self._http.server_close()


def model_reply(path: str, body: dict[str, Any]) -> ScriptedReply | None:
    """Select ``deploy_service`` for "deploy ... version N"; answer with the tool results."""
    if path != CHAT:
        return None
    messages = body.get("messages") or []
    system = str(messages[0].get("content") or "") if messages else ""
    last = str(messages[-1].get("content") or "") if messages else ""
    if system.startswith(SELECTOR_CUE):
        version = re.search(r"version (\w+)", last)
        call = {
            "id": "call_deploy",
            "type": "function",
            "function": {
                "name": "deploy_service",
                "arguments": json.dumps({"version": version[1] if version else "?"}),
            },
        }
        return ScriptedReply(body=lambda req: completion(req, text=None, tool_calls=[call]))
    results = last.split("Tool results:", 1)
    text = f"Done. {results[1].strip()}" if len(results) == 2 else "No tool ran."
    return ScriptedReply(body=lambda req: completion(req, text=text))


@pytest.fixture(scope="module")
def deploy_server() -> Iterator[DeployServer]:
    server = DeployServer()
    yield server
    server.close()


@pytest.fixture(scope="module")
def approvals_configured(
    stack: LocalRuntime, deploy_server: DeployServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[None]:
    tools_file = tmp_path_factory.mktemp("approval-tools") / "tools.json"
    tools_file.write_text(
        json.dumps(
            [
                {
                    "name": "deploy_service",
                    "description": "Deploys a version of the billing service to production.",
                    "parameters": {
                        "type": "object",
                        "properties": {"version": {"type": "string"}},
                        "required": ["version"],
                    },
                    "kind": "http",
                    "http": {"url": f"http://127.0.0.1:{deploy_server.port}/deploy", "method": "POST"},
                    "requires_approval": True,
                }
            ]
        )
    )
    with FakeOpenAIServer(models=["gpt-test"]) as model:
        model.responder = model_reply
        with reconfigured(
            LLM_PROVIDER="openai",
            LLM_BASE_URL=model.url,
            LLM_DEFAULT_MODEL="gpt-test",
            LLM_API_KEY="sk-approvals",
            LLM_MAX_RETRIES="0",
            TOOLS_CONFIG_PATH=str(tools_file),
            HTTP_TOOL_ALLOWED_HOSTS=f"127.0.0.1:{deploy_server.port}",
            APPROVAL_TIMEOUT_S="60",
        ):
            yield


@pytest.fixture(scope="module")
def secured(approvals_configured: None) -> Iterator[TestClient]:
    """The same stack's API with authentication on: two tenants' keys (tests/security/keys.py)."""
    from orchestrator.api import create_app
    from orchestrator.config import Settings

    with TestClient(
        create_app(Settings(auth_enabled=True, api_keys=KEYS)), raise_server_exceptions=False
    ) as api:  # type: ignore[arg-type]
        yield api


def until(check: Callable[[], Any], what: str, timeout_s: float = 30) -> Any:
    deadline = time.monotonic() + timeout_s
    while not (value := check()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)
    return value


def run_status(api: TestClient, run_id: str, user: str, key: str | None = None) -> dict[str, Any]:
    headers = bearer(key) if key else {}
    response = api.get(f"/v1/runs/{run_id}", params={"user_id": user}, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def waiting_run(api: TestClient, prompt: str, user: str, key: str | None = None) -> dict[str, Any]:
    """Start a run and wait until it waits for approval; its record."""
    headers = bearer(key) if key else {}
    accepted = api.post("/v1/runs", json={"prompt": prompt, "user_id": user}, headers=headers)
    assert accepted.status_code == 202, accepted.text
    run_id = accepted.json()["run_id"]
    return dict(
        until(
            lambda: (r := run_status(api, run_id, user, key))["status"] == "WAITING_FOR_APPROVAL" and r,
            f"run {run_id} to wait for approval",
        )
    )


def finished(api: TestClient, run_id: str, user: str, key: str | None = None) -> dict[str, Any]:
    return dict(
        until(
            lambda: (
                (r := run_status(api, run_id, user, key))["status"] in {"SUCCEEDED", "REJECTED", "FAILED"}
                and r
            ),
            f"run {run_id} to finish",
        )
    )


def new_user() -> str:
    return f"appr-{uuid.uuid4().hex[:8]}"


@pytest.mark.usefixtures("approvals_configured")
def test_a_run_waits_for_approval_then_runs_the_tool_and_finishes(
    client: TestClient, deploy_server: DeployServer
) -> None:
    user = new_user()

    record = waiting_run(client, "Run the deploy tool for version 7", user)

    approval = record["approval"]
    assert [(c["name"], c["arguments"]) for c in approval["calls"]] == [("deploy_service", {"version": "7"})]
    assert approval["status"] == "required" and approval["timeout_s"] == 60 and approval["expires_at"]
    assert record["finished_at"] is None and "task_token" not in json.dumps(record)
    assert "7" not in deploy_server.versions(), "the tool ran before anyone approved it"

    decided = client.post(f"/v1/runs/{record['run_id']}/approve", params={"user_id": user})

    assert decided.status_code == 202, decided.text
    assert decided.json()["status"] == "RUNNING" and decided.json()["approval"]["status"] == "approved"
    done = finished(client, record["run_id"], user)
    assert done["status"] == "SUCCEEDED", done
    assert deploy_server.versions().count("7") == 1
    assert "DEP-4242" in done["response"]["text"]  # the tool's own answer, through the model
    assert done["approval"]["status"] == "approved" and done["approval"]["decided_by"].startswith(user)
    again = client.post(f"/v1/runs/{record['run_id']}/approve", params={"user_id": user})
    assert again.status_code == 409 and again.json()["error"]["code"] == "approval_not_pending"


@pytest.mark.usefixtures("approvals_configured")
def test_a_rejected_run_answers_that_it_was_rejected_and_why(
    client: TestClient, deploy_server: DeployServer
) -> None:
    user = new_user()
    record = waiting_run(client, "Run the deploy tool for version 8", user)

    decided = client.post(
        f"/v1/runs/{record['run_id']}/reject",
        params={"user_id": user},
        json={"reason": "change freeze until Monday"},
    )

    assert decided.status_code == 202, decided.text
    assert decided.json()["status"] == "REJECTED"
    done = finished(client, record["run_id"], user)
    assert done["status"] == "REJECTED" and not done["errors"]
    text = done["response"]["text"]
    assert "deploy_service" in text and "rejected" in text and "change freeze until Monday" in text
    assert (done["approval"]["status"], done["approval"]["reason"]) == (
        "rejected",
        "change freeze until Monday",
    )
    assert "8" not in deploy_server.versions()


@pytest.mark.usefixtures("approvals_configured")
def test_a_run_nobody_decides_is_rejected_by_timeout(client: TestClient, deploy_server: DeployServer) -> None:
    user = new_user()
    with reconfigured(APPROVAL_TIMEOUT_S="1"):
        accepted = client.post(
            "/v1/runs", json={"prompt": "Run the deploy tool for version 11", "user_id": user}
        )
        run_id = accepted.json()["run_id"]
        done = finished(client, run_id, user)

    assert done["status"] == "REJECTED", done
    assert done["approval"]["status"] == "timed_out" and done["approval"]["timeout_s"] == 1
    assert "rejected" in done["response"]["text"] and "no decision within 1 s" in done["response"]["text"]
    assert "11" not in deploy_server.versions()
    late = client.post(f"/v1/runs/{run_id}/approve", params={"user_id": user})
    assert late.status_code == 409, late.text
    assert "11" not in deploy_server.versions()


def test_only_the_runs_user_or_an_admin_of_its_tenant_can_decide(
    secured: TestClient, deploy_server: DeployServer
) -> None:
    user = new_user()
    record = waiting_run(secured, "Run the deploy tool for version 9", user, key=ACME_APP)
    url = f"/v1/runs/{record['run_id']}"

    other_tenant = secured.post(f"{url}/approve", params={"user_id": user}, headers=bearer(GLOBEX_ADMIN))
    other_user = secured.post(f"{url}/approve", params={"user_id": "mallory"}, headers=bearer(ACME_APP))
    unnamed = secured.post(f"{url}/reject", headers=bearer(ACME_APP))
    anonymous = secured.post(f"{url}/approve", params={"user_id": user})

    for response in (other_tenant, other_user, unnamed):
        assert response.status_code == 404, response.text
    assert anonymous.status_code == 401
    assert run_status(secured, record["run_id"], user, ACME_APP)["status"] == "WAITING_FOR_APPROVAL"
    assert "9" not in deploy_server.versions()

    by_admin = secured.post(f"{url}/approve", headers=bearer(ACME_ADMIN))

    assert by_admin.status_code == 202, by_admin.text
    assert finished(secured, record["run_id"], user, ACME_APP)["status"] == "SUCCEEDED"
    assert deploy_server.versions().count("9") == 1


@pytest.mark.usefixtures("approvals_configured")
def test_a_chat_turn_that_needs_approval_answers_pending_and_hands_over_to_a_run(
    client: TestClient, deploy_server: DeployServer
) -> None:
    user = new_user()

    response = client.post("/v1/chat", json={"prompt": "Run the deploy tool for version 10", "user_id": user})

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "waiting_for_approval"
    assert "Approval pending" in body["response"] and body["run_id"] in body["response"]
    assert body["status_url"] == f"/v1/runs/{body['run_id']}?user_id={user}"
    assert [c["name"] for c in body["approval"]["calls"]] == ["deploy_service"]
    assert "10" not in deploy_server.versions()
    # The Express turn stopped; the Standard run of the same id waits, with the calls already chosen.
    record = until(
        lambda: (r := run_status(client, body["run_id"], user))["status"] == "WAITING_FOR_APPROVAL" and r,
        "the handed-over run to wait",
    )
    assert record["approval"]["calls"][0]["arguments"] == {"version": "10"}

    assert client.post(f"/v1/runs/{body['run_id']}/approve", params={"user_id": user}).status_code == 202
    assert finished(client, body["run_id"], user)["status"] == "SUCCEEDED"
    assert deploy_server.versions().count("10") == 1


@pytest.mark.usefixtures("approvals_configured")
def test_an_approval_tool_is_never_run_outside_an_approved_run(
    client: TestClient, secured: TestClient, deploy_server: DeployServer
) -> None:
    as_user = secured.post(
        "/v1/tools/deploy_service/execute", json={"arguments": {"version": "12"}}, headers=bearer(ACME_APP)
    )

    assert as_user.status_code == 200
    assert as_user.json()["ok"] is False and as_user.json()["error"].startswith("approval_required")
    assert "12" not in deploy_server.versions()
    listed = {t["name"]: t for t in client.get("/v1/tools/list").json()["tools"]}
    assert listed["deploy_service"]["requires_approval"] is True
    assert listed["calculator"]["requires_approval"] is False
