"""Test helpers shared by unit, integration and end-to-end tests."""

from __future__ import annotations


class FakeClock:
    """A monotonic clock that only moves when ``sleep`` is called: retry tests never wait.

    Pass ``sleep=clock.sleep, clock=clock.now`` to a ``RetryPolicy``; ``sleeps`` records waits.
    """

    def __init__(self) -> None:
        self.time = 1000.0
        self.sleeps: list[float] = []

    def now(self) -> float:
        return self.time

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.time += seconds

    def advance(self, seconds: float) -> None:
        self.time += seconds
