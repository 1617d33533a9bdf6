"""The MCP SDK's HTTP transport, through the same SSRF guard as every other tool request.

Every request the SDK sends (the handshake, each call, a redirect it follows) is checked here:
its host is resolved and every address checked (:func:`~orchestrator.tools.network.url_guard.check_url`),
then the request goes to one of those *checked* addresses with the original ``Host`` header and
TLS server name, so a DNS answer that changes between check and connect cannot redirect it. The
SDK itself follows only redirects that stay on the endpoint's origin, and those come back here.
"""

from __future__ import annotations

import anyio.to_thread
import httpx2

from orchestrator.tools.network.url_guard import check_url


class GuardedTransport(httpx2.AsyncBaseTransport):
    """An ``httpx2`` transport that connects only to checked addresses of allowed hosts."""

    def __init__(self, allowed_hosts: list[str], inner: httpx2.AsyncBaseTransport | None = None) -> None:
        self._allowed_hosts = list(allowed_hosts)
        # No proxies from the environment: a proxy would connect to the name, not the checked address.
        self._inner = inner or httpx2.AsyncHTTPTransport(trust_env=False)

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        # getaddrinfo blocks: resolve on a worker thread, not on the event loop.
        target = await anyio.to_thread.run_sync(check_url, str(request.url), self._allowed_hosts)
        # IPv4 first: Lambda outside a VPC has no IPv6 egress.
        addresses = sorted(target.addresses, key=lambda a: a.version)
        original = request.url
        last_error: Exception | None = None
        for address in addresses:
            request.url = original.copy_with(host=str(address))
            request.headers["Host"] = original.netloc.decode("ascii")
            if target.scheme == "https":
                request.extensions["sni_hostname"] = target.host
            try:
                return await self._inner.handle_async_request(request)
            except httpx2.ConnectError as exc:
                last_error = exc  # the host's next checked address
            finally:
                request.url = original
        raise last_error or httpx2.ConnectError(f"no address to connect to for {target.host}")

    async def aclose(self) -> None:
        await self._inner.aclose()
