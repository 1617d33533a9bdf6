"""The embedding interface used by routing, retrieval and the semantic cache."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt


class Embedder(ABC):
    name: str
    dim: int

    @abstractmethod
    def embed(self, texts: list[str], *, deadline: float | None = None) -> npt.NDArray[np.float32]:
        """Unit-normalised vectors, one row per text (so a dot product is cosine similarity).

        ``deadline`` (a :func:`time.monotonic` instant): a remote provider ends by then, with
        :class:`~orchestrator.errors.ModelUnavailableError` if it has no answer yet.
        """
