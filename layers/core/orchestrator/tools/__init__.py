"""Tools: builtins (calculator, fetch_url, run_python, current_time) and http tools from config or DynamoDB.

- :mod:`.models` — what a tool is (:class:`~orchestrator.tools.models.ToolDefinition`);
- :mod:`.registry` — which tools exist (:class:`~orchestrator.tools.registry.ToolRegistry`), their
  governance, storage, and the runner for registered ``http`` tools;
- :mod:`.builtins` — the builtin tools' definitions and implementations;
- :mod:`.network` — the SSRF guard and the guarded HTTP requests every URL-reaching tool uses;
- :mod:`.selection` — which tools to call for a request (the model, or offline rules);
- :mod:`.json_schema` — JSON Schema: a tool's parameters checked, each call's arguments validated;
- :mod:`.executor` — run one call within its budget; failures come back as results;
- :mod:`.sandbox` — where ``run_python`` runs.

Submodules are imported where used: a handler that only lists tools loads no HTTP client.
"""
