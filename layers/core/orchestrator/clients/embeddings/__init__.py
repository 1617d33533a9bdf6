"""Embedding providers behind one interface, chosen by ``EMBEDDING_PROVIDER``.

``embedded`` (default): WordLlama, in-process, no network. ``openai``: ``{LLM_BASE_URL}/embeddings``
with the model API key. ``bedrock``: Titan text embeddings. Every provider returns unit vectors.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from orchestrator.clients.embeddings.base import Embedder

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from orchestrator.config import Settings

__all__ = ["Embedder", "build_embedder", "unit_normalise"]

#: The embedded default's model name; remote providers then use their own default model.
EMBEDDED_DEFAULT_MODEL = "l2_supercat_256"
OPENAI_DEFAULT_MODEL = "text-embedding-3-small"
TITAN_DEFAULT_MODEL = "amazon.titan-embed-text-v2:0"


def unit_normalise(vectors: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """Rows scaled to length 1 (zero rows stay zero), so a dot product is cosine similarity."""
    import numpy as np

    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    normalised: npt.NDArray[np.float32] = (vectors / np.maximum(norms, 1e-12)).astype(np.float32)
    return normalised


def build_embedder(settings: Settings) -> Embedder:
    """The configured embedder (the container keeps one per process)."""
    model = settings.embedding_model
    if settings.embedding_provider == "openai":
        from orchestrator.clients.embeddings.openai import OpenAIEmbedder

        return OpenAIEmbedder.from_settings(
            settings, model=OPENAI_DEFAULT_MODEL if model == EMBEDDED_DEFAULT_MODEL else model
        )
    if settings.embedding_provider == "bedrock":
        from orchestrator.clients.embeddings.bedrock import TitanEmbedder

        return TitanEmbedder.from_settings(
            settings, model=TITAN_DEFAULT_MODEL if model == EMBEDDED_DEFAULT_MODEL else model
        )
    from orchestrator.clients.embeddings.embedded import EmbeddedEmbedder

    # One embedded model ships with the layer (model_files.py); EMBEDDING_MODEL names remote ones.
    return EmbeddedEmbedder()
