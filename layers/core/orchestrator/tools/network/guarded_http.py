"""HTTP requests for tools, through the SSRF guard on every hop.

Each hop's host is resolved and checked (:mod:`orchestrator.tools.network.url_guard`), then the request
is sent to a checked *address* with the original ``Host`` header and TLS server name, so the
address cannot change between check and connect. Redirects are followed by hand (at most
``max_redirects``), each one checked again. The body is streamed and cut at ``max_bytes``; the
caller's deadline bounds the whole exchange, including slow-drip bodies.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

from orchestrator.errors import ToolExecutionError, ToolInputError, ToolTimeoutError
from orchestrator.tools.network.url_guard import CheckedTarget, check_url

if TYPE_CHECKING:
    import httpx

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 3
#: The only headers forwarded when a redirect leaves the origin (or downgrades to http): any other
#: may carry a tool's credential, whatever its name.
_SAFE_ACROSS_ORIGINS = frozenset({"user-agent", "accept-encoding", "accept"})
USER_AGENT = "orchestrator-tools/1.0"


@dataclass(frozen=True)
class Fetched:
    url: str
    status: int
    content_type: str
    encoding: str
    body: bytes
    truncated: bool

    def text(self) -> str:
        try:
            return self.body.decode(self.encoding, errors="replace")
        except LookupError:  # a charset Python does not know
            return self.body.decode("utf-8", errors="replace")


def guarded_request(
    method: str,
    url: str,
    *,
    allowed_hosts: list[str],
    max_bytes: int,
    deadline: float,
    attempt_timeout_s: float,
    headers: dict[str, str] | None = None,
    params: dict[str, Any] | None = None,
    json_body: Any = None,
    max_redirects: int = MAX_REDIRECTS,
    transport: httpx.BaseTransport | None = None,
) -> Fetched:
    """One request (plus redirects) to a checked address; raises typed tool errors only.

    ``json_body`` is sent as JSON, or as it is when it is ``bytes``.
    """
    import httpx

    try:
        return _follow(
            method,
            url,
            allowed_hosts=allowed_hosts,
            max_bytes=max_bytes,
            deadline=deadline,
            attempt_timeout_s=attempt_timeout_s,
            headers={"User-Agent": USER_AGENT, "Accept-Encoding": "identity", **(headers or {})},
            params=params,
            json_body=json_body,
            max_redirects=max_redirects,
            transport=transport,
        )
    except httpx.InvalidURL as exc:  # what urlsplit accepts but httpx does not
        raise ToolInputError(f"malformed URL: {exc}") from exc


def _follow(
    method: str,
    url: str,
    *,
    allowed_hosts: list[str],
    max_bytes: int,
    deadline: float,
    attempt_timeout_s: float,
    headers: dict[str, str],
    params: dict[str, Any] | None,
    json_body: Any,
    max_redirects: int,
    transport: httpx.BaseTransport | None,
) -> Fetched:
    import httpx

    sent_headers = headers
    current = str(httpx.URL(url).copy_merge_params(params)) if params else url
    with httpx.Client(trust_env=False, follow_redirects=False, transport=transport) as client:
        for hop in range(max_redirects + 1):
            target = check_url(current, allowed_hosts)
            response = _send_pinned(
                client,
                method,
                target,
                sent_headers,
                json_body,
                deadline=deadline,
                attempt_timeout_s=attempt_timeout_s,
            )
            try:
                location = response.headers.get("location")
                if response.status_code in REDIRECT_STATUSES and location:
                    if hop == max_redirects:
                        raise ToolExecutionError(f"more than {max_redirects} redirects from {url}")
                    following = urljoin(current, location)
                    before, after = httpx.URL(current), httpx.URL(following)
                    if (after.scheme, after.netloc) != (before.scheme, before.netloc):
                        sent_headers = {
                            k: v for k, v in sent_headers.items() if k.lower() in _SAFE_ACROSS_ORIGINS
                        }
                    status = response.status_code
                    if status == 303 or (status in (301, 302) and method != "GET"):
                        method, json_body = "GET", None
                    current = following
                    continue
                body, truncated = _read_capped(response, max_bytes, deadline)
                return Fetched(
                    url=current,
                    status=response.status_code,
                    content_type=response.headers.get("content-type", ""),
                    encoding=response.charset_encoding or "utf-8",
                    body=body,
                    truncated=truncated,
                )
            finally:
                response.close()
    raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover


def _send_pinned(
    client: httpx.Client,
    method: str,
    target: CheckedTarget,
    headers: dict[str, str],
    json_body: Any,
    *,
    deadline: float,
    attempt_timeout_s: float,
) -> httpx.Response:
    import httpx

    url = httpx.URL(target.url)
    # IPv4 first: Lambda outside a VPC has no IPv6 egress, and getaddrinfo often lists IPv6 first.
    addresses = sorted(target.addresses, key=lambda a: a.version)
    last_error: Exception | None = None
    for address in addresses:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise ToolTimeoutError(f"no time left to reach {target.host}")
        request = client.build_request(
            method,
            url.copy_with(host=str(address)),
            headers={**headers, "Host": url.netloc.decode("ascii")},
            # bytes go as they are (the caller sets Content-Type); anything else as JSON.
            json=None if isinstance(json_body, bytes) else json_body,
            content=json_body if isinstance(json_body, bytes) else None,
            timeout=httpx.Timeout(min(attempt_timeout_s, remaining)),
            extensions={"sni_hostname": target.host} if target.scheme == "https" else None,
        )
        try:
            return client.send(request, stream=True)
        except httpx.TimeoutException as exc:
            raise ToolTimeoutError(f"{target.host} did not answer in time") from exc
        except httpx.ConnectError as exc:
            last_error = exc  # try the host's next checked address
        except httpx.HTTPError as exc:
            raise ToolExecutionError(f"request to {target.host} failed: {type(exc).__name__}") from exc
    raise ToolExecutionError(
        f"could not connect to {target.host}: {type(last_error).__name__}",
        details={"host": target.host},
    )


def _read_capped(response: httpx.Response, max_bytes: int, deadline: float) -> tuple[bytes, bool]:
    import httpx

    chunks: list[bytes] = []
    size = 0
    try:
        for chunk in response.iter_bytes():
            if time.monotonic() > deadline:
                raise ToolTimeoutError("response body took too long")
            chunks.append(chunk)
            size += len(chunk)
            if size >= max_bytes:
                return b"".join(chunks)[:max_bytes], size > max_bytes or _more_to_come(response, max_bytes)
    except httpx.TimeoutException as exc:
        raise ToolTimeoutError("response body took too long") from exc
    except httpx.HTTPError as exc:
        raise ToolExecutionError(f"reading the response failed: {type(exc).__name__}") from exc
    return b"".join(chunks), False


def _more_to_come(response: httpx.Response, max_bytes: int) -> bool:
    """At exactly ``max_bytes`` read, whether the body is longer (unknown length counts as longer)."""
    length = response.headers.get("content-length", "")
    return not length.isdigit() or int(length) > max_bytes
