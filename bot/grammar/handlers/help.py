"""``/models help``."""

from __future__ import annotations

from bot.grammar.spec import Args, Invocation, Subcommand, build_table, help_reply
from bot.render.blocks import Reply


def _help(_invocation: Invocation, _args: Args) -> Reply:
    return help_reply(build_table())


SUBCOMMANDS = [
    Subcommand("help", "help", "Show these commands.", _help, max_args=1, reads_only=True)
]
