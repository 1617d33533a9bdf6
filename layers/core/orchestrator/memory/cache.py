"""Exact-match response cache: same tenant, same user, same normalised prompt, within the TTL.

Table: HASH ``pk`` = tenant, RANGE ``sk`` = ``<user>#<sha256 of the normalised prompt>``, so one
user's entries and one tenant's entries are each a single Query away — clearing either never
reads another tenant's items.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from typing import Any

from orchestrator.aws.dynamodb import all_items, expires_at, table
from orchestrator.errors import StorageUnavailableError

logger = logging.getLogger(__name__)

#: Only answers that don't depend on live data are cached; tools and agents act on the world.
CACHEABLE_INTENTS = frozenset({"chat", "rag"})


def cache_key(user_id: str, prompt: str) -> str:
    """The sort key of a user's cached answer to ``prompt``."""
    normalised = re.sub(r"\s+", " ", prompt.strip().lower())
    return f"{user_id}#{hashlib.sha256(normalised.encode()).hexdigest()}"


class ResponseCache:
    def __init__(self, table_name: str, *, region: str, resource: Any | None = None) -> None:
        self._table = table(table_name, region, resource)

    def get(self, tenant_id: str, user_id: str, prompt: str) -> dict[str, Any] | None:
        key = {"pk": tenant_id, "sk": cache_key(user_id, prompt)}
        try:
            item = self._table.get_item(Key=key).get("Item")
        except StorageUnavailableError:
            # A cache is an optimisation: a throttled table answers as a miss, the turn runs.
            logger.warning("response cache unavailable: treated as a miss")
            return None
        # DynamoDB deletes expired items lazily (up to days later), so expiry is checked on read.
        if not item or int(item.get("expires_at", 0)) <= time.time():
            return None
        value: dict[str, Any] = json.loads(item["value"])
        return value

    def put(self, tenant_id: str, user_id: str, prompt: str, value: dict[str, Any], ttl_s: int) -> None:
        if ttl_s <= 0:
            return
        item = {
            "pk": tenant_id,
            "sk": cache_key(user_id, prompt),
            "value": json.dumps(value),
            "expires_at": expires_at(ttl_s),
        }
        try:
            self._table.put_item(Item=item)
        except StorageUnavailableError:
            # The answer is already remembered; failing the turn for its cache entry would lose it.
            logger.warning("response cache unavailable: answer not cached")

    def clear(self, tenant_id: str, user_id: str | None = None) -> int:
        """Delete one user's cached answers, or (``user_id=None``) the whole tenant's."""
        from boto3.dynamodb.conditions import Key

        condition: Any = Key("pk").eq(tenant_id)
        if user_id is not None:
            condition = condition & Key("sk").begins_with(f"{user_id}#")
        deleted = 0
        with self._table.batch_writer() as batch:
            for item in all_items(
                self._table.query, KeyConditionExpression=condition, ProjectionExpression="pk, sk"
            ):
                batch.delete_item(Key={"pk": item["pk"], "sk": item["sk"]})
                deleted += 1
        return deleted
