"""Semantic response cache: a user's earlier answer on the same route to a prompt that means the same.

Opt-in (``SEMANTIC_CACHE_ENABLED``). It shares the exact cache's table and partition (HASH ``pk`` =
tenant) under the sort-key prefix ``<user>#sem#<route>#``, so one user's candidates on one route
are a single Query, bounded by ``SEMANTIC_CACHE_MAX_ENTRIES`` (the write evicts the user's oldest),
and clearing a user's cache (``<user>#``) clears these entries too. Each entry keeps the prompt's
embedding as float32 bytes; a hit is the most similar candidate at or above the threshold.

Static embeddings average their words, so "2 + 2" and "2 + 3", or "contains gluten" and "contains
no gluten", score above most true paraphrases. A candidate must therefore also name the same
numbers and carry the same negations as the prompt (:func:`guard_terms`).
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from orchestrator.aws.dynamodb import all_items, expires_at, table

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from orchestrator.clients.embeddings.base import Embedder

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_NEGATIONS = frozenset({"not", "no", "never", "none", "nor", "without", "cannot", "nothing", "nobody"})
#: Words that name a number or a position: "the first president" is not "the second president".
_NUMBER_WORDS = frozenset({
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "hundred", "thousand", "million", "billion", "half", "quarter",
    "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth",
    "tenth", "last",
})  # fmt: skip


def semantic_prefix(user_id: str, intent: str | None = None) -> str:
    """Sort-key prefix of a user's semantic entries: all of them, or one route's."""
    return f"{user_id}#sem#" + (f"{intent}#" if intent is not None else "")


def guard_terms(prompt: str) -> str:
    """The numbers and negations of ``prompt``: a candidate must name exactly the same ones."""
    words = _WORD.findall(prompt.lower())
    numbers = sorted(w for w in words if any(c.isdigit() for c in w) or w in _NUMBER_WORDS)
    negations = sum(1 for w in words if w in _NEGATIONS or w.endswith("n't"))
    return f"{' '.join(numbers)}|{negations}"


@dataclass(frozen=True)
class SemanticEntry:
    """One cached answer as stored: the prompt's unit vector, its guard terms, the answer."""

    vector: npt.NDArray[np.float32]
    guard: str
    value: dict[str, Any]


@dataclass(frozen=True)
class SemanticHit:
    value: dict[str, Any]
    similarity: float


def closest(
    vector: npt.NDArray[np.float32], guard: str, entries: Iterable[SemanticEntry], threshold: float
) -> SemanticHit | None:
    """The entry most similar to ``vector`` among those with the same guard terms, if close enough."""
    import numpy as np

    # An entry written by another embedding model (a changed setting) is not comparable.
    usable = [e for e in entries if e.guard == guard and e.vector.shape == vector.shape]
    if not usable:
        return None
    scores = np.stack([e.vector for e in usable]) @ vector
    best = int(np.argmax(scores))
    if float(scores[best]) < threshold:
        return None
    return SemanticHit(value=usable[best].value, similarity=float(scores[best]))


class SemanticCache:
    def __init__(
        self,
        table_name: str,
        embedder: Embedder,
        *,
        region: str,
        threshold: float,
        max_entries: int,
        resource: Any | None = None,
    ) -> None:
        self._table = table(table_name, region, resource)
        self._embedder = embedder
        self.threshold = threshold
        self.max_entries = max_entries

    def lookup(
        self, tenant_id: str, user_id: str, intent: str, prompt: str, *, deadline: float | None = None
    ) -> SemanticHit | None:
        """The user's cached answer on route ``intent`` to the prompt most like ``prompt``, if any."""
        import numpy as np
        from boto3.dynamodb.conditions import Key

        page = self._table.query(
            KeyConditionExpression=Key("pk").eq(tenant_id)
            & Key("sk").begins_with(semantic_prefix(user_id, intent)),
            Limit=self.max_entries,
        )
        guard, now = guard_terms(prompt), time.time()
        # DynamoDB deletes expired items lazily (up to days later), so expiry is checked on read.
        entries = [
            SemanticEntry(
                vector=np.frombuffer(bytes(item["embedding"]), dtype="<f4"),
                guard=str(item.get("guard", "")),
                value=json.loads(item["value"]),
            )
            for item in page.get("Items", [])
            if int(item.get("expires_at", 0)) > now and item.get("guard") == guard
        ]
        if not entries:
            return None
        vector = self._embedder.embed([prompt], deadline=deadline)[0]
        return closest(vector, guard, entries, self.threshold)

    def put(
        self,
        tenant_id: str,
        user_id: str,
        intent: str,
        prompt: str,
        value: dict[str, Any],
        *,
        ttl_s: int,
        deadline: float | None = None,
    ) -> None:
        """Remember ``value`` for prompts like ``prompt``; the user's oldest entries go past the bound."""
        if ttl_s <= 0 or self.max_entries <= 0:
            return
        vector = self._embedder.embed([prompt], deadline=deadline)[0]
        normalised = re.sub(r"\s+", " ", prompt.strip().lower())
        self._table.put_item(
            Item={
                "pk": tenant_id,
                "sk": semantic_prefix(user_id, intent) + hashlib.sha256(normalised.encode()).hexdigest(),
                "value": json.dumps(value),
                "embedding": vector.astype("<f4").tobytes(),
                "guard": guard_terms(prompt),
                "written_at": time.time_ns(),
                "expires_at": expires_at(ttl_s),
            }
        )
        self._evict_beyond_bound(tenant_id, user_id)

    def _evict_beyond_bound(self, tenant_id: str, user_id: str) -> None:
        from boto3.dynamodb.conditions import Key

        entries = list(
            all_items(
                self._table.query,
                KeyConditionExpression=Key("pk").eq(tenant_id)
                & Key("sk").begins_with(semantic_prefix(user_id)),
                ProjectionExpression="sk, written_at",
            )
        )
        if len(entries) <= self.max_entries:
            return
        entries.sort(key=lambda item: int(item.get("written_at", 0)))
        with self._table.batch_writer() as batch:
            for item in entries[: len(entries) - self.max_entries]:
                batch.delete_item(Key={"pk": tenant_id, "sk": item["sk"]})
