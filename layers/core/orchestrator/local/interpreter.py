"""Speed-ups for moto's ASL interpreter (moto 5.2.5) that leave what it computes unchanged.

Measured with cProfile on the chat branch (``bench/peer.py``), moto spent most of an execution's
own time on work that repeats or is not needed:

* JSONPath: ``extract_json`` and ``ResultPath`` parse every path with jsonpath-ng's PLY parser on
  every use (about 1 ms each, a dozen per chat turn). Parsed paths are immutable, so they are
  cached by their text.
* Copies: the interpreter deep-copies a state's input, result and parameters several times per
  state with ``copy.deepcopy``. Its values are JSON (dicts, lists, strings, numbers, booleans,
  None), which :func:`json_copy` copies about five times faster; anything else still goes to
  ``copy.deepcopy``. The copies themselves stay: states never share an object.
* Threads: ``Program.eval`` starts a thread only to join it, with the state machine's
  ``TimeoutSeconds`` as the join timeout; without that field it now runs on the calling thread. A
  Map state starts ``MaxConcurrency`` worker threads even for fewer items, then waits for them; it
  now starts at most one per item and runs the last one itself (a one-item Map starts no thread).
  Task states keep their thread, which is what enforces their ``TimeoutSeconds``.
* moto keeps every thread it starts in a module-level list nothing reads (a leak that slows the
  garbage collector down run after run); finished ones are dropped after each execution.
"""

from __future__ import annotations

import copy
import functools
from typing import Any

#: The modules whose ``copy.deepcopy`` copies ASL values (the states' data, stacks, parameters).
COPYING_MODULES = (
    "moto.stepfunctions.parser.asl.eval.states",
    "moto.stepfunctions.parser.asl.component.common.string.string_expression",
    "moto.stepfunctions.parser.asl.component.common.path.result_path",
    "moto.stepfunctions.parser.asl.component.state.exec.execute_state",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service",
    "moto.stepfunctions.parser.asl.component.state.exec.state_map.state_map",
)
#: The modules that call jsonpath-ng's ``parse`` per evaluation.
JSONPATH_MODULES = (
    "moto.stepfunctions.parser.asl.utils.json_path",
    "moto.stepfunctions.parser.asl.component.common.path.result_path",
)

_SCALARS = frozenset({str, int, float, bool, type(None)})


def json_copy(value: Any) -> Any:
    """A deep copy of JSON data; other objects (inside it too) are copied by ``copy.deepcopy``."""
    kind = type(value)
    if kind in _SCALARS:
        return value
    if kind is dict:
        return {key: json_copy(item) for key, item in value.items()}
    if kind is list:
        return [json_copy(item) for item in value]
    return copy.deepcopy(value)


class JsonCopyModule:
    """Stands in for the ``copy`` module inside the interpreter's modules."""

    deepcopy = staticmethod(json_copy)
    copy = staticmethod(copy.copy)


def cached_jsonpath_parser(parse: Any) -> Any:
    """``parse`` memoised by path text; an expression object is not changed by ``find``/``update``."""
    return functools.lru_cache(maxsize=1024)(parse)


def program_eval(original: Any) -> Any:
    """``Program.eval`` that runs on the calling thread when no ``TimeoutSeconds`` needs a join."""
    from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent

    def eval(self: Any, env: Any) -> None:
        if self.timeout_seconds is not None:
            original(self, env)
            return
        env.next_state_name = self.start_at.start_at_name
        EvalComponent.eval(self, env)  # what the worker thread would have run

    return eval


def launch_worker(original: Any) -> Any:
    """``_launch_worker`` that starts no worker beyond one per item (the rest would find no job),
    and runs the last one on the Map state's own thread, which would only wait for it otherwise."""

    def launch(self: Any, env: Any, eval_input: Any, job_pool: Any) -> Any:
        from moto.stepfunctions.parser.asl.component.state.exec.state_map.max_concurrency import (
            DEFAULT_MAX_CONCURRENCY_VALUE,
        )

        items = len(eval_input.input_items)
        limit = eval_input.max_concurrency
        workers = items if limit == DEFAULT_MAX_CONCURRENCY_VALUE else min(limit, items)
        launched = getattr(job_pool, "_orchestrator_workers", 0)
        job_pool._orchestrator_workers = launched + 1
        if launched + 1 < workers:
            return original(self, env=env, eval_input=eval_input, job_pool=job_pool)
        if launched + 1 > max(1, workers):
            return None
        worker = self._create_worker(env=env, eval_input=eval_input, job_pool=job_pool)
        worker.eval()
        return worker

    return launch


def drop_finished_threads() -> None:
    """Forget the finished threads moto keeps in ``TMP_THREADS`` (a list nothing reads)."""
    from moto.stepfunctions.parser.utils import TMP_THREADS

    TMP_THREADS[:] = [thread for thread in TMP_THREADS if thread.is_alive()]
