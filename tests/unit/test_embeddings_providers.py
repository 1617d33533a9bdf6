"""Embedding providers: embedded default, OpenAI-compatible /embeddings, Bedrock Titan."""

from __future__ import annotations

import io
import json
import time
from typing import Any

import boto3
import numpy as np
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber

from orchestrator.clients.embeddings import build_embedder
from orchestrator.clients.embeddings.bedrock import TitanEmbedder
from orchestrator.clients.embeddings.embedded import EmbeddedEmbedder
from orchestrator.clients.embeddings.openai import OpenAIEmbedder
from orchestrator.clients.retrying import RetryPolicy
from orchestrator.config import Settings
from orchestrator.errors import ModelUnavailableError
from tests.support import FakeClock
from tests.support.fake_openai import EMBEDDINGS, FakeOpenAIServer, ScriptedReply, hash_vector


def _settings(**values: Any) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def test_embedded_is_the_default_and_unit_normalised() -> None:
    embedder = build_embedder(_settings())
    assert isinstance(embedder, EmbeddedEmbedder)
    assert (embedder.name, embedder.dim) == ("wordllama:l2_supercat_256", 256)
    vectors = embedder.embed(["refund policy", "weather in Oslo"])
    assert vectors.shape == (2, 256)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_provider_selection_uses_each_providers_default_model() -> None:
    openai = build_embedder(_settings(embedding_provider="openai", llm_base_url="http://127.0.0.1:9/v1"))
    titan = build_embedder(_settings(embedding_provider="bedrock", embedding_dimensions=256))
    assert isinstance(openai, OpenAIEmbedder) and openai.model == "text-embedding-3-small"
    assert isinstance(titan, TitanEmbedder) and (titan.model, titan.dim) == (
        "amazon.titan-embed-text-v2:0",
        256,
    )


def test_openai_embeddings_are_unit_normalised_in_input_order() -> None:
    clock = FakeClock()
    with FakeOpenAIServer(api_key="sk-e") as server:
        server.reply_rate_limited(retry_after="0.5", path=EMBEDDINGS)
        embedder = OpenAIEmbedder(
            model="text-embedding-3-small",
            base_url=server.url,
            api_key="sk-e",
            dimensions=16,
            retry_policy=RetryPolicy(sleep=clock.sleep, clock=clock.now),
        )
        vectors = embedder.embed(["alpha", "beta", "gamma"])
        request = server.requests_to(EMBEDDINGS)[-1].body
    assert request == {
        "model": "text-embedding-3-small",
        "input": ["alpha", "beta", "gamma"],
        "dimensions": 16,
    }
    assert clock.sleeps == [0.5]
    assert vectors.shape == (3, 16) and embedder.dim == 16
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-6)
    expected = np.asarray(hash_vector("beta", 16), dtype=np.float32)
    assert np.allclose(vectors[1], expected / np.linalg.norm(expected), atol=1e-6)


def test_openai_embeddings_down_is_model_unavailable() -> None:
    clock = FakeClock()
    with FakeOpenAIServer() as server:
        server.reply_server_errors(3, path=EMBEDDINGS)
        embedder = OpenAIEmbedder(
            model="e",
            base_url=server.url,
            retry_policy=RetryPolicy(max_retries=2, sleep=clock.sleep, clock=clock.now),
        )
        with pytest.raises(ModelUnavailableError, match="HTTP 500"):
            embedder.embed(["x"])


def test_slow_openai_embeddings_end_as_model_unavailable_by_the_callers_deadline() -> None:
    with FakeOpenAIServer() as server:
        server.script(ScriptedReply(body={"data": []}, delay_s=3.0), EMBEDDINGS)
        embedder = OpenAIEmbedder(model="e", base_url=server.url, read_timeout_s=10.0)
        started = time.monotonic()
        with pytest.raises(ModelUnavailableError, match="timed out"):
            embedder.embed(["x"], deadline=started + 1.0)
        assert 0.9 <= time.monotonic() - started < 1.5


def _titan_body(vector: list[float]) -> StreamingBody:
    raw = json.dumps({"embedding": vector, "inputTextTokenCount": 2}).encode()
    return StreamingBody(io.BytesIO(raw), len(raw))


def test_titan_embeddings_via_invoke_model() -> None:
    clock = FakeClock()
    runtime = boto3.Session(aws_access_key_id="x", aws_secret_access_key="x", region_name="us-east-1").client(
        "bedrock-runtime"
    )
    embedder = TitanEmbedder(
        dimensions=256, runtime_client=runtime, retry_policy=RetryPolicy(sleep=clock.sleep, clock=clock.now)
    )
    with Stubber(runtime) as stub:
        stub.add_response(
            "invoke_model",
            {"body": _titan_body([3.0, 4.0]), "contentType": "application/json"},
            {
                "modelId": "amazon.titan-embed-text-v2:0",
                "body": json.dumps({"inputText": "hello", "normalize": True, "dimensions": 256}),
                "contentType": "application/json",
                "accept": "application/json",
            },
        )
        stub.add_client_error("invoke_model", service_error_code="ThrottlingException", http_status_code=429)
        stub.add_response(
            "invoke_model", {"body": _titan_body([0.0, 2.0]), "contentType": "application/json"}
        )
        vectors = embedder.embed(["hello", "world"])
        stub.assert_no_pending_responses()
    assert np.allclose(vectors, [[0.6, 0.8], [0.0, 1.0]])
    assert len(clock.sleeps) == 1
