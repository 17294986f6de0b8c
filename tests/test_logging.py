"""One logging set-up for every process: JSON lines, HTTP chatter at DEBUG, one-line failures.

Every process kind is started for real with ``MODELGOV_LOG_FORMAT=json`` and every line it
writes (stdout and stderr: warnings, gunicorn's own lines, start-up failures) must parse as
one JSON object. Start-up failures are exactly one line naming the cause and the fix, with
no password in it: an unreachable PostgreSQL (a closed port), a server that refuses the
password (a stand-in speaking PostgreSQL's protocol), Slack refusing the bot token (the Slack
stand-in), bad settings.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from governance.core import logs
from governance.core.redact import redact, register_secret
from tests.faults.endpoint_support import free_port, get
from tests.support.postgres_refusal import refusing_postgres
from tests.support.slack_fixtures import SIGNING_SECRET, slack_standin
from tests.support.slack_socket_standin import SlackSocketStandin
from tests.support.slack_standin import SlackStandIn

__all__ = ["slack_standin"]

MODELGOV = Path(sys.executable).parent / "modelgov"
DEADLINE_SECONDS = 60
PASSWORD = "s3cret-pw-42"


def _env(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MODELGOV_", "SLACK_"))}
    env.pop("DATABASE_URL", None)
    env.update(
        MODELGOV_LOG_FORMAT="json",
        # Nothing leaves the machine: the Hub is a closed port.
        MODELGOV_HUB_ENDPOINT=f"http://127.0.0.1:{free_port()}",
        PYTHONUNBUFFERED="1",
    )
    env.update(values)
    return env


def json_lines(text: str) -> list[dict[str, Any]]:
    """Every line of ``text`` as a JSON object with the fields every record has."""
    records = []
    for line in text.splitlines():
        assert line.strip(), "an empty line in a JSON log"
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            pytest.fail(f"not a JSON line: {line!r}")
        assert isinstance(record, dict), line
        assert {"time", "level", "logger", "message", "pid", "command"} <= record.keys(), line
        records.append(record)
    return records


def run(
    args: list[str], env: Mapping[str, str], cwd: Path, *, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(MODELGOV), *args],
        input=stdin,
        env=dict(env),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=DEADLINE_SECONDS,
    )


class Running:
    """A long-running modelgov process writing stdout and stderr to files."""

    def __init__(self, args: list[str], env: Mapping[str, str], cwd: Path) -> None:
        self.out = cwd / "stdout.log"
        self.err = cwd / "stderr.log"
        with self.out.open("w") as out, self.err.open("w") as err:
            self.proc = subprocess.Popen(
                [str(MODELGOV), *args], env=dict(env), cwd=cwd, stdout=out, stderr=err
            )

    def wait_for(self, needle: str) -> None:
        deadline = time.monotonic() + DEADLINE_SECONDS
        while needle not in self.err.read_text():
            assert self.proc.poll() is None, f"exited {self.proc.returncode}: {self.text()}"
            assert time.monotonic() < deadline, f"no {needle!r} within the deadline: {self.text()}"
            time.sleep(0.1)

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=DEADLINE_SECONDS)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            pytest.fail("the process did not stop on SIGTERM")

    def text(self) -> str:
        return self.out.read_text() + self.err.read_text()

    def records(self) -> list[dict[str, Any]]:
        return json_lines(self.text())


@pytest.fixture
def running() -> Iterator[list[Running]]:
    started: list[Running] = []
    yield started
    for process in started:
        process.stop()


def _sqlite(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'modelgov.db'}"


# --- every process kind, JSON lines only ---------------------------------------------------


def test_one_shot_commands_log_json_lines_with_warnings(tmp_path: Path) -> None:
    env = _env(DATABASE_URL=_sqlite(tmp_path), MODELGOV_RECHEK_INTERVAL_HOURS="2")
    done = run(["models", "list"], env, tmp_path)
    assert done.returncode == 0, done.stderr
    [warning] = json_lines(done.stderr)
    assert warning["level"] == "WARNING" and warning["command"] == "models"
    assert warning["message"] == (
        "MODELGOV_RECHEK_INTERVAL_HOURS is not a modelgov setting and is ignored; did you mean "
        "MODELGOV_RECHECK_INTERVAL_HOURS?"
    )


def test_console_piped_logs_json_lines(tmp_path: Path) -> None:
    env = _env(DATABASE_URL=_sqlite(tmp_path), MODELGOV_LOG_LEVEL="INFO")
    done = run(["console", "--as", "alice"], env, tmp_path, stdin="help\n")
    assert done.returncode == 0, done.stderr
    records = json_lines(done.stderr)  # the banner too: as lines of the console's logger
    assert any("modelgov console" in r["message"] for r in records)
    assert done.stdout.strip()  # the answers are the console's output, on stdout


def test_serve_without_slack_is_the_console_without_info_lines(tmp_path: Path) -> None:
    env = _env(DATABASE_URL=_sqlite(tmp_path), MODELGOV_LOG_FORMAT="text")
    done = run(["serve", "--as", "alice"], env, tmp_path, stdin="list\n")
    assert done.returncode == 0, done.stderr
    # The banner only: the migrations and the scheduler it started stay quiet (`make run`).
    assert done.stderr.startswith("modelgov console")
    assert " INFO " not in done.stderr, done.stderr


def test_worker_logs_json_lines(tmp_path: Path, running: list[Running]) -> None:
    worker = Running(["worker"], _env(DATABASE_URL=_sqlite(tmp_path)), tmp_path)
    running.append(worker)
    worker.wait_for("modelgov worker running")
    assert worker.stop() == 0
    records = worker.records()
    assert {r["command"] for r in records} == {"worker"}
    assert any(r["message"].startswith("modelgov worker running") for r in records)


def test_serve_http_logs_json_lines_with_an_access_log(
    tmp_path: Path, slack_standin: SlackStandIn, running: list[Running]
) -> None:
    port = free_port()
    env = _env(
        DATABASE_URL=_sqlite(tmp_path),
        SLACK_BOT_TOKEN=slack_standin.token,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_BASE_URL=slack_standin.base_url,
        WEB_CONCURRENCY="2",
    )
    web = Running(["serve", "--http", "--port", str(port)], env, tmp_path)
    running.append(web)
    web.wait_for("Booting worker")
    deadline = time.monotonic() + DEADLINE_SECONDS
    while True:
        try:
            if get(f"http://127.0.0.1:{port}/healthz")[0] == 200:
                break
        except OSError:
            pass
        assert time.monotonic() < deadline, web.text()
        time.sleep(0.2)
    web.wait_for("/healthz")  # the access log line
    assert web.stop() == 0
    records = web.records()
    arbiter = web.proc.pid
    gunicorn = [r for r in records if r["logger"] == "gunicorn.error"]
    assert any(r["message"].startswith("Listening at") and r["pid"] == arbiter for r in gunicorn)
    booted = {r["pid"] for r in gunicorn if r["message"].startswith("Booting worker")}
    assert len(booted) == 2 and arbiter not in booted  # both workers log JSON too
    [access, *_] = [r for r in records if r["logger"] == "gunicorn.access"]
    assert access["method"] == "GET" and access["path"] == "/healthz"
    assert access["status"] == 200 and access["duration_ms"] >= 0
    assert any(r["message"].startswith("Slack: signed in as") for r in records)
    assert not any("token" in r["message"] and "unused" in r["message"] for r in records)
    assert not any("ignored" in r["message"] and "SLACK_BOT_TOKEN" in r["message"] for r in records)


def test_serve_socket_mode_logs_json_lines(tmp_path: Path, running: list[Running]) -> None:
    standin = SlackSocketStandin(free_port())
    standin.start()
    try:
        env = _env(
            DATABASE_URL=_sqlite(tmp_path),
            SLACK_BOT_TOKEN="xoxb-standin",
            SLACK_APP_TOKEN="xapp-1-standin",
            SLACK_API_BASE_URL=standin.base_url,
        )
        serve = Running(["serve"], env, tmp_path)
        running.append(serve)
        serve.wait_for("connected to Slack in Socket Mode")
        serve.stop()
    finally:
        standin.stop()
    records = serve.records()
    assert {r["command"] for r in records} == {"serve"}


# --- start-up failures: one line, cause and fix, no password --------------------------------


def _one_failure(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    """The one line above INFO (a long-running process may say at INFO what it did first:
    the embedded database's migrations)."""
    assert done.stdout == ""
    [record] = [r for r in json_lines(done.stderr) if r["level"] not in ("DEBUG", "INFO")]
    assert record["level"] == "ERROR"
    assert "exc_info" not in record  # no traceback below DEBUG
    assert PASSWORD not in done.stderr
    return record


@pytest.mark.parametrize("command", [["models", "list"], ["worker"]])
def test_a_refused_password_is_one_line_at_once(tmp_path: Path, command: list[str]) -> None:
    with refusing_postgres() as port:
        url = f"postgres://app:{PASSWORD}@127.0.0.1:{port}/modelgov"
        done = run(command, _env(DATABASE_URL=url), tmp_path)
    assert done.returncode == 2
    record = _one_failure(done)
    assert record["message"] == (
        f"Cannot connect to the database at postgresql+psycopg://app:***@127.0.0.1:{port}/"
        "modelgov: the server refused the password for user 'app'; correct the user and "
        "password in DATABASE_URL."
    )


def test_an_unreachable_database_is_one_whole_sentence(tmp_path: Path) -> None:
    port = free_port()
    url = f"postgres://app:{PASSWORD}@127.0.0.1:{port}/modelgov"
    done = run(["models", "list"], _env(DATABASE_URL=url), tmp_path)
    assert done.returncode == 2
    record = _one_failure(done)
    assert record["message"] == (
        f"Cannot connect to the database at postgresql+psycopg://app:***@127.0.0.1:{port}/"
        f"modelgov: nothing accepts connections at 127.0.0.1:{port}; start PostgreSQL there, "
        "or correct the host and port in DATABASE_URL."
    )
    assert record["error_code"] == "database_unreachable"


def test_a_bad_setting_is_one_line_without_its_secret(tmp_path: Path) -> None:
    env = _env(DATABASE_URL=f"mysql://app:{PASSWORD}@db/modelgov", MODELGOV_HUB_CONCURRENCY="x")
    done = run(["worker"], env, tmp_path)
    assert done.returncode == 2
    message = _one_failure(done)["message"]
    assert message.startswith("DATABASE_URL: expected a sqlite:/// or postgresql://")
    assert "mysql://app:***@db/modelgov" in message
    assert "MODELGOV_HUB_CONCURRENCY: Input should be a valid integer" in message


def test_slack_refusing_the_bot_token_stops_serve_http_in_one_line(
    tmp_path: Path, slack_standin: SlackStandIn
) -> None:
    env = _env(
        DATABASE_URL=_sqlite(tmp_path),
        SLACK_BOT_TOKEN="xoxb-revoked-long-ago",
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_BASE_URL=slack_standin.base_url,
    )
    done = run(["serve", "--http", "--port", str(free_port())], env, tmp_path)
    assert done.returncode == 2
    record = _one_failure(done)
    assert record["message"].startswith(
        "Slack refused SLACK_BOT_TOKEN (invalid_auth): set it to the app's Bot User OAuth Token"
    )
    assert "xoxb-revoked-long-ago" not in done.stderr


def test_slack_unreachable_at_serve_http_is_one_warning_then_it_serves(
    tmp_path: Path, running: list[Running]
) -> None:
    port = free_port()
    env = _env(
        DATABASE_URL=_sqlite(tmp_path),
        SLACK_BOT_TOKEN="xoxb-1234567",
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_BASE_URL=f"http://127.0.0.1:{free_port()}/api/",
    )
    web = Running(["serve", "--http", "--port", str(port)], env, tmp_path)
    running.append(web)
    web.wait_for("Booting worker")
    assert web.stop() == 0
    records = web.records()
    problems = [r for r in records if r["level"] in ("WARNING", "ERROR", "CRITICAL")]
    assert [r["message"].split(" (")[0] for r in problems] == [
        f"Slack is not reachable at {env['SLACK_API_BASE_URL']}"
    ]
    assert "starting anyway" in problems[0]["message"]


def test_a_refused_app_token_stops_socket_mode_in_one_line(tmp_path: Path) -> None:
    standin = SlackSocketStandin(free_port())
    standin.start()
    try:
        env = _env(
            DATABASE_URL=_sqlite(tmp_path),
            SLACK_BOT_TOKEN="xoxb-standin",
            SLACK_APP_TOKEN="not-an-app-token",
            SLACK_API_BASE_URL=standin.base_url,
        )
        done = run(["serve"], env, tmp_path)
    finally:
        standin.stop()
    assert done.returncode == 2
    failures = [r for r in json_lines(done.stderr) if r["level"] == "ERROR"]
    assert [r["message"].split(":")[0] for r in failures] == [
        "Slack refused SLACK_APP_TOKEN (invalid_auth)"
    ]


def test_text_mode_keeps_the_command_lines_voice(tmp_path: Path) -> None:
    env = _env(DATABASE_URL=f"postgres://app:{PASSWORD}@127.0.0.1:{free_port()}/x")
    env["MODELGOV_LOG_FORMAT"] = "text"
    done = run(["models", "list"], env, tmp_path)
    assert done.returncode == 2
    assert done.stderr.startswith("modelgov: Cannot connect to the database at postgresql")
    assert done.stderr.count("\n") == 1 and PASSWORD not in done.stderr


def test_debug_adds_the_traceback_to_a_start_up_failure(tmp_path: Path) -> None:
    env = _env(
        DATABASE_URL=f"postgres://app:{PASSWORD}@127.0.0.1:{free_port()}/x",
        MODELGOV_LOG_LEVEL="DEBUG",
    )
    done = run(["models", "list"], env, tmp_path)
    assert done.returncode == 2
    [failure] = [r for r in json_lines(done.stderr) if r["level"] == "ERROR"]
    assert "Traceback" in failure["exc_info"] and PASSWORD not in done.stderr


# --- in process: HTTP chatter, redaction, levels --------------------------------------------


@pytest.fixture
def capture() -> Iterator[None]:
    hooks = (sys.excepthook, sys.unraisablehook)
    yield
    logs.uninstall()
    sys.excepthook, sys.unraisablehook = hooks
    logging.getLogger().setLevel(logging.WARNING)
    for name in logs.HTTP_CLIENT_LOGGERS:
        logging.getLogger(name).setLevel(logging.NOTSET)


def _configure(level: str, fmt: str = "json") -> None:
    env = {"MODELGOV_LOG_LEVEL": level, "MODELGOV_LOG_FORMAT": fmt}
    logs.configure_logging(command="test", long_running=True, environ=env, env_file=None)


def test_http_client_chatter_is_debug(capture: None, capsys: pytest.CaptureFixture[str]) -> None:
    _configure("INFO")
    logging.getLogger("httpx").info('HTTP Request: GET https://hub/api/models "HTTP/1.1 200 OK"')
    logging.getLogger("httpcore.http11").debug("receive_response_headers.started")
    logging.getLogger("slack_sdk.web.base_client").error(
        "Failed to send a request to Slack API server: <urlopen error refused>"
    )
    logging.getLogger("governance.flows.recheck").info("cycle done")
    chatty = logging.getLogger("bm25s")  # sets its own level to DEBUG: the root's level rules
    chatty.setLevel(logging.DEBUG)
    chatty.debug("Building index from tokens")
    chatty.setLevel(logging.NOTSET)
    assert [r["message"] for r in json_lines(capsys.readouterr().err)] == ["cycle done"]
    _configure("DEBUG")
    logging.getLogger("httpx").info("HTTP Request: GET https://hub/api/models")
    [record] = json_lines(capsys.readouterr().err)
    assert record["level"] == "DEBUG" and record["logger"] == "httpx"


def test_warnings_and_uncaught_errors_are_json(
    capture: None, capsys: pytest.CaptureFixture[str]
) -> None:
    import warnings

    with warnings.catch_warnings():  # pytest records warnings itself: route them as a process
        warnings.simplefilter("always")
        _configure("INFO")  # captureWarnings(True), inside this block
        warnings.warn("an old API", DeprecationWarning, stacklevel=1)
    try:
        raise RuntimeError(f"boom at postgresql://u:{PASSWORD}@db/x")
    except RuntimeError as exc:
        sys.excepthook(type(exc), exc, exc.__traceback__)
    warned, crashed = json_lines(capsys.readouterr().err)
    assert warned["logger"] == "py.warnings" and "an old API" in warned["message"]
    assert crashed["level"] == "CRITICAL" and "RuntimeError" in crashed["exc_info"]
    assert PASSWORD not in json.dumps(crashed) and "postgresql://u:***@db/x" in crashed["message"]


def test_registered_secrets_and_url_passwords_are_masked() -> None:
    register_secret("xoxb-very-secret-token")
    assert redact("token=xoxb-very-secret-token!") == "token=***!"
    assert redact("at postgres://app:p@ss@db:5432/x") == "at postgres://app:***@db:5432/x"
    assert redact("https://huggingface.co:443/api") == "https://huggingface.co:443/api"
    register_secret("pw")  # too short to mask without masking ordinary words
    assert redact("pwd") == "pwd"


def test_level_and_format_are_read_leniently_before_settings() -> None:
    read = logs.read_log_options
    assert read(default_level="INFO", environ={}, env_file=None) == logs.LogOptions(
        "INFO", "text", level_is_explicit=False
    )
    environ = {"MODELGOV_LOG_LEVEL": "warn", "MODELGOV_LOG_FORMAT": "JSON"}
    assert read(default_level="INFO", environ=environ, env_file=None) == logs.LogOptions(
        "WARNING", "json", level_is_explicit=True
    )
    bad = {"MODELGOV_LOG_LEVEL": "loud", "MODELGOV_LOG_FORMAT": "xml"}
    assert read(default_level="WARNING", environ=bad, env_file=None).format == "text"


def test_level_and_format_come_from_dotenv_too(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("MODELGOV_LOG_FORMAT=json\nMODELGOV_LOG_LEVEL=debug\n")
    options = logs.read_log_options(default_level="INFO", environ={}, env_file=tmp_path / ".env")
    assert options == logs.LogOptions("DEBUG", "json", level_is_explicit=True)


def test_database_urls_in_sentences_are_masked_whole() -> None:
    from governance.core.startup import failure_sentence

    url = f"postgres://app:{PASSWORD}@db.internal:6543/modelgov?sslmode=require"
    sentence = failure_sentence(
        RuntimeError(f"could not connect to {url}: timeout expired"), make_url(url)
    )
    assert PASSWORD not in sentence
    assert sentence == (
        "Cannot connect to the database at postgresql+psycopg://app:***@db.internal:6543/"
        "modelgov?sslmode=require: no answer from db.internal:6543 within the connect timeout; "
        "check the host, the port and any firewall between here and the server."
    )


def test_a_usage_error_with_json_asked_is_json_on_both_streams(tmp_path: Path) -> None:
    done = run(["--bogus", "--json"], _env(), tmp_path)  # before any command set logging up
    assert done.returncode == 2
    [record] = json_lines(done.stderr)
    assert record["level"] == "ERROR" and record["error_code"] == "usage_error"
    assert record["message"].startswith("No such option '--bogus'.")
    assert json.loads(done.stdout)["ok"] is False
