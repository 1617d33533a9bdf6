#!/bin/sh
# StreamFunction's handler: the Lambda Web Adapter (AWS_LAMBDA_EXEC_WRAPPER=/opt/bootstrap) starts
# this and proxies the function URL's requests to it, streaming each response chunk as written.
export PYTHONPATH="/opt/python:${LAMBDA_TASK_ROOT}:${PYTHONPATH}"
exec python -m uvicorn --factory orchestrator.api:create_app --host 127.0.0.1 --port "${AWS_LWA_PORT:-8080}" --no-access-log
