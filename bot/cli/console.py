"""The /models commands in a terminal: the embedded default when Slack is not set up.

Reads lines from stdin (interactive or piped), runs them as a user, prints the replies.
It never waits for a terminal that is not there: at end of input it exits.

At a terminal, lines are read with the standard library's ``readline`` (GNU readline or
libedit): arrows and Emacs keys edit the line, Up and Down walk the history, Tab completes a
subcommand's name. The history is kept, bounded to ``HISTORY_MAX`` lines, in a file only its
owner can read (``default_history_path``). Ctrl-C cancels the line being typed (or the command
running); a second Ctrl-C in a row, Ctrl-D or ``:quit`` leaves with status 0.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Protocol, TextIO

from bot.cli.identity import AS_OPTION, CONSOLE_AS, os_account, terminal_origin
from bot.grammar.dispatch import build_table, run_text
from bot.grammar.spec.invocation import Invocation
from bot.render.text import render_reply
from governance.core.errors import InvalidInput
from governance.registry.approvers import IMPERSONATION_SETTING
from governance.registry.audit import AuditOrigin
from governance.registry.models import AuditChannel
from governance.registry.validation import validate_user_id
from governance.wiring.services import Services

BANNER = """modelgov console - the team's registry of approved AI models, in a terminal.
Type /models commands (the /models is optional), for example:
  request mistralai/Mistral-7B-v0.1 --use research
  help            all commands          :as NAME   act as another user      :quit   leave
Acting as {user}. To use Slack instead, put SLACK_BOT_TOKEN and SLACK_APP_TOKEN in .env
(see README, "Connect to Slack") and run `make run` again."""
KEYS = "Up/Down: history, Tab: complete, Ctrl-C: cancel the line, Ctrl-D: leave."
LEAVE_HINT = "(Ctrl-C again or Ctrl-D to leave)"
QUIT_WORDS = frozenset({":quit", ":q", ":exit", "exit", "quit"})
HISTORY_MAX = 1000  # lines kept in the history file
EXIT_INTERRUPTED = 130  # a piped console stopped by Ctrl-C: 128 + SIGINT, as shells report it


def default_history_path() -> Path:
    """Where the console keeps its history: ``$XDG_DATA_HOME/modelgov/console_history``
    (``~/.local/share/modelgov/console_history`` when XDG_DATA_HOME is not set)."""
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home) / "modelgov" / "console_history"


class LineSource(Protocol):
    def read(self, prompt: str) -> str | None:
        """The next line without its newline, or None at end of input.

        Raises:
            KeyboardInterrupt: Ctrl-C while waiting for it.
        """

    def remember(self, line: str) -> None:
        """Note ``line`` (a command that was run) in the history, if this source keeps one."""


class StreamLines:
    """Lines from a stream (a pipe, or a terminal handed in as a stream): no editing, no
    history; the prompt, if any, is written to ``echo``."""

    def __init__(self, stream: TextIO, echo: TextIO | None = None) -> None:
        self._stream = stream
        self._echo = echo

    def read(self, prompt: str) -> str | None:
        if self._echo is not None and prompt:
            self._echo.write(prompt)
            self._echo.flush()
        line = self._stream.readline()
        return line.rstrip("\n") if line else None

    def remember(self, line: str) -> None:
        return None


class TerminalLines:
    """Lines typed at this process's terminal (``input()``), edited with readline when the
    interpreter has it, with a history kept in ``history`` (None: in memory only)."""

    def __init__(self, readline: ModuleType | None, history: Path | None) -> None:
        self._readline = readline
        self._history = history

    def read(self, prompt: str) -> str | None:
        try:
            return input(prompt)
        except EOFError:
            return None

    def remember(self, line: str) -> None:
        rl = self._readline
        if rl is None or not line:
            return
        length = rl.get_current_history_length()
        if length and rl.get_history_item(length) == line:
            return  # Up after a repeated command reaches the one before it
        rl.add_history(line)
        if self._history is not None:
            # Appended line by line (truncated to HISTORY_MAX by readline): a console that is
            # killed keeps what was typed, and two consoles at once do not overwrite each other.
            with contextlib.suppress(OSError):
                rl.append_history_file(1, str(self._history))


def _load_readline() -> ModuleType | None:
    try:
        import readline
    except ImportError:  # no readline in this interpreter (Windows): plain input() still works
        return None
    return readline


def _prepare_history(path: Path) -> bool:
    """Create ``path`` (and its folder) readable by its owner only; whether it is usable."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600))
    except OSError:
        return False
    return True


