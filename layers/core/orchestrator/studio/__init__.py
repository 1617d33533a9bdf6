"""The Orchestrator Studio: one static page, served by the API at ``/studio``, that calls the API.

The page and its assets hold no data, so they are public like ``/docs``; every call the page makes
carries the key its user enters once, and the API's own auth decides what it sees. No build step:
plain ES modules and vendored UMD libraries (``static/vendor/VENDORED.md``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI
    from starlette.responses import Response
    from starlette.types import Scope

STATIC_DIR = Path(__file__).parent / "static"

#: Scripts, styles, fonts and calls only from this origin; no inline script, no framing. Chart.js
#: and cytoscape set element styles through the CSSOM, which ``style-src 'self'`` allows.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


def _secured(response: Response) -> Response:
    response.headers.update(SECURITY_HEADERS)
    return response


def mount_studio(app: FastAPI) -> None:
    """Serve the page at ``/studio`` and its assets under ``/studio/static``."""
    from fastapi.responses import FileResponse, RedirectResponse
    from fastapi.staticfiles import StaticFiles

    class StudioStatic(StaticFiles):
        async def get_response(self, path: str, scope: Scope) -> Response:
            return _secured(await super().get_response(path, scope))

    # Outside the OpenAPI schema like /docs: the page is not an API operation, and the
    # auth walk over /openapi.json (tests/security) covers the API routes, which stay behind auth.
    @app.get("/studio", include_in_schema=False)
    def studio_page() -> Response:
        return _secured(FileResponse(STATIC_DIR / "index.html", media_type="text/html"))

    @app.get("/studio/", include_in_schema=False)
    def studio_slash() -> Response:
        return _secured(RedirectResponse("/studio", status_code=308))

    app.mount("/studio/static", StudioStatic(directory=STATIC_DIR), name="studio-static")
