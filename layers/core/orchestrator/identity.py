"""Who is calling: API keys and JWT claims become a :class:`Principal` (tenant, role, user).

Everything stored is keyed by tenant first, then user. An **API key** is an application's key:
it names a tenant (and a role), and the request's ``user_id`` names an end user inside that
tenant. A **JWT** (validated by the HTTP API's JWT authorizer on AWS) names the user itself, so
a request may not speak for anyone else unless the token's role is ``admin``.

Keys are kept only as SHA-256 digests and compared with :func:`hmac.compare_digest`; a key is
identified in logs and records by :func:`key_id` (a digest prefix), never by its value.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from orchestrator.errors import ConfigurationError, ForbiddenError, ValidationError

Role = Literal["user", "admin"]
ROLES: tuple[Role, ...] = ("user", "admin")
#: Tenants appear in storage keys: the same conservative alphabet as user ids, and no '#'.
TENANT_PATTERN = re.compile(r"^[A-Za-z0-9_.:@\-]{1,64}$")
#: The API's user id alphabet (``api.schemas.ID_PATTERN``): a token's user must fit it too.
USER_PATTERN = re.compile(r"^[A-Za-z0-9_.:@\-]{1,128}$")
MIN_KEY_CHARS = 16


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8")).digest()


def key_id(key: str) -> str:
    """A short, stable, non-secret name for a key (for logs and run records)."""
    return "key-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:12]


@dataclass(frozen=True)
class Principal:
    """The authenticated caller."""

    tenant_id: str
    role: Role
    #: ``api_key``, ``jwt``, or ``anonymous`` (auth off: local development).
    via: Literal["api_key", "jwt", "anonymous"]
    #: The user a JWT names; None for API keys (the request names the end user).
    user_id: str | None = None
    #: Non-secret id of the API key or token subject, for logs.
    subject: str = "anonymous"

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def end_user(self, requested: str | None) -> str | None:
        """The end user a request acts for.

        With an API key the request names the user inside the key's tenant. With a user token the
        token names the user, and a different ``requested`` one is refused (admins may act for any
        user of their tenant).
        """
        if self.via != "jwt" or self.user_id is None:
            return requested
        if requested is None or requested == self.user_id or self.is_admin:
            return requested or self.user_id
        raise ForbiddenError("user_id: a user token may only act for its own user")

    def viewed_user(self, requested: str | None) -> str | None:
        """Whose runs a listing shows: the end user, or None (the whole tenant) for admins only."""
        user = self.end_user(requested)
        if user is None and not self.is_admin:
            raise ValidationError("user_id: required (a user sees their own runs; the tenant's: admins)")
        return user


@dataclass(frozen=True)
class _KeyEntry:
    digest: bytes
    principal: Principal


class ApiKeyring:
    """API keys by digest. :meth:`lookup` compares against every entry in constant time."""

    def __init__(self, entries: Iterable[tuple[str, str, Role]]) -> None:
        self._entries: list[_KeyEntry] = []
        for key, tenant, role in entries:
            principal = Principal(tenant_id=tenant, role=role, via="api_key", subject=key_id(key))
            self._entries.append(_KeyEntry(_digest(key), principal))

    def __len__(self) -> int:
        return len(self._entries)

    def lookup(self, presented: str) -> Principal | None:
        digest = _digest(presented)
        found: Principal | None = None
        # No early exit: the time taken does not say which entry (or whether any) matched.
        for entry in self._entries:
            if hmac.compare_digest(entry.digest, digest):
                found = entry.principal
        return found


def _entry(key: str, tenant: object, role: object, default_tenant: str, where: str) -> tuple[str, str, Role]:
    # JSON entries may hold any type; environment variables may hold undecodable bytes, which
    # Python turns into lone surrogates that no hash or header can take.
    if not isinstance(tenant, str | None) or not isinstance(role, str | None):
        raise ConfigurationError(f"{where}: tenant and role must be strings")
    if not all(_encodable(part) for part in (key, tenant or "", role or "")):
        raise ConfigurationError(f"{where}: not valid text (undecodable bytes)")
    key = key.strip()
    tenant = (tenant or "").strip() or default_tenant
    role = (role or "").strip().lower() or "user"
    if len(key) < MIN_KEY_CHARS:
        raise ConfigurationError(f"{where}: an API key must have at least {MIN_KEY_CHARS} characters")
    if not TENANT_PATTERN.match(tenant):
        raise ConfigurationError(f"{where}: tenant {tenant!r} is not a valid tenant id")
    if role not in ROLES:
        raise ConfigurationError(f"{where}: role must be 'user' or 'admin', not {role!r}")
    return key, tenant, role  # type: ignore[return-value]  # checked against ROLES above


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def parse_api_keys(text: str, *, default_tenant: str = "default") -> ApiKeyring:
    """Keys from ``KEY[:TENANT[:ROLE]]`` entries (comma-separated) or a JSON list of objects.

    Errors name the entry's position, never the key.
    """
    text = text.strip()
    entries: list[tuple[str, str, Role]] = []
    if text.startswith(("[", "{")):
        try:
            document: Any = json.loads(text)
        except ValueError as exc:
            raise ConfigurationError("API keys: not valid JSON") from exc
        items = document if isinstance(document, list) else [document]
        for index, item in enumerate(items):
            if not isinstance(item, Mapping) or not isinstance(item.get("key"), str):
                raise ConfigurationError(f"API keys: entry {index} needs a string 'key'")
            entries.append(
                _entry(
                    item["key"],
                    item.get("tenant"),
                    item.get("role"),
                    default_tenant,
                    f"API keys entry {index}",
                )
            )
    else:
        for index, raw in enumerate(part for part in text.split(",") if part.strip()):
            key, _, rest = raw.strip().partition(":")
            tenant, _, role = rest.partition(":")
            entries.append(_entry(key, tenant, role, default_tenant, f"API keys entry {index}"))
    return ApiKeyring(entries)


def principal_from_claims(
    claims: Mapping[str, Any], *, tenant_claim: str, user_claim: str, role_claim: str, default_tenant: str
) -> Principal:
    """A JWT's claims (already verified by the authorizer) as a principal."""
    user = claims.get(user_claim)
    if not isinstance(user, str) or not USER_PATTERN.match(user):
        raise ForbiddenError(f"the token's '{user_claim}' claim is missing or not a valid user id")
    tenant = claims.get(tenant_claim) or default_tenant
    if not isinstance(tenant, str) or not TENANT_PATTERN.match(tenant):
        raise ForbiddenError(f"the token's '{tenant_claim}' claim is not a valid tenant id")
    raw_role = claims.get(role_claim)
    # Cognito groups arrive as a list, or as "[admin user]" text through API Gateway.
    roles = raw_role if isinstance(raw_role, list) else re.split(r"[\s,\[\]]+", str(raw_role or ""))
    role: Role = "admin" if "admin" in roles else "user"
    return Principal(tenant_id=tenant, role=role, via="jwt", user_id=user, subject=f"jwt:{user}")
