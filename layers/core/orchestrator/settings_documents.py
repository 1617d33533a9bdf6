"""JSON configuration documents (routes, external agents): a file first, then an SSM parameter."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from orchestrator.errors import ConfigurationError


def read_document(
    path_setting: str | None, ssm_parameter: str | None, *, what: str
) -> tuple[Any, str] | None:
    """``(document, source)`` from the file at ``path_setting`` (its text) or the SSM parameter
    (decoded JSON, cached five minutes); None when neither is set. ``what`` names it in errors."""
    if path_setting:
        path = Path(path_setting)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigurationError(
                f"cannot read {what} configuration {path}: {exc}", details={"source": str(path)}
            ) from exc
        return text, str(path)
    if ssm_parameter:
        from aws_lambda_powertools.utilities import parameters

        try:
            document = parameters.get_parameter(ssm_parameter, transform="json", max_age=300)
        except Exception as exc:  # Powertools wraps boto3 and transform errors in several types
            raise ConfigurationError(
                f"cannot read {what} from SSM parameter {ssm_parameter}: {exc}",
                details={"source": ssm_parameter},
            ) from exc
        return document, f"ssm:{ssm_parameter}"
    return None
