"""One local stack (moto + the real ASL + real handlers) for the e2e package, torn down after it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi.testclient import TestClient

from orchestrator.local.runtime import LocalRuntime
from orchestrator.local.server import local_stack
from tests.support.fake_agent import FakeAgentServer


@pytest.fixture(scope="package")
def fake_agent() -> Iterator[FakeAgentServer]:
    with FakeAgentServer() as server:
        yield server


@pytest.fixture(scope="package")
def stack(fake_agent: FakeAgentServer) -> Iterator[LocalRuntime]:
    # The e2e suite pins the offline provider whatever a developer's .env says.
    env = {
        "EXTERNAL_AGENT_BASE_URL": fake_agent.base_url,
        "LLM_PROVIDER": "offline",
        "WORKFLOW_TIMEOUT_S": "60",
    }
    with reconfigured(**env), local_stack() as runtime:
        yield runtime


@pytest.fixture(scope="package")
def client(stack: LocalRuntime) -> Iterator[TestClient]:
    from orchestrator.api import create_app

    with TestClient(create_app(), raise_server_exceptions=False) as test_client:
        yield test_client


def chat(client: TestClient, prompt: str, user_id: str, **extra: Any) -> Any:
    return client.post("/v1/chat", json={"prompt": prompt, "user_id": user_id, **extra})


@contextmanager
def reconfigured(**env: str) -> Iterator[None]:
    """Change settings for the running stack (handlers run in this process) and put them back."""
    from orchestrator import container

    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    container.reset()
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        container.reset()
