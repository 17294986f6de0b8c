"""An honest audit trail: each event records its channel and, at a terminal, the OS account;
``--as`` / ``:as`` may not act as an approver unless MODELGOV_CLI_IMPERSONATION allows it;
the watcher and the scheduler are named where they acted.

Database tests run on SQLite and PostgreSQL (the ``database_url`` fixtures)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from sqlalchemy import select

from bot.cli.identity import impersonation_allowed, os_account, terminal_origin
from bot.cli.main import main
from bot.grammar.dispatch import run_text
from bot.grammar.spec.invocation import Invocation
from bot.render.registry import event_data, event_line
from bot.render.request_card import decision_line
from governance.core import migrate
from governance.core.config import Settings
from governance.core.db import create_db_engine, transaction
from governance.registry.audit import SLACK, AuditOrigin
from governance.registry.models import Approval, ApprovalState, AuditChannel, AuditEvent
from governance.wiring.scheduler import expiry_job
from governance.wiring.services import Services
from tests.support.watch_fixtures import Watched

REPO = "acme/tiny-1b"
ROOT = Path(__file__).resolve().parents[1]
ME = os_account()


def _data(stdout: str) -> Any:
    """The data of a --json answer (inside the ``{"ok", "data"}`` envelope where there is one)."""
    payload = json.loads(stdout)
    return payload["data"] if isinstance(payload, dict) and "data" in payload else payload


def _events(services: Services) -> list[AuditEvent]:
    with transaction(services.session_factory) as session:
        return list(session.scalars(select(AuditEvent).order_by(AuditEvent.id)))


# --- the impersonation setting ------------------------------------------------------------


def test_impersonation_is_on_only_for_the_embedded_database_by_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert impersonation_allowed(Settings(_env_file=None))  # type: ignore[call-arg]
    monkeypatch.setenv("DATABASE_URL", "sqlite:///elsewhere.db")
    assert not impersonation_allowed(Settings(_env_file=None))  # type: ignore[call-arg]
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@db.example/modelgov")
    assert not impersonation_allowed(Settings(_env_file=None))  # type: ignore[call-arg]
    monkeypatch.setenv("MODELGOV_CLI_IMPERSONATION", "1")
    assert impersonation_allowed(Settings(_env_file=None))  # type: ignore[call-arg]
    monkeypatch.delenv("DATABASE_URL")
    monkeypatch.setenv("MODELGOV_CLI_IMPERSONATION", "0")
    assert not impersonation_allowed(Settings(_env_file=None))  # type: ignore[call-arg]


def test_a_name_is_a_claim_only_when_it_is_not_the_os_account(settings: Settings) -> None:
    own = terminal_origin(settings, AuditChannel.CLI, acting=ME, account=ME, option="--as")
    assert own.claimed_with is None and not own.impersonating
    other = terminal_origin(settings, AuditChannel.CLI, acting="bob", account=ME, option="--as")
    assert other.claimed_with == "--as" and other.impersonating  # explicit DATABASE_URL


# --- the CLI ------------------------------------------------------------------------------


@pytest.fixture
def cli(database_url: str, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("MODELGOV_APPROVERS", f"{ME},bob")
    return CliRunner()


def _history(cli: CliRunner) -> list[dict[str, object]]:
    result = cli.invoke(main, ["models", "history", REPO, "--json"])
    assert result.exit_code == 0, result.output
    events: list[dict[str, object]] = _data(result.stdout)["events"]
    return events


def test_cli_events_record_the_channel_and_the_os_account(cli: CliRunner) -> None:
    assert cli.invoke(main, ["models", "request", REPO, "--as", "carol"]).exit_code == 0
    assert cli.invoke(main, ["models", "approve", "1"]).exit_code == 0  # as the OS account
    events = _history(cli)
    assert [(e["action"], e["actor"], e["channel"], e["os_user"]) for e in events] == [
        ("model_tracked", "carol", "cli", ME),
        ("requested", "carol", "cli", ME),
        ("approved", ME, "cli", ME),
    ]
    assert events[1]["by"] == f"carol via cli (os user {ME})"
    text = cli.invoke(main, ["models", "history", REPO]).output
    assert f"approved #1 (requested → approved) by {ME} via cli (os user {ME})" in text
    info = cli.invoke(main, ["models", "info", REPO]).output
    assert f"approved #1 (requested → approved) by {ME} via cli (os user {ME})" in info


@pytest.mark.parametrize(
    "words",
    [
        ["models", "approve", "1", "--as", "bob"],
        ["models", "reject", "1", "no", "--as", "bob"],
        ["models", "unwatch", REPO, "--as", "bob"],
        ["models", "approvers", "add", "dave", "--as", "bob"],
        ["policy", "set", "commercial_use", "yes", "--as", "bob"],
    ],
)
def test_cli_as_for_an_approver_action_is_refused_without_impersonation(
    cli: CliRunner, words: list[str]
) -> None:
    assert cli.invoke(main, ["models", "request", REPO, "--as", "carol"]).exit_code == 0
    before = _history(cli)
    result = cli.invoke(main, words)
    assert result.exit_code == 1
    assert result.output.startswith("modelgov: Acting as bob with --as cannot ")
    assert "MODELGOV_CLI_IMPERSONATION=1" in result.output
    assert result.output.count("\n") == 1 and "Traceback" not in result.output
    assert _history(cli) == before  # nothing written


def test_cli_as_acts_when_impersonation_is_allowed_and_says_who_really_ran_it(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MODELGOV_CLI_IMPERSONATION", "1")
    assert cli.invoke(main, ["models", "request", REPO, "--as", "carol"]).exit_code == 0
    result = cli.invoke(main, ["models", "approve", "1", "--as", "bob"])
    assert result.exit_code == 0, result.output
    approved = _history(cli)[-1]
    assert (approved["actor"], approved["channel"], approved["os_user"]) == ("bob", "cli", ME)
    assert approved["by"] == f"bob via cli (os user {ME})"


# --- the console (a real process reading a pipe) -----------------------------------------


def _console(database_url: str, commands: str, tmp_path: Path, **env: str) -> str:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("MODELGOV_", "SLACK_"))}
    environ.update(
        {"DATABASE_URL": database_url, "PYTHONPATH": str(ROOT), "MODELGOV_APPROVERS": "bob"}
    )
    environ.update(env)
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli.main", "console", "--as", "carol"],
        input=commands,
        capture_output=True,
        text=True,
        timeout=120,
        env=environ,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    return result.stdout


def test_console_as_is_refused_for_approver_actions_on_an_explicit_database(
    services: Services, database_url: str, tmp_path: Path
) -> None:
    out = _console(database_url, f"request {REPO}\n:as bob\napprove 1\nlist\n", tmp_path)
    assert "Now acting as bob. Requests and lists work" in out
    assert "Acting as bob with :as cannot approve" in out
    assert out.rindex(REPO) > out.index("cannot approve")  # the list after it still answers
    with transaction(services.session_factory) as session:
        assert session.get(Approval, 1).state is ApprovalState.REQUESTED  # type: ignore[union-attr]
    events = _events(services)
    assert [(e.action, e.actor, e.channel, e.os_user) for e in events] == [
        ("model_tracked", "carol", AuditChannel.CONSOLE, ME),
        ("requested", "carol", AuditChannel.CONSOLE, ME),
    ]


def test_console_as_acts_with_impersonation_and_is_audited_as_the_console(
    services: Services, database_url: str, tmp_path: Path
) -> None:
    _console(
        database_url,
        f"request {REPO}\n:as bob\napprove 1\n",
        tmp_path,
        MODELGOV_CLI_IMPERSONATION="1",
    )
    approved = _events(services)[-1]
    assert (approved.action, approved.actor, approved.channel, approved.os_user) == (
        "approved",
        "bob",
        AuditChannel.CONSOLE,
        ME,
    )


# --- Slack, the watcher, the scheduler ----------------------------------------------------


def test_slack_events_record_slack_and_no_os_user(services: Services) -> None:
    reply = run_text(f"request {REPO}", Invocation(services=services, user="carol", origin=SLACK))
    assert reply.ok, reply.text
    assert {(e.channel, e.os_user) for e in _events(services)} == {(AuditChannel.SLACK, None)}
    assert event_data(_events(services)[-1])["by"] == "carol via slack"


APACHE = "Apache License\nVersion 2.0, January 2004\n\nTERMS AND CONDITIONS\n1. Definitions.\n"


def test_the_watcher_is_named_where_it_moved_an_approval_to_review(watched: Watched) -> None:
    watched.hub.add_model(REPO, files={"LICENSE": APACHE, "config.json": "{}"})
    watched.watch(REPO)
    approval_id = watched.approve(REPO)  # requested by carol, approved by bob
    watched.cycle()
    watched.hub.commit(REPO, card_data={"license": "llama3.1"})
    watched.cycle()
    assert watched.approval(approval_id).state is ApprovalState.NEEDS_REVIEW
    moved = next(e for e in _events(watched.services) if e.action == "needs_review")
    assert (moved.actor, moved.channel, moved.os_user) == ("modelgov", AuditChannel.WATCHER, None)
    assert "by the watcher" in event_line(moved)

    console = AuditOrigin(AuditChannel.CONSOLE, os_user="ops")
    listed = run_text(
        "list review", Invocation(services=watched.services, user="dave", origin=console)
    )
    assert listed.ok, listed.text
    line = listed.blocks[1]["text"]["text"]
    assert "needs review by bob" not in line
    assert "approved by bob" in line and "moved by the watcher" in line
    assert "apache-2.0" in line  # why: the change that moved it
    info = run_text(f"info {REPO}", Invocation(services=watched.services, user="dave"))
    assert "moved by the watcher" in json.dumps(info.blocks)
    card = decision_line(watched.approval(approval_id))
    assert card.startswith(":warning: *needs review* since ") and "(approved by bob at " in card
    history = run_text(f"history {REPO}", Invocation(services=watched.services, user="dave"))
    assert "needs_review (approved → needs_review) by the watcher: upstream" in history.text


def test_the_scheduler_is_named_where_it_expired_an_approval(services: Services) -> None:
    console = Invocation(
        services=services, user="alice", origin=AuditOrigin(AuditChannel.CONSOLE, "ops")
    )
    assert run_text(f"request {REPO}", Invocation(services=services, user="carol")).ok
    until = (services.clock.now().date() + timedelta(days=1)).isoformat()
    assert run_text(f"approve 1 --expires {until}", console).ok
    services.clock.advance(days=3)  # type: ignore[attr-defined]
    assert expiry_job(services) == [1]
    expired = _events(services)[-1]
    assert (expired.action, expired.actor, expired.channel) == (
        "expired",
        "modelgov",
        AuditChannel.SCHEDULER,
    )
    assert event_data(expired)["by"] == "the scheduler"
    # An Invocation without an origin (a test, a benchmark) records no channel, not a guess.
    assert _events(services)[0].channel is None


# --- events written before migration 0008 -------------------------------------------------


def test_events_older_than_0008_keep_null_channel_and_read_as_before(
    empty_database_url: str,
) -> None:
    migrate.upgrade(empty_database_url, "0007")
    engine = create_db_engine(empty_database_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                sa.text(
                    "INSERT INTO audit_events (at, actor, action) "
                    "VALUES ('2026-11-30 10:00:00', 'bob', 'policy_set')"
                )
            )
        migrate.upgrade(empty_database_url)
        with transaction(sa.orm.sessionmaker(bind=engine)) as session:
            (old,) = session.scalars(select(AuditEvent)).all()
            assert (old.channel, old.os_user) == (None, None)
            assert event_data(old)["by"] == "bob"
            assert "by bob" in event_line(old) and "via" not in event_line(old)
    finally:
        engine.dispose()
