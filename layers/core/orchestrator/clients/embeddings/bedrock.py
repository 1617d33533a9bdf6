"""Amazon Titan text embeddings through Bedrock ``InvokeModel`` (one text per request)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from orchestrator.caching import Lazy
from orchestrator.clients.bedrock_runtime import bedrock_client, bedrock_failure
from orchestrator.clients.embeddings.base import Embedder
from orchestrator.clients.retrying import GiveUp, RetryPolicy, call_with_retries
from orchestrator.errors import ModelResponseError, ModelUnavailableError

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    from mypy_boto3_bedrock_runtime import BedrockRuntimeClient

    from orchestrator.config import Settings

#: Titan v2's default size; it also accepts 256 and 512.
TITAN_DEFAULT_DIMENSIONS = 1024


class TitanEmbedder(Embedder):
    provider = "bedrock"

    def __init__(
        self,
        *,
        model: str = "amazon.titan-embed-text-v2:0",
        region: str = "us-east-1",
        dimensions: int | None = None,
        runtime_client: BedrockRuntimeClient | None = None,
        connect_timeout_s: float = 3.0,
        read_timeout_s: float = 20.0,
        retry_policy: RetryPolicy | None = None,
    ) -> None:
        self.name = f"bedrock:{model}"
        self.model = model
        self.region = region
        self.dimensions = dimensions
        self.dim = dimensions or TITAN_DEFAULT_DIMENSIONS
        self.connect_timeout_s = connect_timeout_s
        self.read_timeout_s = read_timeout_s
        self.retry_policy = retry_policy or RetryPolicy()
        self._runtime: Lazy[BedrockRuntimeClient] = Lazy(
            lambda: bedrock_client(
                "bedrock-runtime",
                region=region,
                connect_timeout_s=connect_timeout_s,
                read_timeout_s=read_timeout_s,
            ),
            runtime_client,
        )

    @classmethod
    def from_settings(cls, settings: Settings, *, model: str) -> TitanEmbedder:
        return cls(
            model=model,
            region=settings.aws_region,
            dimensions=settings.embedding_dimensions,
            connect_timeout_s=settings.llm_connect_timeout_s,
            read_timeout_s=settings.llm_read_timeout_s,
            retry_policy=RetryPolicy.for_models(settings),
        )

    def __repr__(self) -> str:
        return f"TitanEmbedder(region={self.region!r}, model={self.model!r})"

    def runtime(self) -> BedrockRuntimeClient:
        return self._runtime.get()

    def _unavailable(self, summary: GiveUp) -> Exception:
        return ModelUnavailableError(
            f"The {self.provider} model '{self.model}' is unavailable after {summary.attempts} attempt(s) "
            f"in {summary.elapsed_s:.1f} s: {summary.reason}",
            details={"provider": self.provider, "model": self.model, "attempts": summary.attempts},
        )

    def _one(self, text: str, end: float) -> list[float]:
        request: dict[str, Any] = {"inputText": text, "normalize": True}
        if self.dimensions:
            request["dimensions"] = self.dimensions

        def attempt(_remaining_s: float) -> Any:
            try:
                response = self.runtime().invoke_model(
                    modelId=self.model,
                    body=json.dumps(request),
                    contentType="application/json",
                    accept="application/json",
                )
                return json.loads(response["body"].read())
            except ValueError:
                raise ModelResponseError("Titan returned a body that is not JSON") from None
            except Exception as error:
                raise bedrock_failure(error, provider=self.provider) from None

        body = call_with_retries(
            attempt,
            policy=self.retry_policy,
            give_up=self._unavailable,
            deadline=end,
            log_extra={"provider": self.provider, "model": self.model},
        )
        embedding = body.get("embedding") if isinstance(body, dict) else None
        if not isinstance(embedding, list) or not embedding:
            raise ModelResponseError("Titan returned no embedding")
        return [float(x) for x in embedding]

    def embed(self, texts: list[str], *, deadline: float | None = None) -> npt.NDArray[np.float32]:
        import numpy as np

        from orchestrator.clients.embeddings import unit_normalise

        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        # One request per text, all within one deadline: the retry budget, or the caller's if sooner.
        end = self.retry_policy.deadline(deadline)
        vectors = unit_normalise(np.asarray([self._one(text, end) for text in texts], dtype=np.float32))
        self.dim = int(vectors.shape[1])
        return vectors
