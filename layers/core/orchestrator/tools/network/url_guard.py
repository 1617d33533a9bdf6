"""SSRF guard for every tool that reaches a URL chosen by a user or a model.

A URL is allowed only if it is http(s) and *every* address its host resolves to is public
(``ipaddress.is_global``): loopback, private, link-local, shared (CGNAT), multicast, reserved
and unspecified ranges are refused, and so are IPv6 forms that embed an IPv4 address
(``::ffff:127.0.0.1``, 6to4, Teredo, NAT64). Cloud metadata endpoints are refused by name and by
address. The caller then connects to one of the *checked* addresses (see
:mod:`orchestrator.tools.network.guarded_http`), so a DNS answer that changes between check and connect
(DNS rebinding) cannot redirect the request.

``HTTP_TOOL_ALLOWED_HOSTS`` lists hosts that skip the private-address check. It exists so tests
and local setups can point tools at a server on 127.0.0.1 and so an operator can sanction an
internal API; it is empty by default and should stay empty on AWS. Metadata endpoints are
refused even when allowlisted: nothing a tool does needs instance credentials.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from orchestrator.errors import BlockedAddressError, ToolInputError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

METADATA_HOSTNAMES = frozenset(
    {
        "metadata.google.internal",
        "metadata.goog",
        "metadata",
        "instance-data",
        "instance-data.ec2.internal",
        "metadata.azure.internal",
    }
)
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack instance metadata
        "169.254.170.2",  # ECS task metadata and credentials
        "169.254.169.123",  # AWS time sync
        "fd00:ec2::254",  # AWS IMDS over IPv6
        "100.100.100.200",  # Alibaba Cloud metadata
    )
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


@dataclass(frozen=True)
class CheckedTarget:
    """A URL that passed the guard, with the addresses that were checked (connect to these only)."""

    url: str
    scheme: str
    host: str
    port: int
    addresses: tuple[IPAddress, ...]
    allowlisted: bool


def embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address hidden inside an IPv6 one (mapped, 6to4, Teredo, NAT64), if any."""
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def blocked_reason(address: IPAddress, *, allow_private: bool = False) -> str | None:
    """Why ``address`` may not be reached, or None when it may."""
    if address in METADATA_ADDRESSES:
        return "a cloud metadata address"
    inner = embedded_ipv4(address)
    if inner is not None:
        reason = blocked_reason(inner, allow_private=allow_private)
        return f"an IPv6 form of {reason}" if reason else None
    if allow_private:
        return None
    for label, flag in (
        ("a loopback address", address.is_loopback),
        ("a link-local address", address.is_link_local),
        ("a multicast address", address.is_multicast),
        ("an unspecified address", address.is_unspecified),
        ("a private address", address.is_private),
        ("a reserved address", address.is_reserved),
    ):
        if flag:
            return label
    if not address.is_global:
        return "a non-public address"  # e.g. 100.64.0.0/10 (carrier-grade NAT)
    return None


def _normalise_host(host: str) -> str:
    return host.strip().strip("[]").rstrip(".").lower()


def _split_entry(entry: str) -> tuple[str, int | None]:
    """An allowlist entry: ``host``, ``host:port``, ``[v6]`` or ``[v6]:port``."""
    text = entry.strip()
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    elif text.count(":") == 1:
        host, port = text.split(":")
    else:  # a bare name, IPv4, or an unbracketed IPv6 address
        host, port = text, ""
    return _normalise_host(host), int(port) if port.isdigit() else None


def is_allowlisted(host: str, allowed_hosts: list[str] | tuple[str, ...], port: int | None = None) -> bool:
    """Whether ``host`` (on ``port``) is allowlisted: a ``host`` entry opens every port of the host,
    a ``host:port`` entry that port only."""
    wanted = _normalise_host(host)
    for entry in allowed_hosts:
        entry_host, entry_port = _split_entry(entry)
        if entry_host == wanted and (entry_port is None or entry_port == port):
            return True
    return False


def parse_url(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of an http(s) URL, or :class:`ToolInputError`."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise ToolInputError(f"malformed URL: {exc}") from exc
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise ToolInputError(f"only http and https URLs are allowed, not {scheme or 'no scheme'!r}")
    host = _normalise_host(parts.hostname or "")
    if not host:
        raise ToolInputError("URL has no host")
    if parts.username is not None or parts.password is not None:
        raise ToolInputError("credentials in URLs are not allowed")
    return scheme, host, port or (443 if scheme == "https" else 80)


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def resolve(host: str, port: int) -> tuple[IPAddress, ...]:
    """Every address ``host`` resolves to (IP literals resolve to themselves)."""
    literal = _literal(host)
    if literal is not None:
        return (literal,)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise ToolInputError(f"cannot resolve host {host!r}") from exc
    addresses: list[IPAddress] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        # Drop an IPv6 zone id ("fe80::1%eth0") before parsing.
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise ToolInputError(f"cannot resolve host {host!r}")
    return tuple(addresses)


def check_host(
    host: str, addresses: tuple[IPAddress, ...], allowed_hosts: list[str], port: int | None = None
) -> bool:
    """Raise :class:`BlockedAddressError` unless every address may be reached; True if allowlisted."""
    if _normalise_host(host) in METADATA_HOSTNAMES:
        raise BlockedAddressError(f"host {host!r} is a cloud metadata endpoint")
    allowlisted = is_allowlisted(host, allowed_hosts, port)
    for address in addresses:
        reason = blocked_reason(address, allow_private=allowlisted)
        if reason:
            raise BlockedAddressError(
                f"host {host!r} resolves to {address}, {reason}",
                details={"host": host, "address": str(address)},
            )
    return allowlisted


def check_url(url: str, allowed_hosts: list[str], *, resolve_host: bool = True) -> CheckedTarget:
    """Parse and check ``url``; with ``resolve_host=False`` only IP literals and names are checked.

    Registration uses ``resolve_host=False``: a name resolved once at registration proves nothing
    about later calls, which are all checked again with resolution.
    """
    scheme, host, port = parse_url(url)
    if host in METADATA_HOSTNAMES:  # before resolving: off the cloud these names may not resolve
        raise BlockedAddressError(f"host {host!r} is a cloud metadata endpoint")
    literal = _literal(host)
    if resolve_host:
        addresses = resolve(host, port)
    else:
        addresses = (literal,) if literal is not None else ()
        if host == "localhost" or host.endswith(".localhost"):
            addresses = (ipaddress.ip_address("127.0.0.1"),)
    allowlisted = check_host(host, addresses, allowed_hosts, port)
    return CheckedTarget(
        url=url.strip(), scheme=scheme, host=host, port=port, addresses=addresses, allowlisted=allowlisted
    )
