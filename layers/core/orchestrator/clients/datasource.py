"""Client of an external search service merged into retrieval (``DATASOURCE_BASE_URL``).

Wire protocol::

    POST {base_url}/search
    Authorization: Bearer <token>          (only when a token is configured)
    {"query": str, "top_k": int, "user_id": str}

    200 → {"results": [{"id": str, "text": str, "score": float, "title": str (optional)}]}

The service filters by ``user_id`` itself. 408, 429, 5xx gateway errors and timeouts are retried, then
:class:`~orchestrator.errors.DatasourceUnavailableError`; any other failure, or a body without a
``results`` list, is a :class:`~orchestrator.errors.DatasourceError`. Malformed items inside an
otherwise valid list are skipped (and logged) rather than failing the whole search.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, SecretStr
from pydantic import ValidationError as PydanticValidationError

from orchestrator.clients.retrying import RetryPolicy
from orchestrator.clients.transport import HttpTransport, error_text
from orchestrator.errors import DatasourceError, DatasourceUnavailableError
from orchestrator.state import Passage, truncate

if TYPE_CHECKING:
    import httpx

    from orchestrator.config import Settings

logger = logging.getLogger(__name__)

#: Prefix of the source ids of data source passages, so a citation says where it came from
#: and cannot collide with a stored document's chunk id.
SOURCE_PREFIX = "datasource:"
CONNECT_TIMEOUT_S = 3.0


class DatasourceResult(BaseModel):
    id: str
    text: str
    score: float = 0.0
    title: str | None = None


class DatasourceClient:
    def __init__(
        self,
        base_url: str,
        auth_token: SecretStr | None = None,
        timeout_s: float = 5.0,
        max_retries: int = 2,
        http_client: httpx.Client | None = None,
        *,
        budget_s: float | None = None,
        backoff_base_s: float = 0.2,
        passage_max_chars: int = 2_000,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._auth_token = auth_token
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self.budget_s = budget_s if budget_s is not None else timeout_s * (max_retries + 1)
        self.passage_max_chars = passage_max_chars
        self._transport = HttpTransport(
            service="data source",
            error_cls=DatasourceUnavailableError,
            policy=RetryPolicy(
                max_retries=max_retries, budget_s=self.budget_s, backoff_base_s=backoff_base_s, sleep=sleep
            ),
            connect_timeout_s=min(timeout_s, CONNECT_TIMEOUT_S),
            read_timeout_s=timeout_s,
            http_client=http_client,
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> DatasourceClient | None:
        base_url = (settings.datasource_base_url or "").strip()
        if not base_url:
            return None
        return cls(
            base_url,
            settings.datasource_auth_token,
            timeout_s=settings.datasource_timeout_s,
            max_retries=settings.datasource_max_retries,
            budget_s=settings.datasource_retry_budget_s,
            backoff_base_s=settings.http_backoff_base_s,
            passage_max_chars=settings.grounding_passage_max_chars,
        )

    def search(
        self, query: str, *, top_k: int, user_id: str, tenant_id: str, deadline: float | None = None
    ) -> list[Passage]:
        """The service's best ``top_k`` passages for ``query``, best first.

        ``deadline`` (a :func:`time.monotonic` instant) shortens the retry budget: the search
        ends by then, with :class:`~orchestrator.errors.DatasourceUnavailableError` if it must.
        """
        token = self._auth_token.get_secret_value() if self._auth_token else None
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        response = self._transport.request(
            "POST",
            f"{self.base_url}/search",
            json={"query": query, "top_k": top_k, "user_id": user_id, "tenant_id": tenant_id},
            headers=headers,
            deadline=deadline,
            secret=token,
        )
        status = response.status_code
        if not 200 <= status < 300:
            raise DatasourceError(
                f"The data source rejected the search with HTTP {status}: {error_text(response, token)}",
                details={"status": status},
            )
        try:
            body: Any = response.json()
        except ValueError:
            raise DatasourceError("The data source returned a body that is not JSON") from None
        results = body.get("results") if isinstance(body, dict) else None
        if not isinstance(results, list):
            raise DatasourceError("The data source's reply has no 'results' list")
        return self._passages(results, top_k)

    def _passages(self, results: list[Any], top_k: int) -> list[Passage]:
        passages: list[Passage] = []
        skipped = 0
        for item in results:
            try:
                result = DatasourceResult.model_validate(item)
            except PydanticValidationError:
                skipped += 1
                continue
            if result.text.strip():
                passages.append(
                    Passage(
                        source_id=f"{SOURCE_PREFIX}{result.id}",
                        text=truncate(result.text.strip(), self.passage_max_chars),
                        score=result.score,
                        title=result.title,
                    )
                )
        if skipped:
            logger.warning("data source returned malformed results", extra={"skipped": skipped})
        passages.sort(key=lambda p: p.score, reverse=True)
        return passages[:top_k]

    def close(self) -> None:
        self._transport.close()
