"""Given URLs a user or a model chose, the guard refuses every internal destination."""

from __future__ import annotations

import ipaddress

import pytest

from orchestrator.errors import BlockedAddressError, ToolInputError
from orchestrator.tools.network.url_guard import blocked_reason, check_url


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://127.8.9.10:8080/x",
        "http://10.1.2.3/",
        "http://172.16.0.1/",
        "http://192.168.1.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://169.254.170.2/v2/credentials",
        "http://[::1]/",
        "http://[fd00:ec2::254]/latest/meta-data/",
        "http://[::ffff:127.0.0.1]/",
        "http://[64:ff9b::a9fe:a9fe]/",  # NAT64 form of 169.254.169.254
        "http://0.0.0.0/",
        "http://100.64.0.1/",
        "http://224.0.0.1/",
        "http://localhost/",
        "http://localhost./admin",
        "http://2130706433/",  # 127.0.0.1 as one decimal number, resolved by getaddrinfo
        "http://metadata.google.internal/computeMetadata/v1/",
    ],
)
def test_internal_destinations_are_blocked(url: str) -> None:
    with pytest.raises(BlockedAddressError):
        check_url(url, allowed_hosts=[])


def test_a_name_resolving_to_loopback_is_blocked_with_the_address_named() -> None:
    with pytest.raises(BlockedAddressError) as caught:
        check_url("http://localhost:9/", allowed_hosts=[])
    assert caught.value.details["host"] == "localhost"
    assert ipaddress.ip_address(caught.value.details["address"]).is_loopback


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://example.com/", "gopher://x/", "http://", "not a url"]
)
def test_only_http_and_https_urls_are_accepted(url: str) -> None:
    with pytest.raises(ToolInputError):
        check_url(url, allowed_hosts=[])


def test_credentials_in_urls_are_refused() -> None:
    with pytest.raises(ToolInputError, match="credentials"):
        check_url("http://user:pw@93.184.216.34/", allowed_hosts=[])


def test_public_addresses_pass() -> None:
    target = check_url("https://93.184.216.34/path?q=1", allowed_hosts=[])

    assert target.addresses == (ipaddress.ip_address("93.184.216.34"),)
    assert target.port == 443
    assert not target.allowlisted


def test_allowlisted_host_may_be_private_but_metadata_stays_blocked() -> None:
    target = check_url("http://127.0.0.1:8000/", allowed_hosts=["127.0.0.1"])
    assert target.allowlisted

    with pytest.raises(BlockedAddressError, match="metadata"):
        check_url("http://169.254.169.254/", allowed_hosts=["169.254.169.254"])
    with pytest.raises(BlockedAddressError, match="metadata"):
        check_url("http://metadata.google.internal/", allowed_hosts=["metadata.google.internal"])


def test_registration_check_without_resolution_still_catches_literals_and_localhost() -> None:
    with pytest.raises(BlockedAddressError):
        check_url("http://10.0.0.5/api", allowed_hosts=[], resolve_host=False)
    with pytest.raises(BlockedAddressError):
        check_url("http://api.localhost/", allowed_hosts=[], resolve_host=False)
    # A name is only checked when called, so registration does not depend on DNS.
    assert check_url("https://api.example.invalid/v1", allowed_hosts=[], resolve_host=False).addresses == ()


def test_ipv6_forms_of_public_ipv4_are_allowed() -> None:
    assert blocked_reason(ipaddress.ip_address("::ffff:93.184.216.34")) is None
    assert blocked_reason(ipaddress.ip_address("::ffff:10.0.0.1")) is not None
