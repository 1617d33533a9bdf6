"""Language identification candidates for the router: installed size, load time, latency, accuracy.

Labelled prompts: the multilingual routing sets (fr, es, de, it, pt, ja, zh) and the English dev
and unseen sets. A candidate that is not importable is reported as such; to measure one without
adding it to the project, install it aside and put that folder on the path:

    .venv/bin/pip install --no-deps --target /tmp/lid-langid langid
    PYTHONPATH=layers/core:/tmp/lid-langid .venv/bin/python bench/routing_languages.py

``fasttext-langdetect`` is not a candidate: it downloads its model on first use.
"""

from __future__ import annotations

import importlib.util
import json
import os
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEV = Path(os.environ.get("ROUTING_DEV_SET", ROOT.parent / "shared" / "intents" / "dev.jsonl"))
SETS = [
    ROOT / "bench" / "routing_multilingual_dev.jsonl",
    ROOT / "bench" / "routing_multilingual_tune.jsonl",
    ROOT / "bench" / "routing_unseen.jsonl",
]
LINGUA_LANGUAGES = [
    "ENGLISH",
    "FRENCH",
    "SPANISH",
    "GERMAN",
    "ITALIAN",
    "PORTUGUESE",
    "JAPANESE",
    "CHINESE",
    "KOREAN",
    "RUSSIAN",
]

Identify = Callable[[str], str]


def samples() -> list[tuple[str, str]]:
    rows = []
    for path in [DEV, *SETS]:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                rows.append((row["text"], row.get("lang", "en")))
    return rows


def size_mb(package: str) -> float:
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        return 0.0
    folder = Path(spec.origin).parent
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) / 1e6


def py3langid() -> Identify:
    from orchestrator.reasoning.language import LanguageIdentifier

    identifier = LanguageIdentifier()
    return lambda text: identifier.identify(text).code


def langid() -> Identify:
    import langid as module  # type: ignore[import-not-found]

    model = module.langid.LanguageIdentifier.from_modelstring(module.langid.model, norm_probs=True)
    return lambda text: str(model.classify(text)[0])


def lingua(restricted: bool) -> Identify:
    from lingua import Language, LanguageDetectorBuilder  # type: ignore[import-not-found]

    if restricted:
        builder = LanguageDetectorBuilder.from_languages(*[getattr(Language, n) for n in LINGUA_LANGUAGES])
    else:
        builder = LanguageDetectorBuilder.from_all_languages()
    detector = builder.build()

    def identify(text: str) -> str:
        language = detector.detect_language_of(text)
        return language.iso_code_639_1.name.lower() if language else "und"

    return identify


CANDIDATES: dict[str, tuple[str, Callable[[], Identify]]] = {
    "py3langid (chosen)": ("py3langid", py3langid),
    "langid": ("langid", langid),
    "lingua, all languages": ("lingua", lambda: lingua(False)),
    "lingua, 10 languages": ("lingua", lambda: lingua(True)),
}


def main() -> None:
    rows = samples()
    print(f"{len(rows)} labelled prompts: {dict(Counter(lang for _, lang in rows))}")
    for title, (package, build) in CANDIDATES.items():
        if importlib.util.find_spec(package) is None:
            print(f"\n{title}: not installed")
            continue
        started = time.perf_counter()
        identify = build()
        identify("warm up")
        load_ms = (time.perf_counter() - started) * 1000
        latencies, right, total = [], Counter[str](), Counter[str]()
        for text, lang in rows:
            begin = time.perf_counter()
            got = identify(text)
            latencies.append((time.perf_counter() - begin) * 1000)
            total[lang] += 1
            right[lang] += got == lang
        per_language = "  ".join(f"{lang} {right[lang]}/{total[lang]}" for lang in total)
        print(
            f"\n{title}: {size_mb(package):.1f} MB installed, load {load_ms:.0f} ms, "
            f"p50 {statistics.median(latencies):.3f} ms, right {sum(right.values())}/{len(rows)}"
        )
        print(f"  {per_language}")


if __name__ == "__main__":
    sys.exit(main())
