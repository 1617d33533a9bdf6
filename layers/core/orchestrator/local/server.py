"""`make run`: the whole application on this machine — moto for AWS, the real ASL and handlers.

python -m orchestrator.local.server [--port 8000] [--host 127.0.0.1]
"""

from __future__ import annotations

import argparse
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from orchestrator.local.runtime import LocalRuntime

REPO_ROOT = Path(__file__).resolve().parents[4]

log = logging.getLogger("orchestrator.local")


@contextmanager
def local_stack(repo_root: Path = REPO_ROOT) -> Iterator[LocalRuntime]:
    """Start the AWS stand-ins from template.yaml; the API then talks to them as it would on AWS."""
    # X-Ray has no daemon here; metrics would print one EMF blob per node per request.
    quiet = {"POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_METRICS_DISABLED": "true"}
    added = [key for key in quiet if key not in os.environ]
    os.environ.update({key: quiet[key] for key in added})
    # The deployed template requires authentication; a laptop starts open (AUTH_ENABLED=true and
    # API_KEYS in the environment or .env turn it on here too).
    runtime = LocalRuntime(
        repo_root / "template.yaml", repo_root=repo_root, parameter_overrides={"AuthEnabled": "false"}
    )
    runtime.start()
    from orchestrator import container

    container.reset()
    try:
        yield runtime
    finally:
        runtime.stop()
        container.reset()
        for key in added:
            os.environ.pop(key, None)


def main() -> None:
    parser = argparse.ArgumentParser(description="Run the orchestrator locally on moto.")
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    args = parser.parse_args()
    logging.basicConfig(
        level=os.environ.get("LOG_LEVEL", "INFO"), format="%(levelname)s %(name)s: %(message)s"
    )

    import uvicorn

    from orchestrator.api import create_app
    from orchestrator.config import get_settings

    with local_stack() as runtime:
        from orchestrator.container import current

        # Load the embedded model now, as a warm Lambda container would have it, not on request one.
        current().router.classify("warm up")
        log.info("chat state machine: %s", runtime.chat_state_machine_arn)
        if not get_settings().auth_enabled:
            log.warning(
                "AUTH_ENABLED is off: every caller is the admin of tenant 'default'. Fine on 127.0.0.1; "
                "set AUTH_ENABLED=true and API_KEYS before exposing this server to anyone."
            )
        log.info("serving on http://%s:%d (Studio at /studio, API docs at /docs)", args.host, args.port)
        uvicorn.run(create_app(), host=args.host, port=args.port, log_level="info")


if __name__ == "__main__":
    main()
