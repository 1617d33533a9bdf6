"""Retrieval quality (dense, BM25, hybrid) and latency through the store on moto; prints tables.

PYTHONPATH=layers/core .venv/bin/python bench/retrieval.py [--quick]

Quality: the 44 single-fact questions of bench/retrieval_questions.jsonl over 66 Debian manual
pages (dpkg and APT, 0.5 M characters; bench/retrieval_corpus.py), chunked at several sizes.
``doc@k``: the labelled page is among the first k passages; ``ans@k``: a passage among the first
k contains the answer string (what reaches the model). Latency: ``DocumentStore.retrieve`` on an
in-process moto at 100 / 1,000 / 10,000 chunks: the first question (the index loaded) and the
next ones (the warm cache: one BatchGetItem for the version, one for the texts).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "layers" / "core"))

from orchestrator.clients.embeddings.embedded import EmbeddedEmbedder  # noqa: E402
from orchestrator.grounding.chunking import chunk_text  # noqa: E402
from orchestrator.grounding.query import terms  # noqa: E402
from orchestrator.grounding.ranking import DENSE_WEIGHT, HybridIndex  # noqa: E402

CORPUS = HERE / "data" / "debian-man.jsonl.gz"
QUESTIONS = HERE / "retrieval_questions.jsonl"
#: Rankers compared: the blend's dense weight (1: dense only, 0: BM25 only), and rank fusion.
MODES = {"dense": 1.0, "bm25": 0.0, "rrf": -1.0, "hybrid": DENSE_WEIGHT}


def load() -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    with gzip.open(CORPUS, "rt", encoding="utf-8") as lines:
        docs = [json.loads(line) for line in lines]
    questions = [json.loads(line) for line in QUESTIONS.read_text().splitlines() if line.strip()]
    return docs, questions


def flat(text: str) -> str:
    return " ".join(text.split()).lower()


def quality(docs: list[dict[str, str]], questions: list[dict[str, str]], chunk_chars: int) -> dict[str, Any]:
    import numpy as np

    embedder = EmbeddedEmbedder()
    chunks: list[tuple[str, str]] = []
    for doc in docs:
        chunks += [
            (doc["doc_id"], c) for c in chunk_text(doc["text"], chunk_chars, min(100, chunk_chars // 5))
        ]
    titled = [f"{next(d['title'] for d in docs if d['doc_id'] == doc_id)}\n{c}" for doc_id, c in chunks]
    vectors = np.asarray(embedder.embed(titled), dtype=np.float32)
    index = HybridIndex(vectors, terms(titled))
    results: dict[str, dict[str, float]] = {}
    for mode, weight in MODES.items():
        hits = {"doc@1": 0, "doc@3": 0, "ans@1": 0, "ans@3": 0}
        for q in questions:
            query_vector = np.asarray(embedder.embed([q["question"]]), dtype=np.float32)[0]
            query_terms = terms([q["question"]])[0]
            if weight < 0:
                order = rank_fusion(index, query_vector, query_terms)
            else:
                found = index.search(query_vector, query_terms, 3, dense_weight=weight, min_similarity=-1.0)
                order = [h.position for h in found]
            for k in (1, 3):
                top = order[:k]
                hits[f"doc@{k}"] += any(chunks[p][0] == q["doc_id"] for p in top)
                hits[f"ans@{k}"] += any(flat(q["answer"]) in flat(chunks[p][1]) for p in top)
        results[mode] = {key: value / len(questions) for key, value in hits.items()}
    return {"chunks": len(chunks), "results": results}


def rank_fusion(index: HybridIndex, query_vector: Any, query_terms: list[str], k: int = 60) -> list[int]:
    """Reciprocal rank fusion of the two rankers' best 50, for comparison with the blend."""
    import numpy as np

    fused: dict[int, float] = {}
    for scores in (index.vectors @ query_vector, index.lexical_scores(query_terms)):
        for rank, position in enumerate(np.argsort(-scores, kind="stable")[:50], start=1):
            fused[int(position)] = fused.get(int(position), 0.0) + 1.0 / (k + rank)
    return sorted(fused, key=lambda p: -fused[p])[:3]


