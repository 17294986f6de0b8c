"""``/models help``."""

from __future__ import annotations

from bot.blocks import Reply
from bot.commands import Args, Invocation, Subcommand, build_table, help_reply


def _help(_invocation: Invocation, _args: Args) -> Reply:
    return help_reply(build_table())


SUBCOMMANDS = [
    Subcommand("help", "help", "Show these commands.", _help, max_args=1, reads_only=True)
]
