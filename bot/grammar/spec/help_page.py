"""The help of one subcommand, and of all of them, drawn from their specs (``Subcommand``).

Slack (``/models help list``), the console (``help list``) and the CLI (``modelgov models list
--help``) all show these pages; only the prefix a command is typed with differs.
"""

from __future__ import annotations

import textwrap
from typing import Any

from bot.grammar.spec.subcommand import CommandTable, Subcommand
from bot.render.blocks import Block, Reply, error_reply, escape, header, section
from governance.core.errors import UsageError

SLACK_PREFIX = "/models"
PLAIN_WIDTH = 78  # the plain-text page (a terminal's --help) wraps its prose here
PLAIN_COLUMN_MAX = 32  # wider commands or options put their meaning on the next line


def _typed(prefix: str, line: str) -> str:
    return f"{prefix} {line}".strip()


def _rows(title: str, rows: list[tuple[str, str]]) -> tuple[str, str]:
    """(plain text, mrkdwn) of a titled list of ``code`` and its meaning: two columns in plain
    text while the code is short, else each meaning indented under its code."""
    width = max(len(left) for left, _ in rows)
    if width <= PLAIN_COLUMN_MAX:
        plain = [f"  {left.ljust(width)}  {right}".rstrip() for left, right in rows]
    else:
        plain = [f"  {left}" + (f"\n      {right}" if right else "") for left, right in rows]
    lines = [f"`{escape(left)}`" + (f"  {escape(right)}" if right else "") for left, right in rows]
    return f"{title}:\n" + "\n".join(plain), f"*{title}*\n" + "\n".join(lines)


def subcommand_help(spec: Subcommand, *, prefix: str = SLACK_PREFIX) -> Reply:
    """The help page of ``spec``: its usage, summary, description, options and examples, with
    commands written as typed after ``prefix`` (``/models``, ``modelgov models``)."""
    usage = _typed(prefix, spec.usage)
    plain = [f"Usage: {usage}", "", spec.summary]
    blocks: list[Block] = [
        header(_typed(prefix, spec.name)),
        section(f"`{escape(usage)}`\n{escape(spec.summary)}"),
    ]
    if spec.description:
        plain += ["", textwrap.fill(spec.description, PLAIN_WIDTH, break_on_hyphens=False)]
        blocks.append(section(escape(spec.description)))
    options = spec.option_help()
    if options:
        text, mrkdwn = _rows("Options", options)
        plain += ["", text]
        blocks.append(section(mrkdwn))
    examples = [(_typed(prefix, line), meaning) for line, meaning in spec.examples]
    if examples:
        text, mrkdwn = _rows("Examples", examples)
        plain += ["", text]
        blocks.append(section(mrkdwn))
    return Reply(text="\n".join(plain), blocks=blocks, data=help_data(spec))


def help_data(spec: Subcommand) -> dict[str, Any]:
    """The help page of ``spec`` as JSON-able data (``--json``)."""
    return {
        "name": spec.name,
        "usage": spec.usage,
        "summary": spec.summary,
        "description": spec.description,
        "options": [{"option": o, "meaning": m} for o, m in spec.option_help()],
        "examples": [{"command": c, "meaning": m} for c, m in spec.examples],
    }


def unknown_subcommand(name: str, table: CommandTable) -> Reply:
    """The one-sentence refusal of help for a subcommand ``table`` does not have."""
    known = ", ".join(table.names())
    return error_reply(
        f"There is no subcommand {name[:40]!r}; the subcommands are: {known}.",
        code=UsageError.code,  # as for an unknown subcommand typed without help
    )


def table_help(table: CommandTable, *, prefix: str = SLACK_PREFIX) -> Reply:
    """Every subcommand of ``table`` with its usage and summary, and how to get one's page."""
    more = f"`{_typed(prefix, 'help <subcommand>')}` shows one with its options and examples."
    lines = [f"`{escape(_typed(prefix, s.usage))}`\n{escape(s.summary)}" for s in table]
    text = "modelgov commands:\n" + "\n".join(
        f"{_typed(prefix, s.usage)} - {s.summary}" for s in table
    )
    blocks = [section("*modelgov* keeps the team's approved models and watches their terms.")]
    blocks += [section("\n\n".join(lines[i : i + 8])) for i in range(0, len(lines), 8)]
    blocks.append(section(escape(more)))
    return Reply(text=f"{text}\n{more}", blocks=blocks, data={"commands": [s.usage for s in table]})
