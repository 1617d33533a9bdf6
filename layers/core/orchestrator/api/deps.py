"""Dependency aliases for routes: settings, the workflow runner and the service container."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from orchestrator.config import Settings
from orchestrator.container import Container, current
from orchestrator.workflow import WorkflowRunner


def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_runner(request: Request) -> WorkflowRunner:
    runner: WorkflowRunner = request.app.state.runner
    return runner


def get_container(request: Request) -> Container:
    """The app's own container when it was built with explicit settings, else the process's."""
    container: Container | None = request.app.state.container
    return container if container is not None else current()


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
RunnerDep = Annotated[WorkflowRunner, Depends(get_runner)]
ContainerDep = Annotated[Container, Depends(get_container)]
