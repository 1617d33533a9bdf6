"""Exact-match response cache: same user, same normalised prompt, within the TTL."""

from __future__ import annotations

import hashlib
import json
import re
import time
from typing import Any

from orchestrator.memory._dynamodb import all_items, expires_at, table

#: Only answers that don't depend on live data are cached; tools and agents act on the world.
CACHEABLE_INTENTS = frozenset({"chat", "rag"})


def cache_key(user_id: str, prompt: str) -> str:
    normalised = re.sub(r"\s+", " ", prompt.strip().lower())
    return hashlib.sha256(f"{user_id}\x00{normalised}".encode()).hexdigest()


class ResponseCache:
    def __init__(self, table_name: str, *, region: str, resource: Any | None = None) -> None:
        self._table = table(table_name, region, resource)

    def get(self, user_id: str, prompt: str) -> dict[str, Any] | None:
        item = self._table.get_item(Key={"pk": cache_key(user_id, prompt)}).get("Item")
        # DynamoDB deletes expired items lazily (up to days later), so expiry is checked on read.
        if not item or int(item.get("expires_at", 0)) <= time.time():
            return None
        value: dict[str, Any] = json.loads(item["value"])
        return value

    def put(self, user_id: str, prompt: str, value: dict[str, Any], ttl_s: int) -> None:
        if ttl_s <= 0:
            return
        self._table.put_item(
            Item={
                "pk": cache_key(user_id, prompt),
                "value": json.dumps(value),
                "expires_at": expires_at(ttl_s),
            }
        )

    def clear(self) -> int:
        deleted = 0
        with self._table.batch_writer() as batch:
            for item in all_items(self._table.scan, ProjectionExpression="pk"):
                batch.delete_item(Key={"pk": item["pk"]})
                deleted += 1
        return deleted
