"""API keys of two tenants for the attack suite (``API_KEYS`` format), and the header to send one."""

from __future__ import annotations

ACME_ADMIN = "acme-admin-key-0123456789abcdef"
ACME_APP = "acme-app-key-0123456789abcdef00"
GLOBEX_APP = "globex-app-key-0123456789abcdef0"
GLOBEX_ADMIN = "globex-admin-key-0123456789abcdef"
KEYS = f"{ACME_ADMIN}:acme:admin,{ACME_APP}:acme,{GLOBEX_APP}:globex:user,{GLOBEX_ADMIN}:globex:admin"


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}
