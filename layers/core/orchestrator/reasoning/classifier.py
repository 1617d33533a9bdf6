"""First routing stage: a softmax (multinomial logistic) regression trained on the routes' examples.

Features per text: the embedding (unit vector), one keyword score per route (from the routes'
``keywords``), and the generic shape features of :mod:`orchestrator.reasoning.text`. Training is
plain full-batch gradient descent in numpy at first use (tens of milliseconds for a few hundred
examples), so the routes document is the only input and adding a route needs no code.

Why this model: cross-validation on the development set (bench/routing.py) put it ahead of
nearest-neighbour and centroid scoring on utterances phrased unlike any example; the keyword and
shape features carry most of that gain (multi-step structure, URLs, arithmetic, domain words).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from orchestrator.reasoning.text import shape_features

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from orchestrator.clients.embeddings.base import Embedder
    from orchestrator.reasoning.routes import RoutesConfig

    Matrix = npt.NDArray[np.float64]


@dataclass(frozen=True)
class _Trained:
    mean: Matrix
    scale: Matrix
    weights: Matrix
    bias: Matrix


#: A keyword score saturates at this many hits.
_KEYWORD_CAP = 3


#: Words in any script (letters and digits, accents included), with an English-style contraction.
_TOKEN = re.compile(r"[^\W_]+(?:['’][^\W_]+)?")
#: Scripts written without spaces between words: a keyword in them matches anywhere in a run.
_UNSPACED = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def _normalise(text: str) -> str:
    """Lower-case words joined by single spaces, padded so every word is space-delimited."""
    return " " + " ".join(_TOKEN.findall(text.lower())) + " "


class KeywordMatcher:
    """Counts whole-word (or, with a trailing ``*``, word-prefix) keyword hits; phrases allowed.

    A keyword in Chinese or Japanese script matches as a substring: those scripts put no spaces
    between words, so a whole sentence is one run of letters.
    """

    def __init__(self, keywords: list[str]) -> None:
        self._needles = []
        for keyword in keywords:
            prefix = keyword.strip().endswith("*")
            body = _normalise(keyword.strip().rstrip("*"))
            if not body.strip():
                continue
            if _UNSPACED.search(body):
                self._needles.append(body.strip())
            else:
                self._needles.append(body[:-1] if prefix else body)

    def __bool__(self) -> bool:
        return bool(self._needles)

    def count(self, normalised: str) -> int:
        """Hits in a text already passed through :func:`_normalise`."""
        return sum(normalised.count(needle) for needle in self._needles)


class RouteClassifier:
    """Trained once per instance on first use; thread-safe, deterministic (zero initialisation)."""

    def __init__(self, routes: RoutesConfig, embedder: Embedder) -> None:
        self.routes = routes
        self.names = routes.names
        self._embedder = embedder
        self._keywords = [KeywordMatcher(route.keywords) for route in routes.routes]
        self._lock = threading.Lock()
        self._model: _Trained | None = None

    def cue_features(self, text: str) -> list[float]:
        if not self.routes.classifier.cues:
            return []
        normalised = _normalise(text)
        keyword_scores = [
            min(matcher.count(normalised), _KEYWORD_CAP) / _KEYWORD_CAP for matcher in self._keywords
        ]
        return keyword_scores + shape_features(text)

    def features(self, texts: list[str]) -> Matrix:
        import numpy as np

        vectors = np.asarray(self._embedder.embed(texts), dtype=np.float64)
        cues = np.asarray([self.cue_features(text) for text in texts], dtype=np.float64)
        return np.hstack([vectors, cues])

    def fit(self) -> None:
        """Train on every example of every route (idempotent)."""
        if self._model is not None:
            return
        with self._lock:
            if self._model is None:
                self._model = self._train()

    def _train(self) -> _Trained:
        import numpy as np

        texts = [text for route in self.routes.routes for text in route.examples]
        labels = np.asarray([i for i, route in enumerate(self.routes.routes) for _ in route.examples])
        x = self.features(texts)
        mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-6
        z = (x - mean) / scale
        n, dims = z.shape
        config = self.routes.classifier
        penalty = np.full((dims, 1), config.l2)
        penalty[self._embedder.dim :] = config.cue_l2
        targets = np.eye(len(self.names))[labels]
        weights = np.zeros((dims, len(self.names)))
        bias = np.zeros(len(self.names))
        for _ in range(config.iterations):
            gradient = (_softmax(z @ weights + bias) - targets) / n
            weights -= config.learning_rate * (z.T @ gradient + penalty * weights)
            bias -= config.learning_rate * gradient.sum(axis=0)
        return _Trained(mean=mean, scale=scale, weights=weights, bias=bias)

    def probabilities(self, texts: list[str]) -> Matrix:
        """One row per text: a probability per route, in the order of ``names``."""
        self.fit()
        model = self._model
        assert model is not None
        z = (self.features(texts) - model.mean) / model.scale
        return _softmax(z @ model.weights + model.bias)


def _softmax(logits: Matrix) -> Matrix:
    import numpy as np

    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    result: Matrix = exp / exp.sum(axis=1, keepdims=True)
    return result