def latency(
    docs: list[dict[str, str]], questions: list[dict[str, str]], sizes: list[int]
) -> list[dict[str, Any]]:
    import boto3
    from moto import mock_aws

    from orchestrator.grounding.store import DocumentStore

    os.environ.update(
        AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1"
    )
    rows = []
    embedder = EmbeddedEmbedder()
    for size in sizes:
        with mock_aws():
            resource = boto3.resource("dynamodb", region_name="us-east-1")
            calls: list[str] = []
            resource.meta.client.meta.events.register("before-call.dynamodb", _counter(calls))
            resource.create_table(
                TableName="documents",
                BillingMode="PAY_PER_REQUEST",
                AttributeDefinitions=[
                    {"AttributeName": "pk", "AttributeType": "S"},
                    {"AttributeName": "sk", "AttributeType": "S"},
                ],
                KeySchema=[
                    {"AttributeName": "pk", "KeyType": "HASH"},
                    {"AttributeName": "sk", "KeyType": "RANGE"},
                ],
            )
            writer = DocumentStore("documents", embedder=embedder, resource=resource)
            stored, copy = 0, 0
            started = time.perf_counter()
            while stored < size:
                for doc in docs:
                    if stored >= size:
                        break
                    text = doc["text"]
                    room = size - stored
                    pieces = chunk_text(text, writer.chunk_chars, writer.chunk_overlap)
                    if len(pieces) > room:
                        text = "\n\n".join(pieces[:room])
                    result = writer.ingest(
                        "acme", "alice", doc["title"], text, doc_id=f"{doc['doc_id']}-{copy}"
                    )
                    stored += result.chunks
                copy += 1
            ingest_s = time.perf_counter() - started
            reader = DocumentStore("documents", embedder=embedder, resource=resource)
            cold_started = time.perf_counter()
            reader.retrieve(questions[0]["question"], "acme", "alice", 4)
            cold_ms = (time.perf_counter() - cold_started) * 1000
            timings = []
            calls.clear()
            for q in questions:
                t0 = time.perf_counter()
                reader.retrieve(q["question"], "acme", "alice", 4)
                timings.append((time.perf_counter() - t0) * 1000)
            per_question = {name: calls.count(name) / len(questions) for name in sorted(set(calls))}
            rows.append(
                {
                    "chunks": stored,
                    "ingest_s": ingest_s,
                    "cold_ms": cold_ms,
                    "p50_ms": statistics.median(timings),
                    "p95_ms": statistics.quantiles(timings, n=20)[-1],
                    "calls": per_question,
                }
            )
    return rows


def _counter(calls: list[str]) -> Any:
    def count(model: Any, **_: Any) -> None:
        calls.append(model.name)

    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one chunk size; 100 and 1,000 chunks only")
    parser.add_argument("--chunk-sizes", default="300,500,800")
    args = parser.parse_args()
    docs, questions = load()
    sizes = [500] if args.quick else [int(s) for s in args.chunk_sizes.split(",")]
    print(
        f"Corpus: {len(docs)} Debian manual pages, {sum(len(d['text']) for d in docs):,} characters; "
        f"{len(questions)} questions"
    )
    header = ["chunk chars", "chunks", "ranker", "doc@1", "doc@3", "ans@1", "ans@3"]
    print("\n" + " ".join(f"{h:>{w}}" for h, w in zip(header, (11, 6, 8, 6, 6, 6, 6), strict=True)))
    for chunk_chars in sizes:
        measured = quality(docs, questions, chunk_chars)
        for mode, r in measured["results"].items():
            print(
                f"{chunk_chars:>11} {measured['chunks']:>6} {mode:>8} "
                f"{r['doc@1']:>6.0%} {r['doc@3']:>6.0%} {r['ans@1']:>6.0%} {r['ans@3']:>6.0%}"
            )
    counts = [100, 1_000] if args.quick else [100, 1_000, 10_000]
    header = ["chunks", "ingest s", "first q ms", "p50 ms", "p95 ms"]
    widths = (7, 9, 10, 7, 7)
    print(
        "\n"
        + " ".join(f"{h:>{w}}" for h, w in zip(header, widths, strict=True))
        + "  DynamoDB calls/question"
    )
    for row in latency(docs, questions, counts):
        calls = ", ".join(f"{name} x{n:g}" for name, n in row["calls"].items())
        print(
            f"{row['chunks']:>7} {row['ingest_s']:>9.1f} {row['cold_ms']:>10.1f} "
            f"{row['p50_ms']:>7.1f} {row['p95_ms']:>7.1f}  {calls}"
        )


if __name__ == "__main__":
    main()
