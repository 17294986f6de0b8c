"""Settings: names operators rely on, defaults, and one-line errors."""

from __future__ import annotations

import pytest

from governance.core.config import ConfigError, load_settings


def test_defaults_are_embedded() -> None:
    settings = load_settings(_env_file=None)
    assert settings.database_url == "sqlite:///var/modelgov.db"
    assert settings.hub_endpoint == "https://huggingface.co"
    assert settings.slack_api_base_url == "https://slack.com/api/"
    assert not settings.slack_configured


def test_environment_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELGOV_APPROVERS", " U1, alice ,,bob")
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-1")
    monkeypatch.setenv("MODELGOV_ALERTS_CHANNEL", "#alerts")
    settings = load_settings(_env_file=None)
    assert settings.approvers == ["U1", "alice", "bob"]
    assert settings.hub_endpoint == "http://127.0.0.1:9"
    assert settings.slack_configured and settings.alerts_channel == "#alerts"
    monkeypatch.setenv("MODELGOV_HUB_ENDPOINT", "http://127.0.0.1:10")
    assert load_settings(_env_file=None).hub_endpoint == "http://127.0.0.1:10"


def test_dotenv_file_is_read(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / ".env").write_text("MODELGOV_APPROVERS=zoe\n")
    monkeypatch.chdir(tmp_path)
    assert load_settings().approvers == ["zoe"]


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("DATABASE_URL", "mysql://x/y", "DATABASE_URL: expected a sqlite:/// or postgresql:// URL"),
        ("DATABASE_URL", "::nonsense", "DATABASE_URL: expected a database URL"),
        (
            "MODELGOV_RECHECK_INTERVAL_HOURS",
            "0",
            "MODELGOV_RECHECK_INTERVAL_HOURS: Input should be greater than 0",
        ),
        (
            "MODELGOV_HUB_ENDPOINT",
            "ftp://hub",
            "MODELGOV_HUB_ENDPOINT: expected an http:// or https:// URL",
        ),
        ("SLACK_API_BASE_URL", "slack", "SLACK_API_BASE_URL: expected an http"),
    ],
)
def test_invalid_values_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as raised:
        load_settings(_env_file=None)
    assert raised.value.message.startswith(message)
    assert "\n" not in raised.value.message
