"""Tools: builtins (calculator, fetch_url, run_python, current_time) and http tools from config or DynamoDB.

- :mod:`.registry` — which tools exist (:class:`~orchestrator.tools.registry.ToolRegistry`);
- :mod:`.selector` — which to call for a request (model, or offline rules in :mod:`.heuristics`);
- :mod:`.executor` — run one call within its budget; failures come back as results.

Submodules are imported where used: a handler that only lists tools loads no HTTP client.
"""
