"""Connection check behind ``POST /v1/llm/test-connection``: never raises, always reports."""

from __future__ import annotations

import time

from pydantic import BaseModel

from orchestrator.clients.llm.base import ChatMessage, LLMClient
from orchestrator.errors import OrchestratorError

TEST_PROMPT = "Reply with the single word: pong"
_REPLY_CHARS = 500


class ConnectionReport(BaseModel):
    ok: bool
    provider: str
    model: str | None = None
    latency_ms: float
    reply: str | None = None
    error_code: str | None = None
    error: str | None = None


def test_connection(
    client: LLMClient, *, model: str | None = None, prompt: str = TEST_PROMPT
) -> ConnectionReport:
    """Send a tiny prompt and report reachability, latency and the reply, or why it failed."""
    started = time.perf_counter()
    provider = getattr(client, "provider", type(client).__name__)
    default_model = model or getattr(client, "default_model", None)
    try:
        result = client.chat([ChatMessage(role="user", content=prompt)], model=model)
    except OrchestratorError as error:
        return ConnectionReport(
            ok=False,
            provider=provider,
            model=default_model,
            latency_ms=round((time.perf_counter() - started) * 1000, 2),
            error_code=error.code,
            error=error.message,
        )
    except Exception as error:  # the endpoint's contract is "never a 500"
        return ConnectionReport(
            ok=False,
            provider=provider,
            model=default_model,
            latency_ms=round((time.perf_counter() - started) * 1000, 2),
            error_code="unexpected_error",
            error=f"{type(error).__name__} while calling the model",
        )
    return ConnectionReport(
        ok=True,
        provider=result.provider,
        model=result.model,
        latency_ms=round((time.perf_counter() - started) * 1000, 2),
        reply=result.text[:_REPLY_CHARS],
    )


# A function named test_* imported into a test module would otherwise be collected by pytest.
test_connection.__test__ = False  # type: ignore[attr-defined]
