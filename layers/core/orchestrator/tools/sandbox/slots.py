"""Bounded concurrency for code runs: a full house answers ``busy`` instead of queueing threads."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

from orchestrator.errors import ToolBusyError


class ExecutionSlots:
    """At most ``size`` programs at once; a caller waits up to ``wait_s`` for a slot, then gets busy."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._semaphore = threading.BoundedSemaphore(size)

    @contextmanager
    def hold(self, wait_s: float) -> Iterator[None]:
        if not self._semaphore.acquire(timeout=max(0.0, wait_s)):
            raise ToolBusyError(
                f"all {self.size} code-execution slots are busy; try again shortly",
                details={"max_concurrency": self.size},
            )
        try:
            yield
        finally:
            self._semaphore.release()


@cache
def process_slots(size: int) -> ExecutionSlots:
    """The process-wide slots for ``CODE_EXEC_MAX_CONCURRENCY=size``."""
    return ExecutionSlots(size)
