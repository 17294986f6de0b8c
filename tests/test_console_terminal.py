"""The console at a real terminal (a pseudo-terminal): line editing, a bounded history kept in
a file between sessions, Ctrl-C cancelling the line, and Ctrl-C twice or Ctrl-D leaving with 0.
Every wait is bounded; a console that hangs is killed and the test fails."""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
WAIT_SECONDS = 90  # start-up imports and migrates a fresh SQLite database
PROMPT = "alice> "
UP, HOME, RIGHT = b"\x1b[A", b"\x01", b"\x1b[C"
CTRL_C, CTRL_D, TAB = b"\x03", b"\x04", b"\t"


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MODELGOV_", "SLACK_"))}
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'console.db'}",
        PYTHONPATH=str(ROOT),
        XDG_DATA_HOME=str(tmp_path / "data"),
        TERM="xterm",
    )
    return env


class Terminal:
    """``modelgov console`` with a pseudo-terminal as its controlling terminal."""

    def __init__(self, tmp_path: Path) -> None:
        env = _env(tmp_path)
        command = [sys.executable, "-m", "bot.cli.main", "console", "--as", "alice"]
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: exec at once, nothing else
            os.chdir(tmp_path)
            os.execve(sys.executable, command, env)
        self.seen = b""
        self.pending = b""
        self.status: int | None = None

    def expect(self, text: str, timeout: float = WAIT_SECONDS) -> str:
        """Read until ``text`` appears; return what came up to and including it."""
        needle = text.encode()
        deadline = time.monotonic() + timeout
        while needle not in self.pending:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self.fd], [], [], max(0.0, left))
            if not ready:
                raise AssertionError(f"no {text!r} within {timeout}s; saw {self.pending[-800:]!r}")
            try:
                chunk = os.read(self.fd, 65536)
            except OSError:  # the console exited: EIO on the pty
                chunk = b""
            if not chunk:
                raise AssertionError(f"console ended before {text!r}: {self.pending[-800:]!r}")
            self.pending += chunk
            self.seen += chunk
        end = self.pending.index(needle) + len(needle)
        got, self.pending = self.pending[:end], self.pending[end:]
        return got.decode(errors="replace")

    def type(self, keys: bytes) -> None:
        os.write(self.fd, keys)

    def drain(self) -> None:
        """Read what is left until the console closes the terminal."""
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.fd], [], [], 0.5)
            if not ready:
                if self.poll() is not None:
                    return
                continue
            try:
                chunk = os.read(self.fd, 65536)
            except OSError:
                return
            if not chunk:
                return
            self.seen += chunk

    def poll(self) -> int | None:
        if self.status is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = os.waitstatus_to_exitcode(status)
        return self.status

    def wait(self, timeout: float = 30) -> int:
        """The console's exit status (it is killed, and the test fails, if it does not end)."""
        self.drain()
        deadline = time.monotonic() + timeout
        while self.poll() is None:
            if time.monotonic() > deadline:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
                raise AssertionError(f"the console did not exit; saw {self.seen[-800:]!r}")
            time.sleep(0.05)
        assert self.status is not None
        return self.status

    def close(self) -> None:
        if self.poll() is None:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        os.close(self.fd)


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[Terminal]:
    opened = Terminal(tmp_path)
    yield opened
    opened.close()


def _history(tmp_path: Path) -> Path:
    return tmp_path / "data" / "modelgov" / "console_history"


def test_line_editing_history_and_ctrl_d(tmp_path: Path, terminal: Terminal) -> None:
    terminal.expect("Ctrl-D: leave.")
    terminal.expect(PROMPT)
    # Typed "hlp list", then Home, Right, "e": readline makes it "help list".
    terminal.type(b"hlp list" + HOME + RIGHT + b"e\r")
    page = terminal.expect(PROMPT)
    assert "`--page N`  which page" in page
    assert "Unknown subcommand" not in page
    terminal.type(UP + b"\r")  # the same command again, from the history
    again = terminal.expect(PROMPT)
    assert "`--page N`  which page" in again
    terminal.type(CTRL_D)
    assert terminal.wait() == 0
    assert b"Traceback" not in terminal.seen and b"Aborted" not in terminal.seen
    history = _history(tmp_path)
    assert history.read_text().splitlines() == ["help list"]  # once: repeats are not kept
    assert history.stat().st_mode & 0o777 == 0o600


