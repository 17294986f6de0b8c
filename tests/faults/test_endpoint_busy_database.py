"""A writer holding the database lock never holds up an ack; the command still finishes.

Another connection takes the write lock (SQLite: ``BEGIN IMMEDIATE``; PostgreSQL: ``LOCK
TABLE approvals IN EXCLUSIVE MODE``, which lets reads through like SQLite's WAL) and keeps it
while the real web process is sent commands. The protocol facts asserted, not wall times:

- every ack (``request``, ``list``, ``help``) arrives while the lock is still held;
- a writing command says "still working" while it waits, and after the lock is released its
  answer arrives and the request is recorded;
- held past the bounded wait, the answer is the one busy sentence and nothing is written; the
  CLI prints the same sentence on one line (exit 2 on SQLite, 1 on PostgreSQL, see below).
"""

from __future__ import annotations

import sqlite3
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from governance.core.db import BUSY_MESSAGE, make_session_factory, transaction
from governance.registry.models import Approval, AuditEvent, TrackedModel
from governance.wiring.services import build_services
from tests.conftest import make_settings
from tests.faults.endpoint_support import MODELGOV, web_process
from tests.support.slack_fixtures import slack_standin
from tests.support.slack_standin import SlackStandIn

__all__ = ["slack_standin"]

HOLD_LIMIT_SECONDS = 45.0  # a safety net: the tests release the lock themselves


class HeldLock:
    """The database's write lock, taken by another connection in a thread of its own."""

    def __init__(self, database_url: str) -> None:
        self.url = database_url
        self.taken = threading.Event()
        self.release = threading.Event()
        self.released = threading.Event()
        self._thread = threading.Thread(target=self._hold, daemon=True)

    def _hold(self) -> None:
        url = make_url(self.url)
        if url.get_backend_name() == "sqlite":
            connection = sqlite3.connect(str(url.database), isolation_level=None)
            connection.execute("BEGIN IMMEDIATE")
        else:
            plain = url.set(drivername="postgresql").render_as_string(hide_password=False)
            connection = psycopg.connect(plain)  # type: ignore[assignment]
            connection.execute("LOCK TABLE approvals IN EXCLUSIVE MODE")
        self.taken.set()
        self.release.wait(HOLD_LIMIT_SECONDS)
        connection.rollback()
        connection.close()
        self.released.set()

    def start(self) -> HeldLock:
        self._thread.start()
        assert self.taken.wait(10)
        return self

    def stop(self) -> None:
        self.release.set()
        self._thread.join(30)


@contextmanager
def held(database_url: str) -> Iterator[HeldLock]:
    lock = HeldLock(database_url).start()
    try:
        yield lock
    finally:
        lock.stop()


def counts(database_url: str) -> tuple[int, int, int]:
    services = build_services(make_settings(database_url))
    try:
        readers = make_session_factory(services.engine, read_only=True)
        with transaction(readers) as session:
            return tuple(  # type: ignore[return-value]
                session.scalar(select(func.count()).select_from(table)) or 0
                for table in (Approval, TrackedModel, AuditEvent)
            )
    finally:
        services.close()


def test_acks_arrive_while_a_writer_holds_the_lock_and_the_request_lands_after(
    database_url: str, slack_standin: SlackStandIn, tmp_path: Path
) -> None:
    with web_process(database_url, slack_standin, tmp_path) as web:
        url = slack_standin.new_response_url(channel="C1", user_id="U0CAROL")
        with held(database_url) as lock:
            request = web.driver.slash_command(
                "request acme/m-1 --use research evals",
                user_id="U0CAROL",
                channel_id="C1",
                response_url=url,
            )
            listed = web.driver.slash_command("list", user_id="U0CAROL", channel_id="C1")
            helped = web.driver.slash_command("help", user_id="U0CAROL", channel_id="C1")
            acked_while_held = not lock.released.is_set()
            # The request is waiting for the lock, and says so.
            slack_standin.wait_for("response_url", count=1, timeout=30)
            still = slack_standin.response_url_posts(url)[0].payload["text"]
            still_while_held = not lock.released.is_set()
            assert counts(database_url)[0] == 0  # not written yet: the lock is held
        slack_standin.wait_for("response_url", count=2, timeout=30)
        answer = slack_standin.response_url_posts(url)[1].payload["text"]
        log = web.log_text()

    assert acked_while_held and still_while_held
    assert (request.status, request.body) == (200, b"")
    assert listed.status == 200 and listed.json()["text"].startswith("Requests")
    assert helped.status == 200 and "modelgov commands" in helped.json()["text"]
    assert still.startswith("Still working on /models request acme/m-1")
    assert answer.startswith("Request #1 recorded: acme/m-1 for research use.")
    assert counts(database_url)[0] == 1
    assert "Traceback" not in log


def test_a_lock_held_past_the_bounded_wait_gets_one_sentence_and_writes_nothing(
    database_url: str, slack_standin: SlackStandIn, tmp_path: Path
) -> None:
    before = counts(database_url)
    env_url = database_url
    with web_process(database_url, slack_standin, tmp_path) as web:
        url = slack_standin.new_response_url(channel="C1", user_id="U0CAROL")
        with held(database_url) as lock:
            request = web.driver.slash_command(
                "request acme/m-9", user_id="U0CAROL", channel_id="C1", response_url=url
            )
            acked_while_held = not lock.released.is_set()
            cli = subprocess.run(
                [str(MODELGOV), "models", "request", "acme/m-8", "--as", "alice"],
                env={"DATABASE_URL": env_url, "MODELGOV_APPROVERS": "alice,bob", "PATH": ""},
                cwd=tmp_path,
                capture_output=True,
                text=True,
                timeout=60,
            )
            slack_standin.wait_for("response_url", count=2, timeout=40)
            answered_while_held = not lock.released.is_set()
        posts = [p.payload["text"] for p in slack_standin.response_url_posts(url)]
        log = web.log_text()

    assert acked_while_held and answered_while_held
    assert (request.status, request.body) == (200, b"")
    assert posts[0].startswith("Still working on /models request acme/m-9")
    assert posts[1] == BUSY_MESSAGE
    assert counts(database_url) == before  # nothing half-written
    # SQLite: the CLI's schema check at start already meets the lock (exit 2, "cannot start");
    # PostgreSQL: the command's own write does (exit 1, "refused"). The sentence is the same.
    assert cli.returncode == (2 if make_url(database_url).get_backend_name() == "sqlite" else 1)
    assert cli.stderr == f"modelgov: {BUSY_MESSAGE}\n"
    assert "Traceback" not in log
