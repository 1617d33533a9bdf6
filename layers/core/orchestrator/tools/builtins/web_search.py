"""The ``web_search`` builtin: ``[{title, url, snippet}]`` from the configured search provider.

Providers by configuration (``WEB_SEARCH_PROVIDER``): ``searxng`` (a SearxNG instance's JSON API,
``WEB_SEARCH_URL`` + ``/search?q=…&format=json``), ``brave`` (Brave Search API) and ``tavily``
(Tavily API); their keys come from ``WEB_SEARCH_API_KEY`` locally or the secret named by
``WEB_SEARCH_API_KEY_SECRET_ID`` on AWS. The provider's address is the operator's, not the
model's, so it is not put through the URL guard (a SearxNG next to the function is the usual
setup); the model chooses only the query. Not configured: the tool is not offered to the model,
and a direct call is a clear tool error.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from orchestrator.errors import ConfigurationError, ToolExecutionError, TransientError

if TYPE_CHECKING:
    import httpx

    from orchestrator.config import Settings
    from orchestrator.tools.models import ToolContext

BRAVE_URL = "https://api.search.brave.com/res/v1/web/search"
TAVILY_URL = "https://api.tavily.com/search"
MAX_RESULTS = 10
SNIPPET_CHARS = 500


def is_configured(settings: Settings) -> bool:
    """Whether ``web_search`` can run (the registry offers it only then)."""
    if settings.web_search_provider == "searxng":
        return bool((settings.web_search_url or "").strip())
    return settings.web_search_provider in ("brave", "tavily")


def _api_key(settings: Settings) -> str:
    from orchestrator.secrets import read_secret

    direct = settings.web_search_api_key.get_secret_value() if settings.web_search_api_key else ""
    key = direct or (
        read_secret(settings.web_search_api_key_secret_id) if settings.web_search_api_key_secret_id else ""
    )
    if not key:
        raise ConfigurationError(f"web search provider '{settings.web_search_provider}' needs an API key")
    return key


def _result(title: Any, url: Any, snippet: Any) -> dict[str, str]:
    return {"title": str(title or ""), "url": str(url or ""), "snippet": str(snippet or "")[:SNIPPET_CHARS]}


def web_search(arguments: dict[str, Any], context: ToolContext) -> dict[str, Any]:
    settings = context.settings
    if not is_configured(settings):
        raise ToolExecutionError("web search is not configured (set WEB_SEARCH_PROVIDER and its URL or key)")
    query = str(arguments["query"]).strip()
    count = max(1, min(int(arguments.get("max_results", settings.web_search_max_results)), MAX_RESULTS))
    provider = settings.web_search_provider
    headers: dict[str, str] = {"Accept": "application/json"}
    json_body: Any = None
    params: dict[str, str] | None = None
    secret: str | None = None
    if provider == "searxng":
        url = f"{(settings.web_search_url or '').rstrip('/')}/search"
        params = {"q": query, "format": "json"}
    elif provider == "brave":
        secret = _api_key(settings)
        url = settings.web_search_url or BRAVE_URL
        params = {"q": query, "count": str(count)}
        headers["X-Subscription-Token"] = secret
    else:
        secret = _api_key(settings)
        url = settings.web_search_url or TAVILY_URL
        json_body = {"query": query, "max_results": count}
        headers["Authorization"] = f"Bearer {secret}"
    response = _send(
        settings, "POST" if json_body is not None else "GET", url, params, headers, json_body, secret, context
    )
    try:
        body: Any = response.json()
    except ValueError:
        raise ToolExecutionError(f"the {provider} search answered with a body that is not JSON") from None
    if not isinstance(body, dict):
        raise ToolExecutionError(f"the {provider} search answered with an unexpected body")
    if provider == "brave":
        rows = (body.get("web") or {}).get("results", [])
        results = [_result(r.get("title"), r.get("url"), r.get("description")) for r in rows]
    else:
        results = [_result(r.get("title"), r.get("url"), r.get("content")) for r in body.get("results", [])]
    return {"query": query, "provider": provider, "results": results[:count]}


def _send(  # noqa: PLR0917 - one request's parts, named at the one call site
    settings: Settings,
    method: str,
    url: str,
    params: dict[str, str] | None,
    headers: dict[str, str],
    json_body: Any,
    secret: str | None,
    context: ToolContext,
) -> httpx.Response:
    from orchestrator.clients.retrying import RetryPolicy
    from orchestrator.clients.transport import HttpTransport, error_text

    provider = settings.web_search_provider
    transport = HttpTransport(
        service=f"{provider} web search",
        error_cls=TransientError,
        policy=RetryPolicy(max_retries=2, budget_s=max(context.remaining(), 0.001), backoff_base_s=0.2),
        connect_timeout_s=min(3.0, settings.tool_timeout_s),
        read_timeout_s=settings.tool_timeout_s,
    )
    try:
        response = transport.request(
            method,
            url,
            params=params,
            headers=headers,
            json=json_body,
            deadline=context.deadline,
            secret=secret,
        )
        if response.status_code >= 400:
            raise ToolExecutionError(
                f"the {provider} search refused the query with HTTP {response.status_code}: "
                f"{error_text(response, secret)}"
            )
        response.read()
        return response
    finally:
        transport.close()
