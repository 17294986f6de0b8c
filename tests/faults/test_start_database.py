"""Starting before the database: the worker waits with backoff, says so, and still stops on SIGTERM.

The database is made unreachable for real: PostgreSQL behind a loopback TCP forwarder that is
not listening yet (connection refused, as when the server is down), SQLite at a path that is a
directory (``unable to open database file``). Then it becomes reachable and the same process
carries on.
"""

from __future__ import annotations

import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from governance.core.startup import (
    DatabaseUnreachable,
    backoff_delays,
    safe_url,
    wait_for_database,
)

MODELGOV = Path(sys.executable).parent / "modelgov"
PROCESS_DEADLINE_SECONDS = 60


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class TcpForwarder:
    """Forwards 127.0.0.1:``port`` to ``target`` once started; refuses connections before."""

    def __init__(self, port: int, target: tuple[str, int]) -> None:
        self.port = port
        self.target = target
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._listener: socket.socket | None = None

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        listener.settimeout(0.2)
        self._listener = listener
        self._spawn(self._accept_loop)

    def _spawn(self, target: object, *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)  # type: ignore[arg-type]
        thread.start()
        self._threads.append(thread)

    def _accept_loop(self) -> None:
        assert self._listener is not None
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            upstream = socket.create_connection(self.target, timeout=5)
            self._spawn(self._pipe, client, upstream)

    def _pipe(self, client: socket.socket, upstream: socket.socket) -> None:
        with client, upstream:
            while not self._stop.is_set():
                ready, _, _ = select.select([client, upstream], [], [], 0.2)
                for sock in ready:
                    data = sock.recv(65536)
                    if not data:
                        return
                    (upstream if sock is client else client).sendall(data)

    def close(self) -> None:
        self._stop.set()
        if self._listener is not None:
            self._listener.close()
        for thread in self._threads:
            thread.join(timeout=5)


class Unreachable:
    """A database URL that refuses connections until ``make_reachable()``."""

    def __init__(self, url: str, make_reachable: object, cleanup: object) -> None:
        self.url = url
        self.make_reachable = make_reachable
        self._cleanup = cleanup

    def close(self) -> None:
        self._cleanup()  # type: ignore[operator]


@pytest.fixture
def unreachable(database_url: str, tmp_path: Path) -> Iterator[Unreachable]:
    """``database_url`` (migrated, on each backend) made unreachable until told otherwise."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        real = Path(str(url.database))
        blocked = tmp_path / "later" / "modelgov.sqlite"
        blocked.mkdir(parents=True)  # a directory where the file should be: cannot be opened

        def reachable_sqlite() -> None:
            blocked.rmdir()
            shutil.copyfile(real, blocked)

        yield Unreachable(f"sqlite:///{blocked}", reachable_sqlite, lambda: None)
        return
    forwarder = TcpForwarder(free_port(), (url.host or "127.0.0.1", url.port or 5432))
    proxied = url.set(host="127.0.0.1", port=forwarder.port, password="s3cret-pw")
    # psycopg ignores a password the server does not ask for (trust auth on the test server),
    # so adding one lets the test check that it never reaches a log line.
    state = Unreachable(
        proxied.render_as_string(hide_password=False), forwarder.start, forwarder.close
    )
    try:
        yield state
    finally:
        state.close()


class FakeTime:
    """Sleeps that take no time; ``on_sleep`` runs at each one (to change the world)."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []
        self.on_sleep: list[object] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        if len(self.sleeps) <= len(self.on_sleep):
            action = self.on_sleep[len(self.sleeps) - 1]
            if action is not None:
                action()  # type: ignore[operator]

    def monotonic(self) -> float:
        return self.now


def test_backoff_doubles_from_one_second_and_stays_at_thirty() -> None:
    delay = backoff_delays()
    assert [delay(n) for n in range(1, 9)] == [1, 2, 4, 8, 16, 30, 30, 30]


def test_backoff_stays_at_thirty_after_hours_of_retries() -> None:
    delay = backoff_delays()
    assert [delay(n) for n in (1024, 1025, 1026, 100_000)] == [30, 30, 30, 30]


