"""Things built once per process (per Lambda container) and reused by every warm invocation.

Both holders check before taking the lock, so the common case (already built) costs a dict
look-up, and check again under it, so threads racing on a cold container build only once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
T = TypeVar("T")


class Lazy(Generic[T]):
    """One value, built by ``build`` on first use unless it was given up front (tests inject it)."""

    def __init__(self, build: Callable[[], T], value: T | None = None) -> None:
        self._build = build
        self._value = value
        self._lock = threading.Lock()

    def get(self) -> T:
        if self._value is None:
            with self._lock:
                if self._value is None:
                    self._value = self._build()
        return self._value


class PerConfiguration(Generic[K, T]):
    """Values built once per distinct configuration ``key`` (settings change in tests and locally)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: dict[K, T] = {}

    def get(self, key: K, build: Callable[[], T]) -> T:
        value = self._values.get(key)
        if value is None:
            with self._lock:
                value = self._values.get(key)
                if value is None:
                    value = self._values[key] = build()
        return value

    def clear(self, dispose: Callable[[T], None] | None = None) -> None:
        """Forget every value, first handing each to ``dispose`` (to close connections)."""
        with self._lock:
            if dispose is not None:
                for value in self._values.values():
                    dispose(value)
            self._values.clear()
