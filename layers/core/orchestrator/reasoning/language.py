"""Which language a prompt is written in: py3langid's naive Bayes model, shipped in its wheel.

Why py3langid (bench/routing.py --languages, 355 labelled prompts in eight languages): 4.6 MB
installed, numpy only (already in the layer), pure Python so the same wheel serves arm64, about
0.1 ms per prompt, 351/355 right. ``langid`` (5 MB) was as accurate but four times slower;
``lingua-language-detector`` (96 MB installed, 2.8 ms per prompt unrestricted) no better on
short prompts; ``fasttext-langdetect`` downloads its model at run time, which a Lambda cannot.

The model file is decompressed on first use (about 1 s): :meth:`LanguageIdentifier.warm_up`
does it at container start.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Any

#: Hiragana or katakana: the text is Japanese even when its kanji alone look Chinese.
_KANA = re.compile(r"[\u3040-\u30ff]")
#: Hangul syllables or jamo.
_HANGUL = re.compile(r"[\uac00-\ud7af\u1100-\u11ff]")
_LETTER = re.compile(r"[^\W\d_]")


@dataclass(frozen=True)
class LanguageGuess:
    #: ISO 639-1 code (a few languages without one keep their ISO 639-3 code); "und": no letters.
    code: str
    #: The model's probability for ``code`` (1.0 when the script decides).
    confidence: float
    #: Probability of each candidate language, best first (top few only).
    ranking: tuple[tuple[str, float], ...] = ()

    def share(self, languages: frozenset[str]) -> float:
        """Total probability of ``languages`` among the ranked candidates."""
        if self.code in languages and not self.ranking:
            return self.confidence
        return sum(p for code, p in self.ranking if code in languages)


UNDETERMINED = LanguageGuess(code="und", confidence=0.0)


class LanguageIdentifier:
    """Loaded once per instance on first use; thread-safe; no network."""

    def __init__(self, top: int = 8) -> None:
        self._top = top
        self._lock = threading.Lock()
        self._model: Any = None

    def warm_up(self) -> None:
        self._identifier()

    def _identifier(self) -> Any:
        if self._model is None:
            with self._lock:
                if self._model is None:
                    from py3langid import langid  # type: ignore[import-untyped]  # no stubs

                    model = langid.LanguageIdentifier.from_model_file(langid.MODEL_FILE, norm_probs=True)
                    self._model = model
        return self._model

    def identify(self, text: str) -> LanguageGuess:
        """The prompt's most likely language and the model's probabilities."""
        if not _LETTER.search(text):
            return UNDETERMINED
        # The script decides where the statistics on a short prompt can hesitate.
        if _KANA.search(text):
            return LanguageGuess(code="ja", confidence=1.0, ranking=(("ja", 1.0),))
        if _HANGUL.search(text):
            return LanguageGuess(code="ko", confidence=1.0, ranking=(("ko", 1.0),))
        ranked = self._identifier().rank(text)[: self._top]
        ranking = tuple((str(code), float(p)) for code, p in ranked)
        code, confidence = ranking[0]
        return LanguageGuess(code=code, confidence=round(confidence, 4), ranking=ranking)
