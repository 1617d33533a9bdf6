"""Lambda handler for the API: the FastAPI app behind API Gateway, through Mangum."""

from aws_lambda_powertools import Logger
from mangum import Mangum

from orchestrator.api import create_app

logger = Logger(service="api")
app = create_app()
handler = logger.inject_lambda_context(Mangum(app, lifespan="off"), log_event=False)
