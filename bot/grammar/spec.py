"""The /models grammar: text in, one service call, a Reply out.

Used by Slack, the console and the CLI alike, so every frontend speaks the same language.
Parsing is strict and explains itself: an unknown subcommand or a bad option gets the usage,
and every domain error (``GovernanceError``) becomes one sentence here, in one place.
"""

from __future__ import annotations

import logging
import shlex
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session, sessionmaker

from bot.render.blocks import Reply, error_reply, escape, section
from governance.core.errors import GovernanceError, InvalidInput
from governance.wiring.services import Services

log = logging.getLogger(__name__)

COMMAND_TEXT_MAX = 4000
_SMART_QUOTES = str.maketrans({"\u201c": '"', "\u201d": '"', "\u2018": "'", "\u2019": "'"})


@dataclass(frozen=True)
class Invocation:
    """Who runs a command, where, with which services.

    ``read_only``: the command runs within Slack's ack, so its sessions only read and never
    wait for a writer (``Subcommand.reads_only`` says which commands may).
    """

    services: Services
    user: str
    channel: str | None = None
    read_only: bool = False

    @property
    def session_factory(self) -> sessionmaker[Session]:
        """The sessions this command uses: read-only ones when ``read_only``."""
        if self.read_only:
            return self.services.read_session_factory
        return self.services.session_factory


@dataclass(frozen=True)
class Args:
    """Parsed arguments: positionals in order, options by name (without ``--``)."""

    positionals: list[str]
    options: dict[str, str] = field(default_factory=dict)

    def option(self, name: str) -> str | None:
        return self.options.get(name)

    def rest(self, start: int) -> str:
        """Positionals from ``start`` on, joined: free text such as a reason."""
        return " ".join(self.positionals[start:])


Handler = Callable[[Invocation, Args], Reply]


@dataclass(frozen=True)
class Subcommand:
    name: str
    usage: str
    summary: str
    handler: Handler
    value_options: frozenset[str] = frozenset()
    min_args: int = 0
    max_args: int | None = None  # None: everything after the fixed arguments is free text
    # Talks to the Hub or the language model: Slack acks first and finishes on a worker.
    # A predicate when it depends on the arguments (``info`` of a model not tracked yet).
    slow: bool | Callable[[Invocation, list[str]], bool] = False
    # The rest of the line is one argument, as typed (a question: "what's pending?").
    free_text: bool = False
    # For a frontend that edits one message as the answer grows (Slack): called as
    # ``stream(services, text, on_partial=..., on_queued=...)`` and returns the final Reply.
    stream: Callable[..., Reply] | None = None
    # Only reads the database (never writes): Slack answers it in the ack, from a read-only
    # session that never waits for a writer. Anything else is acked first and runs after.
    # A predicate when it depends on the arguments (``policy show`` vs ``policy set``).
    reads_only: bool | Callable[[list[str]], bool] = False

    def only_reads(self, arguments: list[str]) -> bool:
        """Whether this invocation only reads (so it may be answered within the ack)."""
        if callable(self.reads_only):
            return self.reads_only(arguments)
        return self.reads_only

    def is_slow(self, invocation: Invocation, arguments: list[str]) -> bool:
        """Whether this invocation may take longer than Slack's 3-second ack allows."""
        if callable(self.slow):
            try:
                return self.slow(invocation, arguments)
            except GovernanceError:
                return False  # bad input: answered at once with its error
        return self.slow


def _free_text(text: str, table: CommandTable) -> list[str] | None:
    """``[/models,] subcommand, rest of the line`` for a free-text subcommand, else None."""
    head = text.split(None, 1)
    prefix = head[:1] if head and head[0].lower() == "/models" else []
    rest = text.split(None, len(prefix) + 1)[len(prefix) :]
    spec = table.get(rest[0]) if rest else None
    if spec is not None and spec.free_text:
        return [*prefix, *rest]
    return None


def tokenize(text: str, table: CommandTable | None = None) -> list[str]:
    """Split command text like a shell (quotes group words; Slack's smart quotes count).

    For a free-text subcommand of ``table`` (``ask``) the rest of the line is one token, as
    typed.

    Raises:
        InvalidInput: the text is too long or a quote is not closed.
    """
    if len(text) > COMMAND_TEXT_MAX:
        raise InvalidInput(
            f"The command is {len(text):,} characters long; keep it under {COMMAND_TEXT_MAX:,}."
        )
    free = _free_text(text, table or build_table())
    if free is not None:
        return free
    try:
        return shlex.split(text.translate(_SMART_QUOTES))
    except ValueError:
        raise InvalidInput("A quote is not closed; put matching quotes around text.") from None


