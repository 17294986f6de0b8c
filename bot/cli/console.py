"""The /models commands in a terminal: the embedded default when Slack is not set up.

Reads lines from stdin (interactive or piped), runs them as a user, prints the replies.
It never waits for a terminal that is not there: at end of input it exits.
"""

from __future__ import annotations

from typing import TextIO

from bot.grammar.dispatch import build_table, run_text
from bot.grammar.spec.invocation import Invocation
from bot.render.text import render_reply
from governance.core.errors import InvalidInput
from governance.registry.validation import validate_user_id
from governance.wiring.services import Services

BANNER = """modelgov console - the team's registry of approved AI models, in a terminal.
Type /models commands (the /models is optional), for example:
  request mistralai/Mistral-7B-v0.1 --use research
  help            all commands          :as NAME   act as another user      :quit   leave
Acting as {user}. To use Slack instead, put SLACK_BOT_TOKEN and SLACK_APP_TOKEN in .env
(see README, "Connect to Slack") and run `make run` again."""


def run_console(
    services: Services,
    *,
    user: str,
    stdin: TextIO,
    stdout: TextIO,
    stderr: TextIO,
    interactive: bool,
) -> int:
    """Run commands from ``stdin`` until end of input or ``:quit``; returns 0.

    A refused command is an answer, not a failure of the console (scripts wanting an exit
    status per command use ``modelgov models``).
    """
    table = build_table()
    banner_to = stdout if interactive else stderr
    print(BANNER.format(user=user), file=banner_to)
    while True:
        if interactive:
            stdout.write(f"{user}> ")
            stdout.flush()
        line = stdin.readline()
        if not line:
            if interactive:
                stdout.write("\n")
            return 0
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line in {":quit", ":q", ":exit", "exit", "quit"}:
            return 0
        if line.startswith(":as"):
            name = line[3:].strip()
            try:
                user = validate_user_id(name)
            except InvalidInput as exc:
                print(exc.message, file=stdout)
                continue
            print(f"Now acting as {user}.", file=stdout)
            continue
        reply = run_text(line, Invocation(services=services, user=user), table)
        print(render_reply(reply), file=stdout)
        print(file=stdout)
