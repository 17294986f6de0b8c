"""Shared fixtures: hermetic settings, per-test databases on SQLite and (opt-in) PostgreSQL.

Set MODELGOV_TEST_DATABASE_URL (e.g. postgresql://postgres@127.0.0.1:5432/test) to run every
database test on PostgreSQL too. If it is set and the server does not answer, the run stops
with an error: a silently skipped backend would prove nothing.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from governance.core.clock import FrozenClock
from governance.core.config import Settings
from governance.wiring.services import Services, build_services
from tests.support.databases import (
    PG_ENV,
    PostgresDatabases,
    check_postgres,
    migrated_sqlite_template,
    sqlite_copy,
)
from tests.support.watch_fixtures import Watched, watched_services

PG_URL = os.environ.get(PG_ENV)
BACKENDS = ["sqlite", "postgresql"] if PG_URL else ["sqlite"]
_HERMETIC_PREFIXES = ("MODELGOV_", "SLACK_", "HF_", "DATABASE_URL")


def pytest_configure(config: pytest.Config) -> None:
    if PG_URL:
        problem = check_postgres(PG_URL)
        if problem:
            raise pytest.UsageError(
                f"{PG_ENV} is set but PostgreSQL does not answer ({problem}); start it or unset "
                "the variable."
            )


@pytest.fixture(autouse=True)
def _hermetic_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No operator setting or .env file leaks into a test."""
    for name in list(os.environ):
        if name.startswith(_HERMETIC_PREFIXES) and name != PG_ENV:
            monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture(autouse=True)
def _collectable_after_each_test() -> Iterator[None]:
    """A process started in this test may freeze start-up objects for the garbage collector
    (``bot.slack.runner.freeze_startup_objects``); the suite's process goes on, so later
    tests' cycles stay collectable."""
    yield
    if gc.get_freeze_count():
        gc.unfreeze()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return migrated_sqlite_template(tmp_path_factory.mktemp("template"))


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresDatabases | None]:
    if not PG_URL:
        yield None
        return
    databases = PostgresDatabases(PG_URL)
    yield databases
    databases.close()


@pytest.fixture(scope="session")
def postgres_template(postgres: PostgresDatabases | None) -> Iterator[str | None]:
    if postgres is None:
        yield None
        return
    from governance.core import migrate

    name = postgres.create()
    migrate.upgrade(postgres.url_for(name))
    yield name
    postgres.drop(name)


@pytest.fixture(params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    sqlite_template: Path,
) -> Iterator[str]:
    """A migrated, empty database of its own for this test, on each backend."""
    if request.param == "sqlite":
        yield sqlite_copy(sqlite_template, tmp_path)
        return
    postgres: PostgresDatabases = request.getfixturevalue("postgres")
    template: str = request.getfixturevalue("postgres_template")
    with postgres.database(template=template) as url:
        yield url


@pytest.fixture(params=BACKENDS)
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with no tables at all, on each backend (migration tests)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.sqlite'}"
        return
    postgres: PostgresDatabases = request.getfixturevalue("postgres")
    with postgres.database() as url:
        yield url


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime(2026, 11, 27, 9, 0, tzinfo=UTC))


def make_settings(database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {"database_url": database_url, "approvers": ["alice", "bob"]}
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url)


@pytest.fixture
def services(settings: Settings, clock: FrozenClock) -> Iterator[Services]:
    built = build_services(settings, clock=clock)
    yield built
    built.close()


@pytest.fixture
def watched(settings: Settings, clock: FrozenClock) -> Iterator[Watched]:
    """Services whose Hub client talks to a fresh Hub stand-in (budget on a fake clock)."""
    yield from watched_services(settings, clock)
