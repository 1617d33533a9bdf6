"""Dependency aliases for routes: settings and the workflow runner, overridable in tests."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from orchestrator.config import Settings
from orchestrator.workflow import WorkflowRunner


def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_runner(request: Request) -> WorkflowRunner:
    runner: WorkflowRunner = request.app.state.runner
    return runner


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
RunnerDep = Annotated[WorkflowRunner, Depends(get_runner)]
