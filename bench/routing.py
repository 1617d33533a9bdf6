"""Intent routing: cross-validated accuracy, confusion by intent, latency, cold load.

Protocols (the router is judged on phrasings it has never seen):
  held-out   train on routes.json only, test on every line of the shared dev.jsonl
  unseen     train on routes.json only, test on bench/routing_unseen.jsonl (written apart from
             routes.json; "blind" was never looked at while tuning)
  k-fold     routes.json + 4/5 of dev.jsonl, test on the remaining 1/5, five times
  languages  as deployed (language identification included) on the multilingual sets:
             routing_multilingual_tune.jsonl (keywords and thresholds were tuned on it) and
             routing_multilingual_dev.jsonl (held out: never looked at while tuning), per language

    PYTHONPATH=layers/core .venv/bin/python bench/routing.py [--compare] [--calibrate]

With LLM_PROVIDER=openai|bedrock (and its settings) it also times one model-based classification.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import time
from collections import Counter
from pathlib import Path
from typing import Any

from common import percentile

ROOT = Path(__file__).resolve().parents[1]
DEV = Path(os.environ.get("ROUTING_DEV_SET", ROOT.parent / "shared" / "intents" / "dev.jsonl"))
UNSEEN = ROOT / "bench" / "routing_unseen.jsonl"
MULTILINGUAL = {
    "multilingual tune": ROOT / "bench" / "routing_multilingual_tune.jsonl",
    "multilingual dev (held out)": ROOT / "bench" / "routing_multilingual_dev.jsonl",
}

Sample = tuple[str, str]
#: A threshold suggestion needs at least this many out-of-fold predictions below it.
_MIN_SUPPORT = 5


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def with_examples(routes: Any, extra: list[Sample], **classifier: Any) -> Any:
    """A copy of the routes with extra labelled examples (and optional classifier overrides)."""
    document = routes.model_dump()
    for route in document["routes"]:
        route["examples"] += [text for text, label in extra if label == route["name"]]
    document["classifier"].update(classifier)
    return type(routes).model_validate(document)


def predict(routes: Any, embedder: Any, texts: list[str], method: str = "logreg") -> list[tuple[str, float]]:
    """Top route and its score per text for one first-stage method."""
    import numpy as np

    from orchestrator.reasoning.classifier import RouteClassifier

    names = routes.names
    if method in ("logreg", "logreg-embedding-only"):
        overrides = {"cues": False} if method == "logreg-embedding-only" else {}
        classifier = RouteClassifier(with_examples(routes, [], **overrides), embedder)
        probabilities = classifier.probabilities(texts)
        return [(names[int(row.argmax())], float(row.max())) for row in probabilities]
    vectors = embedder.embed(texts)
    per_route = [embedder.embed(route.examples) for route in routes.routes]
    scores = np.zeros((len(texts), len(names)))
    for j, examples in enumerate(per_route):
        similarity = vectors @ examples.T
        if method == "centroid":
            centroid = examples.mean(axis=0)
            scores[:, j] = vectors @ (centroid / np.linalg.norm(centroid))
        else:  # knnK: mean of the K most similar examples of the route
            k = min(int(method[3:]), similarity.shape[1])
            scores[:, j] = np.sort(similarity, axis=1)[:, -k:].mean(axis=1)
    return [(names[int(row.argmax())], float(row.max())) for row in scores]


def accuracy(pairs: list[tuple[str, str]]) -> float:
    return sum(expected == got for expected, got in pairs) / max(len(pairs), 1)


def protocols(
    routes: Any, embedder: Any, dev: list[Sample], unseen: dict[str, list[Sample]], method: str
) -> dict[str, Any]:
    results: dict[str, Any] = {}
    texts = [t for t, _ in dev]
    results["held-out"] = [
        (label, got)
        for (_, label), (got, _) in zip(dev, predict(routes, embedder, texts, method), strict=True)
    ]
    for name, samples in unseen.items():
        got = predict(routes, embedder, [t for t, _ in samples], method)
        results[f"unseen:{name}"] = [(label, g) for (_, label), (g, _) in zip(samples, got, strict=True)]
    order = list(range(len(dev)))
    random.Random(7).shuffle(order)
    folds = [order[i::5] for i in range(5)]
    pairs: list[tuple[str, str]] = []
    for fold in folds:
        held = set(fold)
        train = [dev[i] for i in order if i not in held]
        test = [dev[i] for i in fold]
        got = predict(with_examples(routes, train), embedder, [t for t, _ in test], method)
        pairs += [(label, g) for (_, label), (g, _) in zip(test, got, strict=True)]
    results["k-fold"] = pairs
    return results


def confusion(pairs: list[tuple[str, str]], names: list[str]) -> str:
    counts = Counter(pairs)
    width = max(len(n) for n in names) + 2
    lines = ["expected \\ got".ljust(width + 2) + "".join(n[:10].rjust(11) for n in names) + "   recall"]
    for expected in names:
        row = [counts[(expected, got)] for got in names]
        total = sum(row)
        recall = counts[(expected, expected)] / total if total else 0.0
        lines.append(expected.ljust(width + 2) + "".join(str(c).rjust(11) for c in row) + f"   {recall:6.1%}")
    return "\n".join(lines)


def calibrate(routes: Any, embedder: Any, dev: list[Sample], repeats: int = 5) -> None:
    """Out-of-fold confidences of stage one over examples + dev; suggest per-route thresholds.

    Below its threshold a route's prediction is replaced: by the model when one is configured,
    else by the default route. So a route's suggestion is the highest confidence (0.05 grid, 0.35
    to 0.70) under which its out-of-fold predictions were right no more often than the default
    route would have been; for the default route itself, no more often than wrong (a coin flip).
    A suggestion needs at least 5 predictions below it; otherwise the floor (0.35) stays.
    5 folds, repeated with 5 shuffles.
    """
    samples = [(t, r.name) for r in routes.routes for t in r.examples] + dev
    base = with_examples(routes, [])
    for route in base.routes:
        route.examples = []
    rows: list[tuple[str, str, float]] = []
    for seed in range(repeats):
        order = list(range(len(samples)))
        random.Random(seed).shuffle(order)
        for k in range(5):
            held = set(order[k::5])
            train = [samples[i] for i in order if i not in held]
            test = [samples[i] for i in order if i in held]
            got = predict(with_examples(base, train), embedder, [t for t, _ in test])
            rows += [(label, g, score) for (_, label), (g, score) in zip(test, got, strict=True)]
    correct = accuracy([(a, b) for a, b, _ in rows])
    print(f"\nout-of-fold (examples + dev, 5 folds x {repeats}): accuracy {correct:.1%}")
    grid = [round(0.35 + 0.05 * i, 2) for i in range(8)]
    default = routes.default_route
    print("  per route, below each grid value: predictions right / default route right / wrong")
    for name in routes.names:
        mine = [(score, label) for label, got, score in rows if got == name]
        suggestion, cells = 0.35, []
        for t in grid:
            labels = [label for score, label in mine if score < t]
            right, fallback = labels.count(name), labels.count(default)
            cells.append(f"<{t}:{right}/{fallback}/{len(labels) - right}")
            rival = len(labels) - right if name == default else fallback
            if len(labels) >= _MIN_SUPPORT and right <= rival:
                suggestion = t
        print(f"  {name:15s} {' '.join(cells)}  suggested threshold {suggestion:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--compare", action="store_true", help="compare first-stage methods")
    parser.add_argument("--calibrate", action="store_true", help="suggest per-route thresholds")
    parser.add_argument("--skip-set", action="append", default=[], help="leave out an unseen set")
    parser.add_argument("--errors", action="store_true", help="list misrouted utterances")
    args = parser.parse_args()

    routes, embedder, router = cold_load()
    dev = [(row["text"], row["intent"]) for row in read_jsonl(DEV)]
    unseen: dict[str, list[Sample]] = {}
    for row in read_jsonl(UNSEEN):
        if row["set"] not in args.skip_set:
            unseen.setdefault(row["set"], []).append((row["text"], row["intent"]))
    report_accuracy(routes, embedder, dev, unseen, args.compare)
    samples = dev + [sample for samples in unseen.values() for sample in samples]
    report_deployed(router, samples, args.errors)
    multilingual = report_languages(router, args.errors)
    report_latency(router, [text for text, _ in samples] + multilingual)
    if args.calibrate:
        calibrate(routes, embedder, dev)
    model_latency(routes, embedder)


def cold_load() -> tuple[Any, Any, Any]:
    from orchestrator.clients.embeddings.embedded import EmbeddedEmbedder
    from orchestrator.config import Settings
    from orchestrator.reasoning.router import IntentRouter
    from orchestrator.reasoning.routes import load_routes

    started = time.perf_counter()
    routes = load_routes(Settings())
    embedder = EmbeddedEmbedder()
    router = IntentRouter(routes, embedder)
    router.classify("warm up")
    cold_ms = (time.perf_counter() - started) * 1000
    started = time.perf_counter()
    IntentRouter(routes, embedder).classify("warm up")
    train_ms = (time.perf_counter() - started) * 1000
    examples = sum(len(r.examples) for r in routes.routes)
    print(f"cold load (embedder + {examples} examples + training): {cold_ms:.0f} ms")
    print(f"training alone (embedder loaded): {train_ms:.0f} ms")
    return routes, embedder, router


def report_accuracy(
    routes: Any, embedder: Any, dev: list[Sample], unseen: dict[str, list[Sample]], compare: bool
) -> None:
    methods = ["knn1", "knn3", "knn5", "centroid", "logreg-embedding-only"] if compare else []
    print(f"\naccuracy of stage one, top route (dev {len(dev)}, unseen {sum(map(len, unseen.values()))})")
    for method in [*methods, "logreg"]:
        results = protocols(routes, embedder, dev, unseen, method)
        cells = "  ".join(f"{name} {accuracy(pairs):6.1%}" for name, pairs in results.items())
        print(f"  {method:22s} {cells}")
    all_unseen = [p for name, pairs in results.items() if name.startswith("unseen") for p in pairs]
    print(f"\nconfusion, held-out dev (routes.json only), accuracy {accuracy(results['held-out']):.1%}")
    print(confusion(results["held-out"], routes.names))
    print(f"\nconfusion, unseen sets, accuracy {accuracy(all_unseen):.1%}")
    print(confusion(all_unseen, routes.names))


def report_deployed(router: Any, samples: list[Sample], errors: bool) -> None:
    """Routing as deployed with no model: thresholds apply, uncertain requests take the default route."""
    deployed = [(label, router.classify(text)) for text, label in samples]
    defaulted = sum(intent.method == "default" for _, intent in deployed)
    correct = accuracy([(label, intent.name) for label, intent in deployed])
    print(f"\nas deployed without a model (dev + unseen): accuracy {correct:.1%}, ", end="")
    print(f"sent to the default route {defaulted}/{len(deployed)}")
    unsure = 0
    for text, _ in samples:
        best, score = max(router.scores(text).items(), key=lambda item: item[1])
        unsure += score < router.model_threshold(best)
    print(f"with a real model configured, stage two would run for {unsure}/{len(samples)}")
    if errors:
        for (text, label), (_, intent) in zip(samples, deployed, strict=True):
            if intent.name != label:
                print(f"  expected {label:15s} got {intent.name:15s} {intent.confidence:.2f} {text}")


def report_languages(router: Any, errors: bool) -> list[str]:
    """Deployed routing (no model) per language and set; returns the texts for the latency run."""
    texts: list[str] = []
    for title, path in MULTILINGUAL.items():
        rows = read_jsonl(path)
        texts += [row["text"] for row in rows]
        per_language: dict[str, list[tuple[str, str]]] = {}
        confident_wrong = unsupported = 0
        pairs = []
        for row in rows:
            outcome = router.route(row["text"])
            intent = outcome.intent
            pairs.append((row["intent"], intent.name))
            per_language.setdefault(row["lang"], []).append((row["intent"], intent.name))
            unsupported += intent.method == "embedding-unsupported-language"
            wrong = intent.name != row["intent"]
            # Wrong and above the fallback threshold: a configured model would never see it.
            confident_wrong += wrong and intent.confidence >= router.model_threshold(intent.name)
            if wrong and errors:
                print(f"  {row['lang']} expected {row['intent']:15s} got {intent.name:15s} ", end="")
                print(f"{intent.confidence:.2f} {intent.method} [{outcome.language}] {row['text']}")
        cells = "  ".join(f"{lang} {accuracy(p):6.1%}" for lang, p in per_language.items())
        print(f"\n{title} ({len(rows)}): accuracy {accuracy(pairs):.1%}  [{cells}]")
        print(f"  wrong with confidence above the model threshold: {confident_wrong}; ", end="")
        print(f"flagged as an unsupported language: {unsupported}")
        print(confusion(pairs, router.routes.names))
    return texts


def report_latency(router: Any, texts: list[str]) -> None:
    latencies = []
    for _ in range(5):
        for text in texts:
            begin = time.perf_counter()
            router.classify(text)
            latencies.append((time.perf_counter() - begin) * 1000)
    print(
        f"\nper classification (language identification included) over {len(latencies)} calls: "
        f"p50 {statistics.median(latencies):.3f} ms, p99 {percentile(latencies, 0.99):.3f} ms"
    )


def model_latency(routes: Any, embedder: Any) -> None:
    provider = os.environ.get("LLM_PROVIDER", "offline")
    if provider == "offline":
        print("\nmodel-based classification: skipped (LLM_PROVIDER is offline)")
        return
    try:
        from orchestrator.clients.llm import build_llm_client
        from orchestrator.config import Settings
        from orchestrator.reasoning.router import IntentRouter

        # No per-route thresholds and a global one above 1 send every request to stage two.
        unsure = routes.model_dump()
        for route in unsure["routes"]:
            route["threshold"] = None
        router = IntentRouter(
            type(routes).model_validate(unsure), embedder, build_llm_client(Settings()), llm_threshold=1.01
        )
        router.warm_up()
        begin = time.perf_counter()
        outcome = router.route("Can you look into why our numbers dipped and tell me what to do?")
        elapsed = (time.perf_counter() - begin) * 1000
        usage = outcome.usage
        tokens = f"{usage.tokens_in}/{usage.tokens_out}" if usage else "0/0"
        print(
            f"\nmodel-based classification ({provider}): {elapsed:.0f} ms, method {outcome.intent.method}, "
            f"intent {outcome.intent.name}, tokens in/out {tokens}"
        )
    except Exception as exc:  # the bench reports, it does not fail on a missing provider
        print(f"\nmodel-based classification: skipped ({type(exc).__name__}: {exc})")


if __name__ == "__main__":
    main()
