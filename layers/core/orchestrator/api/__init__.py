"""The HTTP API (FastAPI). On AWS, functions/api wraps :func:`create_app` with Mangum."""

from orchestrator.api.app import create_app

__all__ = ["create_app"]
