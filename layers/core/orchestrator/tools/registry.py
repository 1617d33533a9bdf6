"""The tools a request may use: builtins, then the operator's config file, then its tenant's tools.

A name resolves in that order and cannot be shadowed: registering a builtin's or a configured
tool's name is refused. Config-file and run-time tools are ``http`` tools (a builtin needs code).
Builtin and configured tools are global; a registered tool belongs to the tenant that registered
it, and no other tenant sees it. Registration is governed (see :class:`ToolPolicy`): the tool's
secret must live under the tenant's tools prefix, its URL must pass the network guard, and its
description and schema are capped — descriptions are data the model reads, not instructions.
"""

from __future__ import annotations

import copy
import json
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError as PydanticValidationError

from orchestrator.errors import (
    ConfigurationError,
    ConflictError,
    OrchestratorError,
    ToolInputError,
    ToolNotFoundError,
    TransientError,
    ValidationError,
)
from orchestrator.state import DEFAULT_TENANT
from orchestrator.tools.builtins import BUILTIN_DEFINITIONS, BUILTIN_NAMES
from orchestrator.tools.models import TOOL_NAME_PATTERN, ToolDefinition
from orchestrator.tools.netguard import check_host, check_url, resolve
from orchestrator.tools.store import DynamoToolStore, InMemoryToolStore, ToolStore

if TYPE_CHECKING:
    from orchestrator.config import Settings

logger = logging.getLogger(__name__)


def load_config_tools(path: str | Path, allowed_hosts: list[str] | None = None) -> list[ToolDefinition]:
    """Tools from a JSON file holding a list of definitions (or ``{"tools": [...]}``)."""
    source = Path(path)
    try:
        document: Any = json.loads(source.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"cannot read tools config {source}: {exc}") from exc
    entries = document.get("tools") if isinstance(document, dict) else document
    if not isinstance(entries, list):
        raise ConfigurationError(f"tools config {source} must hold a list of tool definitions")
    tools: list[ToolDefinition] = []
    for index, entry in enumerate(entries):
        try:
            definition = ToolDefinition.model_validate(entry)
            _check_http_tool(definition, allowed_hosts or [], existing={t.name for t in tools})
        except (PydanticValidationError, OrchestratorError) as exc:
            raise ConfigurationError(f"tools config {source}, entry {index}: {_describe(exc)}") from exc
        tools.append(definition)
    return tools


def _describe(exc: Exception) -> str:
    if isinstance(exc, PydanticValidationError):
        return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'tool'}: {e['msg']}" for e in exc.errors()[:5])
    return exc.message if isinstance(exc, OrchestratorError) else str(exc)


def _check_http_tool(definition: ToolDefinition, allowed_hosts: list[str], existing: set[str]) -> None:
    if definition.name in BUILTIN_NAMES:
        raise ValidationError(f"'{definition.name}' is a builtin tool and cannot be redefined")
    if definition.name in existing:
        raise ValidationError(f"tool '{definition.name}' is already defined")
    if definition.kind != "http" or definition.http is None:
        raise ValidationError("only http tools can be added; builtin tools come with the code")
    # Literal IPs, localhost and metadata names fail right away. A name that resolves to a
    # private address fails too; one that does not resolve yet is accepted, since every call is
    # resolved and checked again anyway (an answer now proves nothing about later ones).
    target = check_url(definition.http.url, allowed_hosts, resolve_host=False)
    if not target.addresses:
        try:
            addresses = resolve(target.host, target.port)
        except ToolInputError:
            return
        check_host(target.host, addresses, allowed_hosts)


@contextmanager
def _store_errors(action: str) -> Iterator[None]:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except (BotoCoreError, ClientError) as exc:
        logger.warning("tool registry: %s failed: %s", action, type(exc).__name__)
        raise TransientError(f"the tool registry is unavailable ({action})") from exc


class LimitExceededError(ConflictError):
    code = "limit_exceeded"


#: Secret names: Secrets Manager's alphabet, no ARNs (a name is resolved in this account only).
_SECRET_NAME = re.compile(r"^[A-Za-z0-9/_+=.@-]{1,512}$")


@dataclass(frozen=True)
class ToolPolicy:
    """What an admin may register: where secrets live, how many tools, how large."""

    secret_prefix: str = "/orchestrator/local/tools/"  # noqa: S105 - a path, not a secret
    max_per_tenant: int = 50
    max_description_chars: int = 500
    max_schema_bytes: int = 8_192

    @classmethod
    def from_settings(cls, settings: Settings) -> ToolPolicy:
        return cls(
            secret_prefix=settings.tools_secret_prefix.replace("{environment}", settings.environment),
            max_per_tenant=settings.tools_max_per_tenant,
            max_description_chars=settings.tools_max_description_chars,
            max_schema_bytes=settings.tools_max_schema_bytes,
        )

    def tenant_prefix(self, tenant_id: str) -> str:
        return f"{self.secret_prefix.rstrip('/')}/{tenant_id}/"

    def check(self, definition: ToolDefinition, tenant_id: str) -> None:
        """Refuse what no tenant may register (422). Says nothing of which secrets exist."""
        if len(definition.description) > self.max_description_chars:
            raise ValidationError(
                f"description: {len(definition.description)} characters is over the limit of "
                f"{self.max_description_chars}"
            )
        schema_bytes = len(json.dumps(definition.parameters).encode())
        if schema_bytes > self.max_schema_bytes:
            raise ValidationError(
                f"parameters: the schema is {schema_bytes} bytes, over the limit of {self.max_schema_bytes}"
            )
        secret_id = definition.http.auth_secret_id if definition.http else None
        if secret_id is not None:
            prefix = self.tenant_prefix(tenant_id)
            # The check is on the name alone, before any read: the answer is the same whether
            # or not the secret exists, so registration cannot probe for secrets.
            if not (_SECRET_NAME.match(secret_id) and secret_id.startswith(prefix) and ".." not in secret_id):
                raise ValidationError(
                    f"http.auth_secret_id: a tool's secret must be a secret name under '{prefix}'",
                    details={"field": "http.auth_secret_id", "allowed_prefix": prefix},
                )


