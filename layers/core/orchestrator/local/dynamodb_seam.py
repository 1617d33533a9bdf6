"""One DynamoDB request at a time in the local stack: moto's in-memory tables are not thread-safe.

On AWS, DynamoDB serialises what it must. In one process, moto's backend is plain dicts: a Query
iterating a table while another thread (a streaming client's poll, a Map iteration, a second
request of the dev server) puts an item raised ``RuntimeError: dictionary changed size during
iteration``, which reached the client as a 500. Every DynamoDB action is quick and none calls
another service, so one lock around moto's ``DynamoHandler.call_action`` costs nothing measurable
and cannot deadlock (Step Functions and Lambda requests, which do nest, are not under it).
"""

from __future__ import annotations

import functools
import threading
from typing import Any


class DynamoDBSeam:
    """Installs and removes the lock; one instance per running LocalRuntime."""

    def __init__(self) -> None:
        self._original: Any = None

    def install(self) -> None:
        from moto.dynamodb.responses import DynamoHandler

        if self._original is not None:
            return
        original = DynamoHandler.__dict__["call_action"]
        lock = threading.RLock()

        @functools.wraps(original)
        def call_action(handler: Any, *args: Any, **kwargs: Any) -> Any:
            with lock:
                return original(handler, *args, **kwargs)

        self._original = original
        DynamoHandler.call_action = call_action  # type: ignore[method-assign]

    def uninstall(self) -> None:
        from moto.dynamodb.responses import DynamoHandler

        if self._original is not None:
            DynamoHandler.call_action = self._original  # type: ignore[method-assign]
            self._original = None
