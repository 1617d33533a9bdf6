"""Which model a caller may pick with ``metadata.model``: the configured ones, nothing else.

Checked twice: by the API when a request arrives (a 422 naming the field), and by the node right
before it calls the model, so a run that skipped the API (EventBridge, a direct Step Functions
start) never reaches a model nobody configured either.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from orchestrator.errors import ValidationError

if TYPE_CHECKING:
    from orchestrator.config import Settings

FIELD = "metadata.model"


def allowed_models(settings: Settings) -> frozenset[str]:
    """``LLM_ALLOWED_MODELS`` plus the default and fallback models, which are always allowed."""
    configured = {settings.llm_default_model, settings.llm_fallback_model, *settings.llm_allowed_models}
    return frozenset(model for model in configured if model)


def chosen_model(metadata: Mapping[str, Any], settings: Settings) -> str | None:
    """The model ``metadata`` asks for, or ``None`` for the default; refuses any model not allowed."""
    model = metadata.get("model")
    if model is None:
        return None
    allowed = allowed_models(settings)
    if not isinstance(model, str) or model not in allowed:
        shown = model[:100] if isinstance(model, str) else type(model).__name__
        raise ValidationError(
            f"{FIELD}: {shown!r} is not an allowed model; choose one of {sorted(allowed)}",
            details={"field": FIELD, "problem": "not allowed", "allowed": sorted(allowed)},
        )
    return model
