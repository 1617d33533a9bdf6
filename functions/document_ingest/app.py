"""Lambda handler for uploaded documents: the logic lives in orchestrator.grounding.uploads.

Triggered by the uploads bucket's ``ObjectCreated`` events (template.yaml); each object becomes
the document of the tenant and owner its key names, and is then deleted. Document text is never
logged.
"""

from typing import Any

from aws_lambda_powertools import Logger

from orchestrator.container import current
from orchestrator.grounding.uploads import handle_event

logger = Logger(service="document_ingest")


@logger.inject_lambda_context(log_event=False)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    container = current()
    return handle_event(event, container.document_uploads, container.retriever.store)
