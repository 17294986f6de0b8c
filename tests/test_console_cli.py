"""The console through a real pipe, and the modelgov CLI's exit codes and JSON."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli.identity import os_account
from bot.cli.main import main

REPO = "meta-llama/Llama-3.1-8B-Instruct"
ROOT = Path(__file__).resolve().parents[1]


def _env(database_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MODELGOV_", "SLACK_"))}
    env.update({"DATABASE_URL": database_url, "PYTHONPATH": str(ROOT), **extra})
    return env


def test_console_reads_piped_commands_and_exits_at_eof(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'console.db'}"
    commands = (
        f"/models request {REPO} --use commercial need it for support bot\n"
        ":as bob\n"
        f"approve {REPO}\n"
        "frobnicate\n"
        f"info {REPO}\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli.main", "console", "--as", "alice"],
        input=commands,
        capture_output=True,
        text=True,
        timeout=120,
        env=_env(url, MODELGOV_APPROVERS="bob", MODELGOV_CLI_IMPERSONATION="1"),
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "Request #1 recorded" in result.stdout
    assert "Now acting as bob." in result.stdout
    assert "Approved #1" in result.stdout
    assert "Unknown subcommand 'frobnicate'" in result.stdout
    assert "approved by bob" in result.stdout
    assert "modelgov console" in result.stderr  # the banner goes to stderr when piped
    assert "Traceback" not in result.stdout + result.stderr


def test_console_with_no_input_does_not_hang(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli.main", "console"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        env=_env(f"sqlite:///{tmp_path / 'c.db'}"),
        cwd=tmp_path,
    )
    assert result.returncode == 0


@pytest.fixture
def cli(database_url: str, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("MODELGOV_APPROVERS", "alice,bob")
    # These scenarios play several people from one account (tests/test_audit_channel.py
    # covers the refusal without it).
    monkeypatch.setenv("MODELGOV_CLI_IMPERSONATION", "1")
    return CliRunner()


def test_cli_scenario_from_the_issue(cli: CliRunner) -> None:
    result = cli.invoke(
        main, ["models", "request", REPO, "--use", "commercial", "support", "--as", "alice"]
    )
    assert result.exit_code == 0, result.output
    own = cli.invoke(main, ["models", "approve", REPO, "--as", "alice"])
    assert own.exit_code == 1 and "yourself" in own.output
    outsider = cli.invoke(main, ["models", "approve", REPO, "--as", "carol"])
    assert outsider.exit_code == 1 and "Only approvers" in outsider.output
    assert cli.invoke(main, ["models", "approve", REPO, "--as", "bob"]).exit_code == 0
    listed = cli.invoke(main, ["models", "list", "--json", "--as", "carol"])
    assert listed.exit_code == 0
    approvals = json.loads(listed.stdout)["data"]["approvals"]
    assert [(a["repo_id"], a["use"], a["state"]) for a in approvals] == [
        (REPO, "commercial", "approved")
    ]
    history = cli.invoke(main, ["models", "history", REPO, "--as", "carol"])
    assert history.exit_code == 0
    account = os_account()  # the OS account is recorded beside the name claimed with --as
    for step in (
        f"requested #1 by alice via cli (os user {account})",
        f"approved #1 (requested → approved) by bob via cli (os user {account})",
    ):
        assert step in history.output


def test_cli_errors_are_one_line_with_nonzero_exit(cli: CliRunner) -> None:
    result = cli.invoke(main, ["models", "request", "not-a-repo", "--as", "alice"])
    assert result.exit_code == 1
    assert result.output.strip().count("\n") == 0
    assert result.output.startswith("modelgov: ")
    as_json = cli.invoke(main, ["models", "info", "a//b", "--json", "--as", "alice"])
    assert as_json.exit_code == 1
    envelope = json.loads(as_json.stdout)  # stdout holds the envelope only, nothing else
    assert envelope["ok"] is False and envelope["error"]["code"] == "invalid_input"


def test_invalid_setting_stops_startup_with_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELGOV_HUB_CONCURRENCY", "lots")
    result = CliRunner().invoke(main, ["models", "list"])
    assert result.exit_code == 2
    assert result.output.strip() == (
        "modelgov: MODELGOV_HUB_CONCURRENCY: Input should be a valid integer, unable to parse "
        "string as an integer (got 'lots')."
    )


def test_db_commands(cli: CliRunner) -> None:
    assert cli.invoke(main, ["db", "upgrade"]).exit_code == 0
    current = cli.invoke(main, ["db", "current"])
    assert current.exit_code == 0 and "up to date" in current.output
