"""The builtin tools.

- :mod:`.definitions` — what the model sees of each, and where its implementation lives;
- :mod:`.calculator`, :mod:`.clock`, :mod:`.fetch_url` — the implementations (``run_python``'s is
  :mod:`orchestrator.tools.sandbox`), imported on a tool's first call.
"""