@contextlib.contextmanager
def terminal_lines(words: list[str], history: Path | None) -> Iterator[TerminalLines]:
    """Lines from the terminal with readline set up: the history in ``history`` loaded (and
    cut to HISTORY_MAX lines), Tab completing ``words``; readline's state is restored after."""
    rl = _load_readline()
    if rl is None:
        yield TerminalLines(None, None)
        return
    if history is not None and not _prepare_history(history):
        history = None
    previous_completer = rl.get_completer()
    rl.clear_history()
    rl.set_history_length(HISTORY_MAX)
    rl.set_auto_history(False)  # remember() adds what was run, without repeats
    if history is not None:
        with contextlib.suppress(OSError):
            rl.read_history_file(str(history))
            if rl.get_current_history_length() > HISTORY_MAX:
                rl.write_history_file(str(history))  # a file grown elsewhere, cut to size

    def complete(text: str, state: int) -> str | None:
        # Only the first word is a subcommand (after an optional /models).
        if rl.get_line_buffer()[: rl.get_begidx()].strip().lower() not in ("", "/models"):
            return None
        matches = [w + " " for w in words if w.startswith(text.lower())]
        return matches[state] if state < len(matches) else None

    rl.set_completer(complete)
    previous_delims = rl.get_completer_delims()
    rl.set_completer_delims(" \t")  # "license-check" and ":quit" are one word each
    libedit = "libedit" in (rl.__doc__ or "")
    rl.parse_and_bind("bind ^I rl_complete" if libedit else "tab: complete")
    try:
        yield TerminalLines(rl, history)
    finally:
        rl.set_completer(previous_completer)
        rl.set_completer_delims(previous_delims)
        rl.clear_history()


class Console:
    """One console session: who acts, and what each line does."""

    def __init__(
        self, services: Services, *, user: str, stdout: TextIO, account: str | None = None
    ) -> None:
        self.services = services
        self.user = user
        self.stdout = stdout
        self.table = build_table()
        # The OS account at the terminal; a user other than it was claimed (``--as`` at
        # start, then ``:as``) and is audited as such (bot.cli.identity).
        self.account = account or os_account()
        self.claimed_with = AS_OPTION

    def origin(self) -> AuditOrigin:
        """The audit origin of the next command: the console, its OS account, any claim."""
        return terminal_origin(
            self.services.settings,
            AuditChannel.CONSOLE,
            acting=self.user,
            account=self.account,
            option=self.claimed_with,
        )

    def words(self) -> list[str]:
        """What Tab completes: the subcommands and the console's own words."""
        return [*self.table.names(), ":as", ":quit"]

    def run(self, source: LineSource, *, prompt: bool) -> int:
        """Run lines from ``source`` until end of input, ``:quit`` or two Ctrl-C in a row;
        returns the exit status (0; EXIT_INTERRUPTED when a piped console is interrupted)."""
        interrupted = False
        while True:
            try:
                line = source.read(f"{self.user}> " if prompt else "")
            except KeyboardInterrupt:
                if not prompt:
                    return EXIT_INTERRUPTED
                if interrupted:
                    self.stdout.write("\n")
                    return 0
                interrupted = True
                self.stdout.write(f"\n{LEAVE_HINT}\n")
                self.stdout.flush()
                continue
            interrupted = False
            if line is None:
                if prompt:
                    self.stdout.write("\n")
                return 0
            try:
                if not self.line(line.strip(), source):
                    return 0
            except KeyboardInterrupt:  # the command stops; its transaction is rolled back
                if not prompt:
                    return EXIT_INTERRUPTED
                print("\nInterrupted.", file=self.stdout)

    def line(self, line: str, source: LineSource) -> bool:
        """Do one line; False when it asks to leave."""
        if not line or line.startswith("#"):
            return True
        source.remember(line)
        if line in QUIT_WORDS:
            return False
        if line.startswith(":as"):
            name = line[3:].strip()
            try:
                self.user = validate_user_id(name)
            except InvalidInput as exc:
                print(exc.message, file=self.stdout)
                return True
            self.claimed_with = CONSOLE_AS
            print(f"Now acting as {self.user}.{self._claim_note()}", file=self.stdout)
            return True
        invocation = Invocation(services=self.services, user=self.user, origin=self.origin())
        reply = run_text(line, invocation, self.table)
        print(render_reply(reply), file=self.stdout)
        print(file=self.stdout)
        return True

    def _claim_note(self) -> str:
        """What acting as someone else allows here, said once when the user switches."""
        if not self.origin().impersonating:
            return ""
        return (
            f" Requests and lists work; what needs an approver is refused while acting as "
            f"someone other than {self.account} ({IMPERSONATION_SETTING} is off)."
        )


def run_console(
    services: Services,
    *,
    user: str,
    stdin: TextIO,
    stdout: TextIO,
    stderr: TextIO,
    interactive: bool,
    history: Path | None = None,
    account: str | None = None,
) -> int:
    """Run commands from ``stdin`` until end of input or ``:quit``; returns the exit status:
    0, or EXIT_INTERRUPTED when Ctrl-C stops a console reading a pipe.

    ``interactive`` (a terminal): a prompt, line editing and the history in ``history``
    (default: ``default_history_path()``) when ``stdin`` is this process's own standard input.
    A refused command is an answer, not a failure of the console (scripts wanting an exit
    status per command use ``modelgov models``).
    """
    console = Console(services, user=user, stdout=stdout, account=account)
    banner_to = stdout if interactive else stderr
    print(BANNER.format(user=user), file=banner_to)
    if not interactive:
        return console.run(StreamLines(stdin), prompt=False)
    if stdin is not sys.stdin or stdout is not sys.stdout:  # input() reads and prompts on these
        return console.run(StreamLines(stdin, stdout), prompt=True)
    print(KEYS, file=stdout)
    with terminal_lines(console.words(), history or default_history_path()) as lines:
        return console.run(lines, prompt=True)
