"""What a node tells a watching client while it runs: progress records, batched.

:class:`Progress` buffers what an action emits and writes it to the
:class:`~orchestrator.memory.run_events.RunEventStore`. Answer text deltas (``token``) are merged
and written at most every ``flush_ms`` or once ``flush_chars`` characters wait, so a fast model
costs a handful of writes per answer, not one per token. A failed write is logged and dropped:
progress is a courtesy to the watcher, never a reason to fail the run.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from orchestrator.memory.run_events import RunEventStore

logger = logging.getLogger("orchestrator.nodes")

#: The kinds a run emits, in the order a turn usually produces them.
KINDS = ("intent", "plan", "step", "tool_call", "tool_result", "citations", "token")


class Progress:
    """One action's progress buffer for run ``run_id`` of ``tenant_id``."""

    def __init__(
        self,
        store: RunEventStore,
        tenant_id: str,
        run_id: str,
        *,
        node: str,
        flush_ms: float,
        flush_chars: int,
        clock: Any = time.monotonic,
    ) -> None:
        self._store, self._tenant_id, self._run_id, self._node = store, tenant_id, run_id, node
        self._flush_s, self._flush_chars, self._clock = flush_ms / 1000, flush_chars, clock
        self._pending: list[tuple[str, dict[str, Any]]] = []
        self._token_chars = 0
        self._oldest: float | None = None

    def emit(self, kind: str, data: dict[str, Any]) -> None:
        if kind == "token":
            text = str(data.get("text", ""))
            if not text:
                return
            if self._pending and self._pending[-1][0] == "token":
                self._pending[-1][1]["text"] += text
            else:
                self._pending.append(("token", {"text": text}))
            self._token_chars += len(text)
            if self._oldest is None:
                self._oldest = self._clock()
            if self._token_chars >= self._flush_chars or self._clock() - self._oldest >= self._flush_s:
                self.flush()
            return
        self.add(kind, data)
        self.flush()  # structural events are rare and what the watcher waits for

    def add(self, kind: str, data: dict[str, Any]) -> None:
        """Queue a record for the next :meth:`flush`."""
        self._pending.append((kind, data))

    def flush(self) -> None:
        pending, self._pending = self._pending, []
        self._token_chars, self._oldest = 0, None
        if not pending:
            return
        try:
            self._store.append(self._tenant_id, self._run_id, pending, node=self._node)
        except Exception:
            logger.warning("could not write %d progress record(s) of run %s", len(pending), self._run_id)
