"""Routes are configuration: a JSON document (file in the layer, a file path, or an SSM parameter).

Adding a route means adding an entry with a description, example utterances and, optionally,
keywords and the graph node its plan steps run on. No code changes: the classifier is trained
from the document when the router is built. Examples and keywords may be in any language (a
keyword in Chinese or Japanese script matches inside a run of text); ``languages`` lists the
languages the examples cover, and a prompt in any other language is never a confident decision.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from orchestrator.errors import ConfigurationError
from orchestrator.settings_documents import read_document
from orchestrator.state import NodeName

if TYPE_CHECKING:
    from orchestrator.config import Settings

#: The routes shipped with the layer (DESIGN.md §4).
DEFAULT_ROUTES_PATH = Path(__file__).with_name("routes.json")


class Route(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")
    description: str = Field(min_length=1)
    examples: list[str] = Field(min_length=1)
    #: Below this confidence the first stage's choice counts as uncertain; None: the router default.
    threshold: float | None = Field(default=None, ge=0.0, le=1.0)
    #: Words or phrases typical of the route; "forecast*" matches any word starting with "forecast".
    keywords: list[str] = Field(default_factory=list)
    #: The node a plan step routed here runs on.
    node: NodeName = "llm_agent"
    #: The external agent this route hands requests to: their intent becomes ``external_agent``
    #: naming this agent, so the state machine needs no branch per agent.
    agent: str | None = None


class ClassifierConfig(BaseModel):
    """Hyper-parameters of the first stage, chosen by cross-validation (see bench/routing.py)."""

    model_config = ConfigDict(extra="forbid")

    #: Keyword and shape features beside the embedding; off: the embedding alone.
    cues: bool = True
    #: L2 penalty on the embedding weights (many dimensions, few examples: keep them small).
    l2: float = Field(default=0.03, ge=0.0)
    #: L2 penalty on keyword and shape features (few, informative: let them speak).
    cue_l2: float = Field(default=0.001, ge=0.0)
    iterations: int = Field(default=400, ge=10, le=5000)
    learning_rate: float = Field(default=0.5, gt=0.0)


class RoutesConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    routes: list[Route] = Field(min_length=2)
    default_route: str = "chat"
    #: Languages (ISO 639-1) the examples cover. A prompt in any other language never gets a
    #: confident embedding decision: the embedding was not trained to understand it.
    languages: list[str] = Field(default_factory=lambda: ["en"], min_length=1)
    classifier: ClassifierConfig = Field(default_factory=ClassifierConfig)

    @model_validator(mode="after")
    def _check_names(self) -> RoutesConfig:
        names = [route.name for route in self.routes]
        if len(set(names)) != len(names):
            raise ValueError(f"route names must be unique, got {names}")
        if self.default_route not in names:
            raise ValueError(f"default_route '{self.default_route}' is not one of {names}")
        return self

    @property
    def names(self) -> list[str]:
        return [route.name for route in self.routes]

    def route(self, name: str) -> Route | None:
        return next((route for route in self.routes if route.name == name), None)


def parse_routes(document: Any, *, source: str) -> RoutesConfig:
    """Validate a routes document; a bad one fails fast with the source named."""
    try:
        if isinstance(document, str | bytes):
            document = json.loads(document)
        return RoutesConfig.model_validate(document)
    except (ValueError, ValidationError) as exc:
        raise ConfigurationError(
            f"invalid routes configuration from {source}: {exc}", details={"source": source}
        ) from exc


def load_routes(settings: Settings) -> RoutesConfig:
    """``ROUTES_CONFIG_PATH`` (a JSON file) first, then ``ROUTES_SSM_PARAMETER``, then the packaged routes."""
    return load_routes_from(settings.routes_config_path, settings.routes_ssm_parameter)


def load_routes_from(config_path: str | None, ssm_parameter: str | None) -> RoutesConfig:
    found = read_document(config_path, ssm_parameter, what="routes")
    if found is not None:
        document, source = found
        return parse_routes(document, source=source)
    return parse_routes(DEFAULT_ROUTES_PATH.read_text(encoding="utf-8"), source=str(DEFAULT_ROUTES_PATH))
