"""Embeddings from an OpenAI-compatible ``/embeddings`` endpoint (OpenAI, vLLM, Ollama, LiteLLM)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from orchestrator.clients.embeddings.base import Embedder
from orchestrator.clients.openai_api import DEFAULT_BASE_URL, OpenAIEndpoint
from orchestrator.clients.retrying import RetryPolicy
from orchestrator.errors import ModelResponseError

if TYPE_CHECKING:
    import httpx
    import numpy as np
    import numpy.typing as npt

    from orchestrator.config import Settings

#: Inputs per request; large enough for batching, small enough for every server's limit.
BATCH_SIZE = 128


class OpenAIEmbedder(Embedder):
    provider = "openai"

    def __init__(
        self,
        *,
        model: str,
        base_url: str = DEFAULT_BASE_URL,
        api_key: Callable[[], str | None] | str | None = None,
        dimensions: int | None = None,
        connect_timeout_s: float = 3.0,
        read_timeout_s: float = 20.0,
        retry_policy: RetryPolicy | None = None,
        http_client: httpx.Client | None = None,
    ) -> None:
        self.retry_policy = retry_policy or RetryPolicy()
        self.name = f"openai:{model}"
        self.model = model
        #: Unknown until the first reply when the server picks the size (0 until then).
        self.dim = dimensions or 0
        self.dimensions = dimensions
        self._endpoint = OpenAIEndpoint(
            base_url,
            api_key=api_key,
            connect_timeout_s=connect_timeout_s,
            read_timeout_s=read_timeout_s,
            provider=self.provider,
            policy=self.retry_policy,
            http_client=http_client,
        )
        self.base_url = self._endpoint.base_url

    @classmethod
    def from_settings(cls, settings: Settings, *, model: str) -> OpenAIEmbedder:
        from orchestrator.secrets import get_llm_api_key

        return cls(
            model=model,
            base_url=settings.llm_base_url or DEFAULT_BASE_URL,
            api_key=lambda: get_llm_api_key(settings),
            dimensions=settings.embedding_dimensions,
            connect_timeout_s=settings.llm_connect_timeout_s,
            read_timeout_s=settings.llm_read_timeout_s,
            retry_policy=RetryPolicy.for_models(settings),
        )

    def __repr__(self) -> str:
        return f"OpenAIEmbedder(base_url={self.base_url!r}, model={self.model!r})"

    def _batch(self, texts: list[str], end: float) -> list[list[float]]:
        payload: dict[str, Any] = {"model": self.model, "input": texts}
        if self.dimensions:
            payload["dimensions"] = self.dimensions

        body = self._endpoint.request(
            "POST", "/embeddings", model=self.model, body=payload, deadline=end
        ).body
        try:
            rows = sorted(body["data"], key=lambda row: row.get("index", 0))
            vectors = [[float(x) for x in row["embedding"]] for row in rows]
        except (KeyError, TypeError, ValueError):
            raise ModelResponseError("The embeddings endpoint returned an unexpected body") from None
        if len(vectors) != len(texts):
            raise ModelResponseError(
                f"The embeddings endpoint returned {len(vectors)} vectors for {len(texts)} texts"
            )
        return vectors

    def embed(self, texts: list[str], *, deadline: float | None = None) -> npt.NDArray[np.float32]:
        import numpy as np

        from orchestrator.clients.embeddings import unit_normalise

        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        # Every batch of one call shares one deadline: the retry budget, or the caller's if sooner.
        end = self.retry_policy.deadline(deadline)
        rows: list[list[float]] = []
        for start in range(0, len(texts), BATCH_SIZE):
            rows += self._batch(texts[start : start + BATCH_SIZE], end)
        vectors = unit_normalise(np.asarray(rows, dtype=np.float32))
        self.dim = int(vectors.shape[1])
        return vectors
