"""One Settings object for the whole process, read from the environment and ``.env``.

Names are part of the operator contract (README, Procfile, checks rely on them): the unprefixed
ones follow their ecosystems (``DATABASE_URL``, ``SLACK_*``, ``HF_TOKEN``), the rest carry the
``MODELGOV_`` prefix.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Annotated, Any

from pydantic import AliasChoices, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from governance.core.errors import GovernanceError
from governance.core.logs import parse_log_format, parse_log_level
from governance.core.redact import redact, register_secret

DEFAULT_SQLITE_PATH = Path("var") / "modelgov.db"
PUBLIC_HUB = "https://huggingface.co"
SLACK_API = "https://slack.com/api/"
ENV_PREFIX = "MODELGOV_"
# The PostgreSQL driver modelgov ships (psycopg 3). Platforms (Heroku, Render, Fly, Railway)
# set DATABASE_URL=postgres://..., which SQLAlchemy 2 no longer accepts; psycopg2 URLs name a
# driver that is not installed. Both mean the same server, so both are rewritten to it.
POSTGRES_DRIVER = "postgresql+psycopg"
_POSTGRES_ALIASES = {"postgres", "postgresql", "postgresql+psycopg2", "postgres+psycopg2"}
# Variables with the prefix that are not settings but are read on purpose (the test suite's).
EXTRA_KNOWN_VARIABLES = {"MODELGOV_TEST_DATABASE_URL"}
# Settings whose values are secrets: never echoed in an error, masked in every log line.
SECRET_FIELDS = (
    "slack_bot_token",
    "slack_app_token",
    "slack_signing_secret",
    "hf_token",
    "hub_webhook_secret",
    "model_server_api_key",
    "metrics_token",
)


class ConfigError(GovernanceError):
    """A setting has an invalid value; start-up stops with this one line."""

    code = "config_error"


def _split_ids(value: Any) -> Any:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class Settings(BaseSettings):
    """Every knob an operator can turn. Construct with ``load_settings()``."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=".env",
        extra="ignore",
        populate_by_name=True,
    )

    database_url: str = Field(
        default=f"sqlite:///{DEFAULT_SQLITE_PATH}", validation_alias="DATABASE_URL"
    )
    slack_bot_token: str | None = Field(default=None, validation_alias="SLACK_BOT_TOKEN")
    slack_app_token: str | None = Field(default=None, validation_alias="SLACK_APP_TOKEN")
    slack_signing_secret: str | None = Field(default=None, validation_alias="SLACK_SIGNING_SECRET")
    slack_api_base_url: str = Field(default=SLACK_API, validation_alias="SLACK_API_BASE_URL")
    hub_endpoint: str = Field(
        default=PUBLIC_HUB, validation_alias=AliasChoices("MODELGOV_HUB_ENDPOINT", "HF_ENDPOINT")
    )
    hf_token: str | None = Field(default=None, validation_alias="HF_TOKEN")
    # The secret the Hub sends in X-Webhook-Secret; POST /hub/webhook refuses all without it.
    hub_webhook_secret: str | None = None

    approvers: Annotated[list[str], NoDecode] = Field(default_factory=list)
    approver_group: str | None = None
    # May `--as` (CLI) and `:as` (console) act as someone else for what needs an approver?
    # Unset: only on the embedded SQLite database (DATABASE_URL not set); see bot/cli/identity.
    cli_impersonation: bool | None = None
    alerts_channel: str = "#model-governance"
    approvals_channel: str = "#model-approvals"
    # When the daily digest is posted, HH:MM in UTC (governance.wiring.scheduler).
    digest_time: str = "09:00"

    recheck_interval_hours: float = Field(default=6.0, gt=0, le=24 * 7)
    recheck_cron: str | None = None
    recheck_jitter_seconds: int = Field(default=300, ge=0, le=3600)
    hub_concurrency: int = Field(default=8, ge=1, le=64)
    hub_budget_per_5min: int = Field(default=500, ge=1, le=100_000)
    hub_timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    # Prometheus /metrics and /healthz of the worker and Socket Mode on this port (unset: none;
    # the web process serves both on its own port either way). bot.slack.observability.
    metrics_port: int | None = Field(default=None, ge=1, le=65535)
    metrics_host: str = "0.0.0.0"  # the interface the metrics port listens on
    # Set: GET /metrics wants "Authorization: Bearer <token>" (Prometheus' scrape authorization).
    metrics_token: str | None = None

    model_path: str | None = None
    model_repo: str | None = None
    model_file: str | None = None
    model_server_url: str | None = None
    model_server_api_key: str | None = None  # sent as a bearer token to MODELGOV_MODEL_SERVER_URL
    model_n_ctx: int = Field(default=4096, ge=256, le=131_072)
    # Generation threads; default all CPUs but one, so acks keep a core while the model writes.
    model_threads: int | None = Field(default=None, ge=1, le=256)
    model_max_tokens: int = Field(default=256, ge=1, le=8192)
    model_load_at_start: bool = False
    answer_timeout_seconds: float = Field(default=30.0, gt=0, le=600)
    # The team's machines for `/models fit` and the assistant ("laptop=16GB RAM, gpu-box=24GB
    # VRAM"); parsed by governance.hardware.profiles, which says in one sentence what is wrong.
    hardware_profiles: str | None = None

    # Logging (read once more, leniently, before these are validated: governance.core.logs).
    log_level: str = "INFO"  # DEBUG shows HTTP client chatter and start-up tracebacks
    log_format: str = "text"  # text | json (one JSON object per line, stderr)

    @field_validator("approvers", mode="before")
    @classmethod
    def _approvers_from_csv(cls, value: Any) -> Any:
        return _split_ids(value)

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        url = parse_database_url(value)
        # The password goes to every log line's redaction (psycopg may quote parts of a URL).
        if url.password:
            register_secret(str(url.password))
        return url.render_as_string(hide_password=False)

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        return parse_log_level(value)

    @field_validator("log_format")
    @classmethod
    def _log_format(cls, value: str) -> str:
        return parse_log_format(value)

    @field_validator("hub_endpoint", "slack_api_base_url", "model_server_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("expected an http:// or https:// URL")
        return value

    @field_validator("digest_time")
    @classmethod
    def _time_of_day(cls, value: str) -> str:
        hours, _, minutes = value.strip().partition(":")
        if not (len(hours) == len(minutes) == 2 and hours.isdigit() and minutes.isdigit()) or (
            int(hours) > 23 or int(minutes) > 59
        ):
            raise ValueError("expected a time of day as HH:MM in UTC, such as 09:00 or 17:30")
        return f"{hours}:{minutes}"

    @property
    def slack_configured(self) -> bool:
        """True when enough Slack credentials are set to run a Slack frontend."""
        return bool(self.slack_bot_token and (self.slack_app_token or self.slack_signing_secret))


def parse_database_url(value: str) -> URL:
    """Return ``value`` as a SQLAlchemy URL with the driver modelgov ships.

    ``postgres://`` (what most platforms set), ``postgresql://`` and psycopg2 URLs become
    ``postgresql+psycopg://``; SQLite URLs stay as they are.

    Raises:
        ValueError: not a URL, or not SQLite or PostgreSQL (the message never holds the URL).
    """
    try:
        url = make_url(value.strip())
    except ArgumentError as exc:
        raise ValueError(
            "expected a database URL such as sqlite:///var/modelgov.db or "
            "postgresql://user:password@host:5432/modelgov"
        ) from exc
    if url.drivername in _POSTGRES_ALIASES:
        url = url.set(drivername=POSTGRES_DRIVER)
    if url.drivername not in {"sqlite", "sqlite+pysqlite", POSTGRES_DRIVER}:
        raise ValueError(
            f"expected a sqlite:/// or postgresql:// (or postgres://) URL, not {url.drivername}://"
        )
    return url


_ENV_NAMES = {
    "database_url": "DATABASE_URL",
    "slack_bot_token": "SLACK_BOT_TOKEN",
    "slack_app_token": "SLACK_APP_TOKEN",
    "slack_signing_secret": "SLACK_SIGNING_SECRET",
    "slack_api_base_url": "SLACK_API_BASE_URL",
    "hub_endpoint": "MODELGOV_HUB_ENDPOINT",
    "hf_token": "HF_TOKEN",
}


def env_name(field: str) -> str:
    """Return the environment variable an operator sets for ``field``."""
    return _ENV_NAMES.get(field, f"{ENV_PREFIX}{field.upper()}")


def known_variables() -> set[str]:
    """Every environment variable name modelgov reads as a setting (aliases included)."""
    names = set(EXTRA_KNOWN_VARIABLES)
    for field, info in Settings.model_fields.items():
        names.add(env_name(field))
        alias = info.validation_alias
        if isinstance(alias, str):
            names.add(alias)
        elif isinstance(alias, AliasChoices):
            names.update(choice for choice in alias.choices if isinstance(choice, str))
    return names


def unknown_variable_warnings(names: Iterable[str]) -> list[str]:
    """One sentence per ``MODELGOV_`` name in ``names`` that is no setting, with a suggestion.

    pydantic-settings ignores such a variable, so a typo would silently leave a default in
    force; e.g. ``MODELGOV_RECHEK_CRON is not a modelgov setting and is ignored; did you mean
    MODELGOV_RECHECK_CRON?``. Returns them sorted by name, each name once.
    """
    known = known_variables()
    warnings = []
    for name in sorted({n for n in names if n.upper().startswith(ENV_PREFIX)}):
        if name in known:
            continue
        candidates = difflib.get_close_matches(name.upper(), sorted(known), n=1, cutoff=0.6)
        unprefixed = name.upper().removeprefix(ENV_PREFIX)
        if unprefixed in known:  # MODELGOV_DATABASE_URL, MODELGOV_SLACK_BOT_TOKEN
            candidates = [unprefixed]
        hint = (
            f"did you mean {candidates[0]}?"
            if candidates
            else "the settings are listed in .env.example and the README's Settings table."
        )
        warnings.append(f"{name} is not a modelgov setting and is ignored; {hint}")
    return warnings


def configured_variable_names(
    environ: Mapping[str, str] | None = None, env_file: Path | None = Path(".env")
) -> set[str]:
    """The variable names set in ``environ`` (default: the process's) and in ``env_file``."""
    names = set(os.environ if environ is None else environ)
    if env_file is not None and env_file.is_file():
        from dotenv import dotenv_values  # pydantic-settings' own .env reader

        names.update(dotenv_values(env_file))
    return names


def load_settings(**overrides: Any) -> Settings:
    """Read settings from the environment and ``.env``; ``overrides`` win over both.

    Raises:
        ConfigError: one line naming each bad variable and what is expected.
    """
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError(_describe_invalid(exc)) from None
    for field in SECRET_FIELDS:
        value = getattr(settings, field, None)
        if isinstance(value, str):
            register_secret(value)
    return settings


def _describe_invalid(exc: ValidationError) -> str:
    """One line for every invalid setting, its value shown unless it is or holds a secret."""
    parts = []
    for error in exc.errors():
        field = str(error["loc"][0]) if error["loc"] else "settings"
        name = env_name(field) if field in Settings.model_fields else field
        reason = str(error["msg"]).removeprefix("Value error, ").rstrip(".")
        given = error.get("input")
        if field in SECRET_FIELDS or not isinstance(given, str | int | float):
            shown = ""
        else:
            # A database URL may carry a password; any value may hold a pasted credential.
            shown = f" (got {redact(repr(given))})"
        parts.append(f"{name}: {reason}{shown}")
    return "; ".join(parts) + "."