class ToolRegistry:
    def __init__(
        self,
        *,
        config_tools: list[ToolDefinition] | None = None,
        store: ToolStore | None = None,
        allowed_hosts: list[str] | None = None,
        policy: ToolPolicy | None = None,
        tenant_id: str = DEFAULT_TENANT,
    ) -> None:
        self._builtins = {d.name: d for d in BUILTIN_DEFINITIONS}
        self._configured = {d.name: d for d in config_tools or []}
        self._store = store if store is not None else InMemoryToolStore()
        self._allowed_hosts = list(allowed_hosts or [])
        self._policy = policy or ToolPolicy()
        self.tenant_id = tenant_id

    @classmethod
    def from_settings(cls, settings: Settings, *, dynamodb_resource: Any | None = None) -> ToolRegistry:
        """Builtins, ``TOOLS_CONFIG_PATH`` (if set) and the ``TOOLS_TABLE`` (if set)."""
        allowed = settings.http_tool_allowed_hosts
        path = settings.tools_config_path
        configured = load_config_tools(path, allowed) if path else []
        store: ToolStore | None = None
        if settings.tools_table.strip():
            store = DynamoToolStore(
                settings.tools_table.strip(), region=settings.aws_region, resource=dynamodb_resource
            )
        return cls(
            config_tools=configured,
            store=store,
            allowed_hosts=allowed,
            policy=ToolPolicy.from_settings(settings),
        )

    def for_tenant(self, tenant_id: str) -> ToolRegistry:
        """The same registry seen by ``tenant_id``: the global tools plus that tenant's own."""
        scoped = copy.copy(self)
        scoped.tenant_id = tenant_id
        return scoped

    def is_builtin(self, name: str) -> bool:
        return name in self._builtins

    def is_global(self, name: str) -> bool:
        return name in self._builtins or name in self._configured

    def list(self) -> list[ToolDefinition]:
        """Every tool this tenant may use; if the table is unreachable, the global ones (logged)."""
        tools = [*self._builtins.values(), *self._configured.values()]
        try:
            with _store_errors("list"):
                stored = self._store.list(self.tenant_id)
        except TransientError:
            # A chat turn should still have the builtins when DynamoDB has a bad minute.
            return tools
        known = {t.name for t in tools}
        return tools + [t for t in stored if t.name not in known]

    def get(self, name: str) -> ToolDefinition:
        found = self._builtins.get(name) or self._configured.get(name)
        if found is None and re.fullmatch(TOOL_NAME_PATTERN, name):
            with _store_errors("get"):
                found = self._store.get(self.tenant_id, name)
        if found is None:
            raise ToolNotFoundError(f"no tool named '{name}'", details={"name": name})
        return found

    def register(self, definition: ToolDefinition, *, replace: bool = False) -> ToolDefinition:
        """Add a run-time ``http`` tool for this tenant; ``replace=True`` replaces one of its own.

        Builtin and configured names are never replaced (409), nor is an existing tool without
        ``replace`` (409); the policy's checks are 422; past the tenant's limit is 409.
        """
        if self.is_global(definition.name):
            where = "a builtin" if self.is_builtin(definition.name) else "defined in the tools config file"
            raise ConflictError(f"'{definition.name}' is {where} and cannot be replaced")
        _check_http_tool(definition, self._allowed_hosts, existing=set())
        self._policy.check(definition, self.tenant_id)
        with _store_errors("register"):
            existing = self._store.list(self.tenant_id)
            is_new = all(t.name != definition.name for t in existing)
            if is_new and len(existing) >= self._policy.max_per_tenant:
                raise LimitExceededError(
                    f"this tenant already has {len(existing)} registered tools, the limit",
                    details={"limit": self._policy.max_per_tenant},
                )
            self._store.put(self.tenant_id, definition, replace=replace)
        logger.info(
            "tool registered: %s (%s) for tenant %s", definition.name, definition.kind, self.tenant_id
        )
        return definition

    def delete(self, name: str) -> None:
        """Delete this tenant's tool ``name``; global tools are 409, unknown names 404."""
        if self.is_global(name):
            raise ConflictError(f"'{name}' is a builtin or configured tool and cannot be deleted")
        with _store_errors("delete"):
            deleted = re.fullmatch(TOOL_NAME_PATTERN, name) is not None and self._store.delete(
                self.tenant_id, name
            )
        if not deleted:
            raise ToolNotFoundError(f"no tool named '{name}'", details={"name": name})
        logger.info("tool deleted: %s for tenant %s", name, self.tenant_id)