def test_wait_retries_until_the_database_answers(unreachable: Unreachable) -> None:
    lines: list[str] = []
    fake = FakeTime()
    fake.on_sleep = [None, None, unreachable.make_reachable]
    waited = wait_for_database(
        unreachable.url, log=lines.append, sleep=fake.sleep, monotonic=fake.monotonic
    )
    assert waited.attempts == 4 and fake.sleeps == [1, 2, 4]
    assert len(lines) == 4
    for line, pause in zip(lines, ("1", "2", "4"), strict=False):
        assert line.startswith(f"database not reachable ({safe_url(unreachable.url)}: ")
        assert line.endswith(f"); retrying in {pause} s")
    assert lines[-1] == f"database reachable ({safe_url(unreachable.url)}) after 4 attempts"
    assert not any("s3cret-pw" in line for line in lines)


def test_wait_gives_up_after_max_wait_with_one_sentence(unreachable: Unreachable) -> None:
    lines: list[str] = []
    fake = FakeTime()
    with pytest.raises(DatabaseUnreachable) as raised:
        wait_for_database(
            unreachable.url,
            log=lines.append,
            sleep=fake.sleep,
            monotonic=fake.monotonic,
            max_wait=10,
        )
    assert fake.sleeps == [1, 2, 4]  # the next pause (8 s) would end past 10 s
    assert raised.value.message.startswith(
        f"The database at {safe_url(unreachable.url)} did not answer within 10 s ("
    )
    assert lines[-1].endswith("; giving up")
    assert "s3cret-pw" not in raised.value.message + "".join(lines)


def test_a_malformed_url_is_not_waited_for() -> None:
    with pytest.raises(Exception) as raised:
        wait_for_database("nosuchdb://x/y", log=print, sleep=pytest.fail)
    assert not isinstance(raised.value, DatabaseUnreachable)


def _worker(url: str, cwd: Path) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MODELGOV_", "SLACK_"))}
    env.update(
        DATABASE_URL=url,
        MODELGOV_HUB_ENDPOINT=f"http://127.0.0.1:{free_port()}",  # nothing leaves the machine
        PYTHONUNBUFFERED="1",
    )
    return subprocess.Popen(
        [str(MODELGOV), "worker"],
        env=env,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def _read_until(proc: subprocess.Popen[str], marker: str, seen: list[str]) -> None:
    """Collect stderr lines into ``seen`` until one contains ``marker`` (bounded)."""
    assert proc.stderr is not None
    deadline = time.monotonic() + PROCESS_DEADLINE_SECONDS
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stderr], [], [], 0.5)
        if not ready:
            assert proc.poll() is None, f"worker exited {proc.returncode}: {seen}"
            continue
        line = proc.stderr.readline()
        if not line:
            pytest.fail(f"worker stderr closed (exit {proc.poll()}) before {marker!r}: {seen}")
        seen.append(line.rstrip("\n"))
        if marker in line:
            return
    pytest.fail(f"no {marker!r} within {PROCESS_DEADLINE_SECONDS} s: {seen}")


def _stop(proc: subprocess.Popen[str]) -> tuple[int, str]:
    proc.send_signal(signal.SIGTERM)
    try:
        _, rest = proc.communicate(timeout=PROCESS_DEADLINE_SECONDS)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        pytest.fail("the worker did not stop on SIGTERM")
    return proc.returncode, rest


def test_worker_waits_for_the_database_then_runs(unreachable: Unreachable, tmp_path: Path) -> None:
    proc = _worker(unreachable.url, tmp_path)
    seen: list[str] = []
    try:
        _read_until(proc, "retrying in 1 s", seen)
        _read_until(proc, "retrying in 2 s", seen)
        unreachable.make_reachable()
        _read_until(proc, "modelgov worker running", seen)
    finally:
        code, rest = _stop(proc)
    waits = [line for line in seen if "database not reachable" in line]
    assert len(waits) >= 2
    assert all(line.startswith("modelgov: database not reachable (") for line in waits)
    assert any(line.startswith("modelgov: database reachable (") for line in seen)
    assert "s3cret-pw" not in "\n".join(seen) + rest
    assert code == 0, rest


def test_sigterm_while_waiting_stops_the_worker_at_once(
    unreachable: Unreachable, tmp_path: Path
) -> None:
    proc = _worker(unreachable.url, tmp_path)
    seen: list[str] = []
    _read_until(proc, "retrying in 1 s", seen)
    _read_until(proc, "retrying in 2 s", seen)  # now inside a 2 s sleep
    code, rest = _stop(proc)
    assert code == 128 + signal.SIGTERM
    assert rest.strip().splitlines()[-1] == "modelgov: stopped while waiting for the database"
