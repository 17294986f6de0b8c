"""The /models grammar: text in, one handler, a Reply out.

Used by Slack (typed commands, buttons and forms alike), the console and the CLI, so every
frontend speaks the same language and reaches the domain the same way. Parsing is strict and
explains itself: an unknown subcommand or a bad option gets the usage, and every failure
becomes one sentence (``bot.grammar.failures``).
"""

from __future__ import annotations

import functools
import shlex

from bot.grammar.failures import failure_reply
from bot.grammar.handlers import (
    alert_commands,
    approver_commands,
    ask_command,
    derivative_commands,
    license_commands,
    registry_commands,
    watch_commands,
)
from bot.grammar.spec.help_page import subcommand_help, table_help, unknown_subcommand
from bot.grammar.spec.invocation import Args, Invocation
from bot.grammar.spec.subcommand import CommandTable, Handler, Subcommand
from bot.render.blocks import Reply, escape, section
from governance.core import metrics
from governance.core.errors import InternalError, InvalidInput, UsageError

COMMAND = "/models"
COMMAND_TEXT_MAX = 4000
_SMART_QUOTES = str.maketrans({"\u201c": '"', "\u201d": '"', "\u2018": "'", "\u2019": "'"})


def build_table() -> CommandTable:
    """All subcommands, in help order: help, then each domain's own list."""
    return CommandTable(
        [
            HELP,
            *registry_commands.SUBCOMMANDS,
            *license_commands.SUBCOMMANDS,
            *watch_commands.SUBCOMMANDS,
            *alert_commands.SUBCOMMANDS,
            *derivative_commands.SUBCOMMANDS,
            *approver_commands.SUBCOMMANDS,
            *ask_command.SUBCOMMANDS,
        ]
    )


def help_reply(table: CommandTable) -> Reply:
    """Every subcommand of ``table`` with its usage and summary."""
    return table_help(table)


def _help(_invocation: Invocation, args: Args) -> Reply:
    """``help``: every subcommand; ``help <name>``: that one's page (or, for a name there is
    no subcommand of, one sentence naming those there are)."""
    table = build_table()
    if not args.positionals:
        return help_reply(table)
    name = args.positionals[0]
    spec = table.get(name)
    return subcommand_help(spec) if spec is not None else unknown_subcommand(name, table)


HELP = Subcommand(
    "help",
    "help [<subcommand>]",
    "Show these commands, or one with its options and examples.",
    _help,
    max_args=1,
    reads_only=True,
    description="Without a name, every subcommand and what it does. With one, its usage, "
    "options and examples.",
    examples=(("help", "every subcommand"), ("help list", "how to list and page requests")),
)


def _free_text(text: str, table: CommandTable) -> list[str] | None:
    """``[/models,] subcommand, rest of the line`` for a free-text subcommand, else None."""
    head = text.split(None, 1)
    prefix = head[:1] if head and head[0].lower() == COMMAND else []
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
        return list(_shell_words(text))
    except ValueError:
        raise InvalidInput("A quote is not closed; put matching quotes around text.") from None


# shlex is a tenth of a cached ack's work, and a team types the same few commands all day.
@functools.lru_cache(maxsize=1024)
def _shell_words(text: str) -> tuple[str, ...]:
    """``text`` split like a shell; raises ValueError for an unclosed quote (not cached)."""
    return tuple(shlex.split(text.translate(_SMART_QUOTES)))


def parse_args(spec: Subcommand, tokens: list[str]) -> Args:
    """Parse ``tokens`` (after the subcommand) against ``spec``; return its Args.

    Raises:
        UsageError: an unknown option, an option without its value, too few or too many
            arguments (the message quotes the usage).
    """
    positionals: list[str] = []
    options: dict[str, str] = {}
    repeated: dict[str, list[str]] = {}  # every value of each option, in order
    index = 0
    while index < len(tokens):
        token = tokens[index]
        index += 1
        if token.startswith("--") and len(token) > 2:
            name, has_value, value = token[2:].partition("=")
            if name not in spec.value_options:
                known = ", ".join(f"--{o}" for o in sorted(spec.value_options)) or "none"
                raise UsageError(
                    f"`{spec.name}` has no option --{name[:30]}; its options: {known}. "
                    f"Usage: {spec.usage}"
                )
            if not has_value:
                if index >= len(tokens):
                    raise UsageError(f"--{name} needs a value. Usage: {spec.usage}")
                value = tokens[index]
                index += 1
            options[name] = value
            repeated.setdefault(name, []).append(value)
        else:
            positionals.append(token)
    if len(positionals) < spec.min_args:
        raise UsageError(f"`{spec.name}` needs more arguments. Usage: {spec.usage}")
    if spec.max_args is not None and len(positionals) > spec.max_args:
        raise UsageError(f"`{spec.name}` takes fewer arguments. Usage: {spec.usage}")
    return Args(positionals, options, repeated)


def run_text(text: str, invocation: Invocation, table: CommandTable | None = None) -> Reply:
    """Run the text of a ``/models`` command (the leading ``/models`` is optional).

    Returns its Reply; never raises (a failure is the Reply's one sentence).
    """
    table = table or build_table()
    try:
        tokens = tokenize(text, table)
    except InvalidInput as exc:
        return failure_reply(exc, "tokenize")
    if tokens and tokens[0].lower() == COMMAND:
        tokens = tokens[1:]
    return run_tokens(tokens, invocation, table)


def run_tokens(
    tokens: list[str], invocation: Invocation, table: CommandTable | None = None
) -> Reply:
    """Run an already split command; return its Reply. Never raises: every failure (an
    unknown subcommand, bad arguments, a refusal, a bug) becomes a Reply."""
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
        reply.error_code = UsageError.code
        metrics.COMMANDS.labels(subcommand="unknown", outcome="refused").inc()
        return reply
    try:
        args = parse_args(spec, tokens[1:])
    except InvalidInput as exc:
        metrics.COMMANDS.labels(subcommand=spec.name, outcome="refused").inc()
        return failure_reply(exc, f"command {tokens[0]!r}")
    return run_subcommand(spec, invocation, args)


def run_subcommand(spec: Subcommand, invocation: Invocation, args: Args) -> Reply:
    """Run ``spec``'s handler on already parsed ``args`` (what a button or form supplies);
    return its Reply. Never raises."""
    reply = run_handler(spec.handler, invocation, args, what=f"command {spec.name!r}")
    # modelgov_commands_total, from the answer: the handler itself runs unwrapped, so every
    # surface reaching it (typed, button, form) calls the very same function.
    metrics.count_command(spec.name, ok=reply.ok, error=reply.error_code == InternalError.code)
    return reply


def run_handler(handler: Handler, invocation: Invocation, args: Args, *, what: str) -> Reply:
    """Run one handler; return its Reply, or the sentence of its failure. Never raises."""
    try:
        return handler(invocation, args)
    except Exception as exc:  # a refusal or a bug: one sentence either way, never a traceback
        return failure_reply(exc, what)
