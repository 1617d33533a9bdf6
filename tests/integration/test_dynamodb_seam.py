"""moto's tables are plain dicts: locally, DynamoDB requests must not run inside each other."""

from __future__ import annotations

import threading
import time

import pytest

from orchestrator.local.dynamodb_seam import DynamoDBSeam


def test_two_requests_never_run_at_the_same_time(monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.dynamodb.responses import DynamoHandler

    inside = 0
    most_inside = 0
    counter = threading.Lock()

    def slow_action(handler: object) -> str:
        # Stands in for a Query iterating a table while another thread's PutItem changes it.
        nonlocal inside, most_inside
        with counter:
            inside += 1
            most_inside = max(most_inside, inside)
        time.sleep(0.02)
        with counter:
            inside -= 1
        return "ok"

    monkeypatch.setattr(DynamoHandler, "call_action", slow_action)
    seam = DynamoDBSeam()
    seam.install()
    try:
        threads = [threading.Thread(target=DynamoHandler.call_action, args=(object(),)) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=10)
    finally:
        seam.uninstall()

    assert most_inside == 1
    assert DynamoHandler.__dict__["call_action"] is slow_action  # uninstall put the original back


def test_a_request_inside_a_request_does_not_deadlock(monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.dynamodb.responses import DynamoHandler

    calls: list[int] = []

    def action(handler: object, depth: int = 0) -> int:
        calls.append(depth)
        return DynamoHandler.call_action(handler, depth + 1) if depth == 0 else depth  # type: ignore[call-arg]

    monkeypatch.setattr(DynamoHandler, "call_action", action)
    seam = DynamoDBSeam()
    seam.install()
    try:
        worker = threading.Thread(target=DynamoHandler.call_action, args=(object(),))
        worker.start()
        worker.join(timeout=5)
    finally:
        seam.uninstall()

    assert not worker.is_alive()
    assert calls == [0, 1]
