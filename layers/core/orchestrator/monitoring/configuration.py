"""The effective configuration as an operator may see it: every setting, no secret.

A value is masked (``MASK``) when its type is a secret (``SecretStr``) or its name says it is
one (a key, token, password, credential or secret, including the *ids* of secrets: where a
secret lives is no business of a browser either). URLs lose their user info, query and fragment,
where credentials hide. Unset secrets show as None, so "not configured" stays visible.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr

from orchestrator.secrets import safe_url

if TYPE_CHECKING:
    from orchestrator.config import Settings

MASK = "••••"
#: Name parts that make a setting secret whatever its type.
_SECRET_PARTS = frozenset(
    {"secret", "secrets", "key", "keys", "password", "passwd", "credential", "credentials"}
)
#: ``token`` names secrets (auth tokens) and sizes (``llm_max_tokens``): secret only when text.
_TOKEN_PARTS = frozenset({"token"})
_URL = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)


def is_secret_name(name: str, value: Any) -> bool:
    parts = set(name.lower().split("_"))
    return bool(parts & _SECRET_PARTS) or (bool(parts & _TOKEN_PARTS) and isinstance(value, str))


def shown_url(url: str) -> str:
    """``url`` without user info, query or fragment (where credentials travel); masked if unreadable."""
    try:
        return safe_url(url)
    except ValueError:  # an invalid port, say: nothing of it is shown
        return MASK


def masked(name: str, value: Any) -> Any:
    """One setting's value as shown: masked, a safe URL, or itself (JSON-ready)."""
    if value is None:
        return None
    if isinstance(value, SecretStr):
        return MASK if value.get_secret_value() else None
    if is_secret_name(name, value):
        return MASK if value != "" else None
    if isinstance(value, str) and _URL.match(value):
        return shown_url(value)
    if isinstance(value, list | tuple):
        return [masked(name, item) for item in value]
    if isinstance(value, dict):
        return {str(k): masked(str(k), v) for k, v in value.items()}
    if isinstance(value, str | int | float | bool):
        return value
    return str(value)


def masked_settings(settings: Settings) -> dict[str, Any]:
    """Every setting by name, masked where secret."""
    return {name: masked(name, getattr(settings, name)) for name in type(settings).model_fields}
