"""What may be added to the tool registry, from the config file or at run time.

:func:`check_addable` holds for every added tool: an ``http`` tool (or an ``mcp`` server) with a
new name, a usable JSON Schema for its arguments, and a URL that passes the network guard.
:class:`ToolPolicy` governs what a tenant's admin may register on top: where its secrets live,
how many tools, how large — descriptions are data the model reads, not instructions.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from orchestrator.errors import ToolInputError, ValidationError
from orchestrator.tools.builtins.definitions import BUILTIN_NAMES
from orchestrator.tools.json_schema.parameters import check_parameters_schema
from orchestrator.tools.models import ToolDefinition
from orchestrator.tools.network.url_guard import check_host, check_url, resolve

if TYPE_CHECKING:
    from orchestrator.config import Settings


def check_addable(definition: ToolDefinition, allowed_hosts: list[str], existing: set[str]) -> None:
    """Refuse (422) what can never be a tool: builtin names, duplicates, bad schemas, private URLs."""
    if definition.name in BUILTIN_NAMES:
        raise ValidationError(f"'{definition.name}' is a builtin tool and cannot be redefined")
    if definition.name in existing:
        raise ValidationError(f"tool '{definition.name}' is already defined")
    if definition.http is not None:
        url = definition.http.url
        check_parameters_schema(definition.parameters)
    elif definition.mcp is not None and definition.is_mcp_server:
        url = definition.mcp.url  # its tools' schemas come from the server, checked when listed
    else:
        raise ValidationError("only http tools and mcp servers can be added; builtins come with the code")
    # Literal IPs, localhost and metadata names fail right away. A name that resolves to a
    # private address fails too; one that does not resolve yet is accepted, since every call is
    # resolved and checked again anyway (an answer now proves nothing about later ones).
    target = check_url(url, allowed_hosts, resolve_host=False)
    if not target.addresses:
        try:
            addresses = resolve(target.host, target.port)
        except ToolInputError:
            return
        check_host(target.host, addresses, allowed_hosts, target.port)


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
        secret_id = definition.secret_id
        if secret_id is not None:
            field = f"{definition.kind}.auth_secret_id"
            prefix = self.tenant_prefix(tenant_id)
            # The check is on the name alone, before any read: the answer is the same whether
            # or not the secret exists, so registration cannot probe for secrets.
            if not (_SECRET_NAME.match(secret_id) and secret_id.startswith(prefix) and ".." not in secret_id):
                raise ValidationError(
                    f"{field}: a tool's secret must be a secret name under '{prefix}'",
                    details={"field": field, "allowed_prefix": prefix},
                )
