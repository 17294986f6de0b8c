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
        ("DATABASE_URL", "mysql://x/y", "DATABASE_URL: expected a sqlite:/// or postgresql://"),
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


# --- what platforms set, secrets, typos -----------------------------------------------------


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("postgres://app:pw@db:5432/modelgov", "postgresql+psycopg://app:pw@db:5432/modelgov"),
        ("postgresql://app@db/modelgov", "postgresql+psycopg://app@db/modelgov"),
        (
            "postgresql+psycopg2://app@db/x?sslmode=require",
            "postgresql+psycopg://app@db/x?sslmode=require",
        ),
        ("postgresql+psycopg://app@db/x", "postgresql+psycopg://app@db/x"),
        ("sqlite:///var/modelgov.db", "sqlite:///var/modelgov.db"),
        # A password with characters URLs must escape keeps them escaped, not doubled.
        ("postgres://app:p%40ss%2Fw@db/x", "postgresql+psycopg://app:p%40ss%2Fw@db/x"),
    ],
)
def test_platform_database_urls_are_accepted(
    monkeypatch: pytest.MonkeyPatch, given: str, stored: str
) -> None:
    monkeypatch.setenv("DATABASE_URL", given)
    settings = load_settings(_env_file=None)
    assert settings.database_url == stored
    from governance.core.db import create_db_engine

    engine = create_db_engine(settings.database_url)  # the shipped driver loads
    assert engine.dialect.name in {"postgresql", "sqlite"}
    engine.dispose()


def test_a_bad_database_url_is_never_echoed_with_its_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DATABASE_URL", "mysql://app:Sup3r-s3cret@db/modelgov")
    with pytest.raises(ConfigError) as raised:
        load_settings(_env_file=None)
    assert "Sup3r-s3cret" not in raised.value.message
    assert raised.value.message == (
        "DATABASE_URL: expected a sqlite:/// or postgresql:// (or postgres://) URL, not "
        "mysql:// (got 'mysql://app:***@db/modelgov')."
    )


def test_every_invalid_setting_is_named_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELGOV_HUB_CONCURRENCY", "many")
    monkeypatch.setenv("MODELGOV_LOG_FORMAT", "xml")
    monkeypatch.setenv("MODELGOV_LOG_LEVEL", "loud")
    with pytest.raises(ConfigError) as raised:
        load_settings(_env_file=None)
    message = raised.value.message
    assert "\n" not in message
    assert "MODELGOV_HUB_CONCURRENCY: Input should be a valid integer" in message
    assert "MODELGOV_LOG_FORMAT: expected text or json (got 'xml')" in message
    assert "MODELGOV_LOG_LEVEL: expected one of DEBUG, INFO, WARNING, ERROR, CRITICAL" in message


def test_log_settings_are_read_in_any_case(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELGOV_LOG_FORMAT", "JSON")
    monkeypatch.setenv("MODELGOV_LOG_LEVEL", "debug")
    settings = load_settings(_env_file=None)
    assert (settings.log_format, settings.log_level) == ("json", "DEBUG")


def test_secrets_given_are_masked_in_every_log_line(monkeypatch: pytest.MonkeyPatch) -> None:
    from governance.core.redact import redact

    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1111-2222-abcdef")
    monkeypatch.setenv("DATABASE_URL", "postgres://app:pl41n-pw@db/x")
    load_settings(_env_file=None)
    assert redact("Bearer xoxb-1111-2222-abcdef, then pl41n-pw") == "Bearer ***, then ***"


@pytest.mark.parametrize(
    ("name", "warning"),
    [
        (
            "MODELGOV_RECHEK_CRON",
            "MODELGOV_RECHEK_CRON is not a modelgov setting and is ignored; did you mean "
            "MODELGOV_RECHECK_CRON?",
        ),
        (
            "MODELGOV_APPROVER",
            "MODELGOV_APPROVER is not a modelgov setting and is ignored; did you mean "
            "MODELGOV_APPROVERS?",
        ),
        (
            "MODELGOV_DATABASE_URL",
            "MODELGOV_DATABASE_URL is not a modelgov setting and is ignored; did you mean "
            "DATABASE_URL?",
        ),
        (
            "MODELGOV_XYZZY",
            "MODELGOV_XYZZY is not a modelgov setting and is ignored; the settings are listed "
            "in .env.example and the README's Settings table.",
        ),
    ],
)
def test_unknown_modelgov_variables_are_warned_about(name: str, warning: str) -> None:
    from governance.core.config import unknown_variable_warnings

    known = ["MODELGOV_RECHECK_CRON", "MODELGOV_HUB_ENDPOINT", "HF_ENDPOINT", "DATABASE_URL"]
    assert unknown_variable_warnings([name, *known, "PATH", "SLACK_TEAM"]) == [warning]


def test_every_setting_has_an_environment_name_that_is_known() -> None:
    from governance.core.config import Settings, env_name, known_variables

    names = known_variables()
    for field in Settings.model_fields:
        assert env_name(field) in names
    assert {"MODELGOV_RECHECK_JITTER_SECONDS", "MODELGOV_HUB_TIMEOUT_SECONDS"} <= names
    assert "MODELGOV_TEST_DATABASE_URL" in names  # the suite's own, not a typo


def test_dotenv_names_are_checked_too(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    from governance.core.config import configured_variable_names, unknown_variable_warnings

    (tmp_path / ".env").write_text("MODELGOV_ALERT_CHANNEL=#x\n")
    names = configured_variable_names({"PATH": "/bin"}, tmp_path / ".env")
    [warning] = unknown_variable_warnings(names)
    assert warning.endswith("did you mean MODELGOV_ALERTS_CHANNEL?")


def test_env_example_lists_every_setting() -> None:
    from pathlib import Path

    from governance.core.config import Settings, env_name

    example = Path(__file__).resolve().parents[1] / ".env.example"
    listed = {
        line.lstrip("# ").split("=", 1)[0]
        for line in example.read_text().splitlines()
        if "=" in line and not line.startswith("##")
    }
    missing = {env_name(field) for field in Settings.model_fields} - listed
    assert not missing, f".env.example lacks {sorted(missing)}"


def test_license_file_matches_pyproject() -> None:
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    declared = tomllib.loads((root / "pyproject.toml").read_text())["project"]["license"]
    assert declared == "Apache-2.0"
    text = (root / "LICENSE").read_text()
    assert text.lstrip().startswith("Apache License")
    assert "Version 2.0, January 2004" in text and "END OF TERMS AND CONDITIONS" in text
