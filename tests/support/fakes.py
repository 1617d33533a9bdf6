"""In-memory stand-ins for the stores and services a node's deps name, for node unit tests.

Each keeps what it was given so a test can assert on it; none patches our own code.
"""

from __future__ import annotations

import time
from typing import Any

from orchestrator.memory import Turn
from orchestrator.memory.cache import cache_key
from orchestrator.memory.runs import RunRecord
from orchestrator.state import Passage


class FakeConversations:
    def __init__(self) -> None:
        self.turns: dict[tuple[str, str, str], list[Turn]] = {}

    def append(self, tenant_id: str, user_id: str, session_id: str, turn: Turn, ttl_s: int = 0) -> None:
        session = self.turns.setdefault((tenant_id, user_id, session_id), [])
        session[:] = [t for t in session if t.run_id != turn.run_id] + [turn]

    def recent(self, tenant_id: str, user_id: str, session_id: str, max_turns: int) -> list[Turn]:
        return self.turns.get((tenant_id, user_id, session_id), [])[-max_turns:] if max_turns > 0 else []

    def clear(self, tenant_id: str, user_id: str, session_id: str) -> int:
        return len(self.turns.pop((tenant_id, user_id, session_id), []))


class FakeCache:
    def __init__(self) -> None:
        self.items: dict[tuple[str, str], dict[str, Any]] = {}

    def get(self, tenant_id: str, user_id: str, prompt: str) -> dict[str, Any] | None:
        return self.items.get((tenant_id, cache_key(user_id, prompt)))

    def put(self, tenant_id: str, user_id: str, prompt: str, value: dict[str, Any], ttl_s: int) -> None:
        if ttl_s > 0:
            self.items[(tenant_id, cache_key(user_id, prompt))] = value

    def clear(self, tenant_id: str, user_id: str | None = None) -> int:
        doomed = [
            k for k in self.items if k[0] == tenant_id and (user_id is None or k[1].startswith(f"{user_id}#"))
        ]
        for key in doomed:
            del self.items[key]
        return len(doomed)


class FakeRuns:
    def __init__(self) -> None:
        self.records: dict[str, RunRecord] = {}
        self.dependency_failures: dict[str, dict[str, str]] = {}

    def note_dependency_failure(self, dependency: str, code: str, at: str) -> None:
        self.dependency_failures[dependency] = {"code": code, "at": at}

    def put(self, record: RunRecord, ttl_s: int = 0) -> None:
        self.records[record.run_id] = record

    def get(self, tenant_id: str, run_id: str) -> RunRecord | None:
        record = self.records.get(run_id)
        return record if record is not None and record.tenant_id == tenant_id else None


class FakeRetriever:
    """Returns ``passages`` and records every query with its tenant and owner."""

    def __init__(self, passages: list[Passage]) -> None:
        self.passages = passages
        self.queries: list[tuple[str, str, str, int | None]] = []

    def retrieve(
        self,
        query: str,
        tenant_id: str,
        owner: str,
        top_k: int | None = None,
        *,
        deadline: float | None = None,
    ) -> list[Passage]:
        self.queries.append((query, tenant_id, owner, top_k))
        return self.passages[: top_k or len(self.passages)]


def deadline_in(seconds: float = 10.0) -> float:
    return time.monotonic() + seconds
