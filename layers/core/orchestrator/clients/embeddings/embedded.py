"""The embedded default: WordLlama's static embeddings, whose weights ship inside the wheel."""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING, Any

from orchestrator.clients.embeddings.base import Embedder

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

_lock = threading.Lock()
_models: dict[str, Any] = {}


def _load(config: str, dim: int) -> Any:
    # WordLlama.load() looks for weights in a cache folder and downloads on a miss; pointing the
    # cache at the package's own folder with downloads disabled keeps it offline (DESIGN.md §7).
    import wordllama
    from wordllama import WordLlama

    package_dir = os.path.dirname(str(wordllama.__file__))
    return WordLlama.load(config=config, dim=dim, cache_dir=package_dir, disable_download=True)


class EmbeddedEmbedder(Embedder):
    """Loaded once per process (per Lambda container), on first use."""

    def __init__(self, config: str = "l2_supercat", dim: int = 256) -> None:
        self.name = f"wordllama:{config}_{dim}"
        self.dim = dim
        self._config = config

    def _model(self) -> Any:
        model = _models.get(self.name)
        if model is None:
            with _lock:
                model = _models.get(self.name)
                if model is None:
                    model = _models[self.name] = _load(self._config, self.dim)
        return model

    def embed(self, texts: list[str]) -> npt.NDArray[np.float32]:
        import numpy as np

        vectors = np.asarray(self._model().embed(texts, norm=True), dtype=np.float32)
        return vectors