def parse_args(spec: Subcommand, tokens: list[str]) -> Args:
    """Parse ``tokens`` (after the subcommand) against ``spec``."""
    positionals: list[str] = []
    options: dict[str, str] = {}
    index = 0
    while index < len(tokens):
        token = tokens[index]
        index += 1
        if token.startswith("--") and len(token) > 2:
            name, has_value, value = token[2:].partition("=")
            if name not in spec.value_options:
                known = ", ".join(f"--{o}" for o in sorted(spec.value_options)) or "none"
                raise InvalidInput(
                    f"`{spec.name}` has no option --{name[:30]}; its options: {known}. "
                    f"Usage: {spec.usage}"
                )
            if not has_value:
                if index >= len(tokens):
                    raise InvalidInput(f"--{name} needs a value. Usage: {spec.usage}")
                value = tokens[index]
                index += 1
            options[name] = value
        else:
            positionals.append(token)
    if len(positionals) < spec.min_args:
        raise InvalidInput(f"`{spec.name}` needs more arguments. Usage: {spec.usage}")
    if spec.max_args is not None and len(positionals) > spec.max_args:
        raise InvalidInput(f"`{spec.name}` takes fewer arguments. Usage: {spec.usage}")
    return Args(positionals, options)


class CommandTable:
    """The subcommands the grammar knows, in help order."""

    def __init__(self, subcommands: list[Subcommand]) -> None:
        self._by_name = {s.name: s for s in subcommands}

    def get(self, name: str) -> Subcommand | None:
        return self._by_name.get(name.lower())

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._by_name.values())


def build_table() -> CommandTable:
    """All subcommands. Each domain contributes its own list from ``bot/handlers``."""
    from bot.grammar.handlers import alerts as alert_handlers
    from bot.grammar.handlers import assistant as assistant_handlers
    from bot.grammar.handlers import help as help_handlers
    from bot.grammar.handlers import licenses as license_handlers
    from bot.grammar.handlers import registry as registry_handlers
    from bot.grammar.handlers import upstream as upstream_handlers

    return CommandTable(
        [
            *help_handlers.SUBCOMMANDS,
            *registry_handlers.SUBCOMMANDS,
            *license_handlers.SUBCOMMANDS,
            *upstream_handlers.SUBCOMMANDS,
            *alert_handlers.SUBCOMMANDS,
            *assistant_handlers.SUBCOMMANDS,
        ]
    )


def run_text(text: str, invocation: Invocation, table: CommandTable | None = None) -> Reply:
    """Run the text of a ``/models`` command (the leading ``/models`` is optional)."""
    table = table or build_table()
    try:
        tokens = tokenize(text, table)
    except GovernanceError as exc:
        return error_reply(exc.message)
    if tokens and tokens[0].lower() == "/models":
        tokens = tokens[1:]
    return run_tokens(tokens, invocation, table)


def run_tokens(
    tokens: list[str], invocation: Invocation, table: CommandTable | None = None
) -> Reply:
    """Run an already split command. Never raises: every failure becomes a Reply."""
    table = table or build_table()
    if not tokens:
        return help_reply(table)
    spec = table.get(tokens[0])
    if spec is None:
        reply = help_reply(table)
        message = f"Unknown subcommand {tokens[0][:40]!r}; these are the ones I know."
        reply.blocks.insert(0, section(f":warning: {escape(message)}"))
        reply.text = message
        reply.ok = False
        return reply
    try:
        return spec.handler(invocation, parse_args(spec, tokens[1:]))
    except GovernanceError as exc:
        return error_reply(exc.message)
    except Exception:
        # Never a traceback in front of a user: log it with a reference they can quote.
        reference = uuid.uuid4().hex[:8]
        log.exception("command %r failed (ref %s)", tokens[0], reference)
        return error_reply(
            f"Something went wrong on our side; it was logged with reference {reference}."
        )


def help_reply(table: CommandTable) -> Reply:
    lines = [f"`/models {s.usage}`\n{escape(s.summary)}" for s in table]
    text = "modelgov commands:\n" + "\n".join(f"/models {s.usage} - {s.summary}" for s in table)
    blocks = [section("*modelgov* keeps the team's approved models and watches their terms.")]
    blocks += [section("\n\n".join(lines[i : i + 8])) for i in range(0, len(lines), 8)]
    return Reply(text=text, blocks=blocks, data={"commands": [s.usage for s in table]})
