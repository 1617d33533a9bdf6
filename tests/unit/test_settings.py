"""Given the settings model, every setting is documented and the sources layer as documented."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from orchestrator.config import Settings

ROOT = Path(__file__).resolve().parents[2]


def test_every_setting_is_listed_in_env_example() -> None:
    listed = set(re.findall(r"([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text()))

    missing = [(f.alias or name).upper() for name, f in Settings.model_fields.items()]
    assert [name for name in missing if name not in listed] == []


def test_env_example_as_dotenv_gives_the_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".env").write_text((ROOT / ".env.example").read_text())
    monkeypatch.chdir(tmp_path)

    settings = Settings()

    assert settings.llm_provider == "offline"
    assert settings.llm_base_url is None  # empty values mean "unset", not ""
    assert settings.cors_origins == []
    assert settings.llm_price_table["gpt-4o-mini"]["input_per_1k"] == 0.00015


def test_lists_accept_csv_and_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORS_ORIGINS", "https://a.example, https://b.example")
    monkeypatch.setenv("HTTP_TOOL_ALLOWED_HOSTS", '["LocalHost", "127.0.0.1"]')

    settings = Settings()

    assert settings.cors_origins == ["https://a.example", "https://b.example"]
    assert settings.http_tool_allowed_hosts == ["localhost", "127.0.0.1"]


def test_environment_beats_ssm(monkeypatch: pytest.MonkeyPatch) -> None:
    from moto import mock_aws

    with mock_aws():
        import boto3

        ssm = boto3.client("ssm", region_name="us-east-1")
        ssm.put_parameter(Name="/orchestrator/test/llm_provider", Value="bedrock", Type="String")
        ssm.put_parameter(Name="/orchestrator/test/planner_max_steps", Value="9", Type="String")
        monkeypatch.setenv("SETTINGS_SSM_PATH", "/orchestrator/test")
        monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        monkeypatch.setenv("LLM_PROVIDER", "openai")

        settings = Settings()

    assert settings.planner_max_steps == 9  # from SSM
    assert settings.llm_provider == "openai"  # the environment wins
