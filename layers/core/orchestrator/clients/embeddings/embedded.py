"""The embedded default: WordLlama's static token embeddings, averaged — numpy, no network.

The files come from :mod:`orchestrator.clients.embeddings.model_files` (shipped in the layer).
Inference is what WordLlama does for dense embeddings: tokenize without special tokens or
truncation, look up each token's row, average over real tokens, normalise.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from orchestrator.caching import PerConfiguration
from orchestrator.clients.embeddings.base import Embedder
from orchestrator.errors import ConfigurationError

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

_models: PerConfiguration[str, tuple[Any, Any]] = PerConfiguration()

#: Texts embedded per batch: bounds the (batch × tokens × dim) array a long input builds.
BATCH_SIZE = 64


def _load(folder: Path) -> tuple[Any, Any]:
    from safetensors.numpy import load_file
    from tokenizers import Tokenizer

    from orchestrator.clients.embeddings.model_files import TOKENIZER_FILE, WEIGHTS_FILE

    if not (folder / WEIGHTS_FILE).is_file() or not (folder / TOKENIZER_FILE).is_file():
        raise ConfigurationError(
            f"Embedded model files are missing in {folder}; run "
            "`python -m orchestrator.clients.embeddings.model_files` (make install does)."
        )
    tokenizer = Tokenizer.from_file(str(folder / TOKENIZER_FILE))
    tokenizer.enable_padding()
    tokenizer.no_truncation()
    table = load_file(str(folder / WEIGHTS_FILE))["embedding.weight"].astype("float32")
    return tokenizer, table


class EmbeddedEmbedder(Embedder):
    """Loaded once per process (per Lambda container), on first use."""

    def __init__(self, model_dir: Path | None = None) -> None:
        from orchestrator.clients.embeddings.model_files import model_dir as default_dir

        self._dir = model_dir or default_dir()
        self.name = "wordllama:l2_supercat_256"
        self.dim = 256

    def _model(self) -> tuple[Any, Any]:
        return _models.get(str(self._dir), lambda: _load(self._dir))

    def embed(self, texts: list[str], *, deadline: float | None = None) -> npt.NDArray[np.float32]:
        import numpy as np

        # In-process and fast: nothing to cut short, so the deadline is not consulted.
        tokenizer, table = self._model()
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(texts), BATCH_SIZE):
            encoded = tokenizer.encode_batch(texts[start : start + BATCH_SIZE], add_special_tokens=False)
            ids = np.array([e.ids for e in encoded], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encoded], dtype=np.float32)
            np.clip(ids, 0, table.shape[0] - 1, out=ids)
            summed = np.einsum("bt,btd->bd", mask, table[ids], dtype=np.float32)
            pooled = summed / np.maximum(mask.sum(axis=1, keepdims=True), 1.0)
            norms = np.linalg.norm(pooled, axis=1, keepdims=True)
            # An empty text pools to zeros; leave it zero rather than divide by zero.
            out[start : start + len(encoded)] = pooled / np.where(norms == 0, 1.0, norms)
        return out
