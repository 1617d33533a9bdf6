"""Which tools exist, for whom, and how registered ``http`` tools run.

- :mod:`.registry` — :class:`ToolRegistry`: builtins, then the config file, then the tenant's tools;
- :mod:`.policy` — what may be added, and what a tenant's admin may register (:class:`ToolPolicy`);
- :mod:`.config_file` — the operator's tools file (``TOOLS_CONFIG_PATH``);
- :mod:`.store` — where registered tools live (DynamoDB, or memory in tests);
- :mod:`.http_tools` — runs a registered ``http`` tool (imported on first call: it needs httpx).
"""

from orchestrator.tools.registry.config_file import load_config_tools
from orchestrator.tools.registry.policy import ToolPolicy
from orchestrator.tools.registry.registry import ToolRegistry

__all__ = ["ToolPolicy", "ToolRegistry", "load_config_tools"]