def test_tab_completes_the_subcommand_only(terminal: Terminal) -> None:
    terminal.expect(PROMPT)
    terminal.type(b"lis" + TAB + b"\r")  # "list "
    assert "Requests: nothing yet." in terminal.expect(PROMPT)
    terminal.type(b"license-c" + TAB + b"org/x\r")  # one word, hyphen and all
    assert "license-check" in terminal.expect(PROMPT)
    terminal.type(b"help lis" + TAB + b"\r")  # an argument is not completed
    assert "There is no subcommand 'lis';" in terminal.expect(PROMPT)
    terminal.type(CTRL_D)
    assert terminal.wait() == 0


def test_history_survives_the_session(tmp_path: Path) -> None:
    first = Terminal(tmp_path)
    try:
        first.expect(PROMPT)
        first.type(b"help info\r")
        first.expect(PROMPT)
        first.type(b":quit\r")
        assert first.wait() == 0
    finally:
        first.close()
    second = Terminal(tmp_path)
    try:
        second.expect(PROMPT)
        second.type(UP + UP + b"\r")  # ":quit", then "help info"
        assert "/models info <repo>" in second.expect(PROMPT)
        second.type(CTRL_D)
        assert second.wait() == 0
    finally:
        second.close()
    assert _history(tmp_path).read_text().splitlines() == [
        "help info",
        ":quit",
        "help info",
    ]


def _interrupt(terminal: Terminal) -> None:
    """Ctrl-C once readline waits for a key: CPython's readline only looks at a signal when
    its select() is interrupted, so one that lands between drawing the prompt and select()
    waits for the next key. A person is never that fast; a test on a busy machine can be."""
    time.sleep(1.0)
    terminal.type(CTRL_C)


def test_ctrl_c_cancels_the_line_and_twice_leaves(terminal: Terminal) -> None:
    terminal.expect(PROMPT)
    terminal.type(b"frobnicate")
    terminal.expect("frobnicate")  # echoed: readline has it
    _interrupt(terminal)
    terminal.expect("(Ctrl-C again or Ctrl-D to leave)")
    terminal.expect(PROMPT)
    terminal.type(b"help\r")  # the cancelled text is gone: this is "help", not "frobnicatehelp"
    answer = terminal.expect(PROMPT)
    assert "shows one with its options" in answer and "Unknown subcommand" not in answer
    _interrupt(terminal)  # one Ctrl-C after a command only cancels
    terminal.expect("(Ctrl-C again or Ctrl-D to leave)")
    terminal.expect(PROMPT)
    _interrupt(terminal)
    assert terminal.wait() == 0
    assert b"Aborted" not in terminal.seen and b"Traceback" not in terminal.seen


def test_history_is_bounded(tmp_path: Path, terminal: Terminal) -> None:
    from bot.cli.console import HISTORY_MAX

    history = _history(tmp_path)
    history.parent.mkdir(parents=True)
    history.write_text("".join(f"help {i}\n" for i in range(HISTORY_MAX + 500)))
    terminal.expect(PROMPT)
    terminal.type(b"help list\r")
    terminal.expect(PROMPT)
    terminal.type(CTRL_D)
    assert terminal.wait() == 0
    lines = history.read_text().splitlines()
    assert len(lines) == HISTORY_MAX
    assert lines[-1] == "help list" and lines[0] == "help 501"


def test_piped_console_stopped_by_ctrl_c_says_nothing_and_exits_130(tmp_path: Path) -> None:
    console = subprocess.Popen(
        [sys.executable, "-m", "bot.cli.main", "console", "--as", "alice"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_env(tmp_path),
        cwd=tmp_path,
    )
    try:
        assert console.stdin is not None and console.stdout is not None
        console.stdin.write(b"help list\n")
        console.stdin.flush()
        deadline = time.monotonic() + WAIT_SECONDS
        seen = b""
        while b"which page" not in seen:  # the command ran: the console waits for the next
            assert time.monotonic() < deadline, seen
            seen += console.stdout.read1(65536)
        console.send_signal(signal.SIGINT)
        out, err = console.communicate(timeout=30)
    finally:
        if console.poll() is None:
            console.kill()
            console.wait()
    assert console.returncode == 130
    assert b"Aborted" not in out + err and b"Traceback" not in out + err
