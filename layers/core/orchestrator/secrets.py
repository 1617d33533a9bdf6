"""Secrets: from the environment (or `.env`) locally, from Secrets Manager on AWS.

A value set directly (``LLM_API_KEY``) wins; otherwise the ``*_SECRET_ID`` setting names a
Secrets Manager secret read through Powertools Parameters, cached for five minutes so a rotated
key is picked up without a redeploy. A secret may hold the bare value or a JSON object with the
value under a conventional key. Placeholder values (what a template creates before an operator
fills the secret in) count as unset, so the caller can say "not configured" instead of sending
``REPLACE_ME`` to a provider. Nothing here logs a value.
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any

from orchestrator.errors import ConfigurationError

if TYPE_CHECKING:
    from pydantic import SecretStr

    from orchestrator.config import Settings

#: Seconds Powertools keeps a fetched secret before reading it again.
SECRET_MAX_AGE_S = 300

_PLACEHOLDERS = frozenset(
    {"", "changeme", "change-me", "change_me", "placeholder", "replace_me", "replace-me", "replaceme"}
    | {"todo", "none", "null", "unset", "dummy", "xxx", "your-api-key", "your_api_key", "sk-..."}
)

_LLM_KEY_FIELDS = ("LLM_API_KEY", "llm_api_key", "api_key", "apiKey", "key")
_AGENT_TOKEN_FIELDS = ("EXTERNAL_AGENT_AUTH_TOKEN", "external_agent_auth_token", "token", "auth_token")


def is_placeholder(value: str | None) -> bool:
    """True for empty values and the usual "fill me in" markers."""
    if value is None:
        return True
    text = value.strip()
    lowered = text.lower()
    if lowered in _PLACEHOLDERS or "replace_me" in lowered or "replace-me" in lowered:
        return True
    return text.startswith("<") and text.endswith(">")


def _from_secret_string(raw: str, fields: tuple[str, ...]) -> str | None:
    text = raw.strip()
    if text.startswith("{"):
        try:
            document: Any = json.loads(text)
        except ValueError:
            return text
        if isinstance(document, dict):
            for name in fields:
                candidate = document.get(name)
                if isinstance(candidate, str):
                    return candidate
            return None
    return text


def read_secret(secret_id: str, fields: tuple[str, ...] = ()) -> str | None:
    """The secret's value (or its ``fields`` entry when it is JSON); placeholders → None."""
    from aws_lambda_powertools.utilities import parameters

    try:
        raw = parameters.get_secret(secret_id, max_age=SECRET_MAX_AGE_S)
    except parameters.GetParameterError as error:
        # The provider's message names the secret id and the AWS error code, never the value.
        raise ConfigurationError(
            f"Could not read secret '{secret_id}' from Secrets Manager",
            details={"secret_id": secret_id, "reason": type(error.__cause__ or error).__name__},
        ) from error
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", errors="replace")
    if not isinstance(raw, str):
        return None
    value = _from_secret_string(raw, fields)
    return None if is_placeholder(value) else value


def _resolve(direct: SecretStr | None, secret_id: str | None, fields: tuple[str, ...]) -> str | None:
    if direct is not None and not is_placeholder(direct.get_secret_value()):
        return direct.get_secret_value()
    if secret_id and secret_id.strip():
        return read_secret(secret_id.strip(), fields)
    return None


def get_llm_api_key(settings: Settings) -> str | None:
    """The model provider's API key, or None when none is configured (local servers need none)."""
    return _resolve(settings.llm_api_key, settings.llm_api_key_secret_id, _LLM_KEY_FIELDS)


def get_external_agent_token(settings: Settings) -> str | None:
    """The external agent's bearer token, or None when none is configured."""
    return _resolve(
        settings.external_agent_auth_token, settings.external_agent_token_secret_id, _AGENT_TOKEN_FIELDS
    )


def get_agent_token(secret_id: str | None, env_name: str | None) -> str | None:
    """A configured external agent's bearer token: its secret, else its environment variable."""
    if secret_id and secret_id.strip():
        return read_secret(secret_id.strip(), _AGENT_TOKEN_FIELDS)
    value = os.environ.get(env_name) if env_name else None
    return None if is_placeholder(value) else value


def redact(text: str, *secrets: str | None) -> str:
    """``text`` with every occurrence of the given secrets replaced (for error messages)."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return text


def safe_url(url: str) -> str:
    """Scheme, host and path only: query strings and userinfo may carry credentials."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"
