"""The load smoke test runs against the same local stack as the e2e suite: moto, the real ASL, handlers."""

from __future__ import annotations

from tests.e2e.conftest import client, fake_agent, stack

__all__ = ["client", "fake_agent", "stack"]
