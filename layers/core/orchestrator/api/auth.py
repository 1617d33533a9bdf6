"""Authentication for every route but ``/health``: ``Authorization: Bearer <API key or JWT>``.

On AWS, JWTs are verified by the HTTP API's JWT authorizer, which hands the claims to the Lambda
in ``requestContext.authorizer.jwt.claims`` (Mangum exposes the event as ``scope["aws.event"]``);
a client cannot forge that part of the event. API keys are checked here, against digests.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from orchestrator.api.deps import SettingsDep
from orchestrator.config import Settings
from orchestrator.errors import AuthenticationError, ConfigurationError
from orchestrator.identity import ApiKeyring, Principal, parse_api_keys, principal_from_claims

logger = logging.getLogger("orchestrator.api.auth")

_bearer = HTTPBearer(auto_error=False, description="An API key, or a JWT when the JWT authorizer is on.")


@lru_cache(maxsize=4)
def _parsed(text: str, default_tenant: str) -> ApiKeyring:
    return parse_api_keys(text, default_tenant=default_tenant)


def keyring(settings: Settings) -> ApiKeyring:
    """The configured keys: ``API_KEYS`` locally, else the ``API_KEYS_SECRET_ID`` secret (cached)."""
    text = settings.api_keys.get_secret_value() if settings.api_keys else ""
    if not text.strip() and settings.api_keys_secret_id:
        from orchestrator.secrets import read_secret

        text = read_secret(settings.api_keys_secret_id) or ""
    return _parsed(text, settings.default_tenant)


def _jwt_claims(request: Request) -> dict[str, Any] | None:
    event = request.scope.get("aws.event")
    if not isinstance(event, dict):
        return None
    claims = event.get("requestContext", {}).get("authorizer", {}).get("jwt", {}).get("claims")
    return claims if isinstance(claims, dict) else None


def authenticate(
    request: Request, settings: Settings, credentials: HTTPAuthorizationCredentials | None
) -> Principal:
    """The caller, or :class:`AuthenticationError` (401)."""
    if not settings.auth_enabled:
        return Principal(tenant_id=settings.default_tenant, role="admin", via="anonymous")
    claims = _jwt_claims(request)
    if claims is not None:
        return principal_from_claims(
            claims,
            tenant_claim=settings.jwt_tenant_claim,
            user_claim=settings.jwt_user_claim,
            role_claim=settings.jwt_role_claim,
            default_tenant=settings.default_tenant,
        )
    if credentials is None or not credentials.credentials.strip():
        raise AuthenticationError("Authentication required: send 'Authorization: Bearer <API key>'.")
    try:
        keys = keyring(settings)
    except ConfigurationError:
        logger.error("auth: the API keys are misconfigured; refusing every key")
        raise AuthenticationError("Invalid credentials.") from None
    principal = keys.lookup(credentials.credentials.strip())
    if principal is None:
        raise AuthenticationError("Invalid credentials.")
    return principal


def get_principal(
    request: Request,
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    principal = authenticate(request, settings, credentials)
    request.state.principal = principal
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]
