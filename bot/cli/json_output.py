"""The one shape of every ``--json`` output: an envelope, one JSON object on stdout.

Success is ``{"ok": true, "data": {...}}``; failure is
``{"ok": false, "error": {"code": "...", "message": "..."}}``, with ``data`` beside it when the
command ran and has a result to show anyway (``scan`` that found unapproved models, ``check``
with failed checks). ``code`` is the ``code`` of the typed error
(``governance.core.errors`` and its subclasses); ``message`` is the one sentence a person sees.

Exit status: 0 with ``ok: true``; 2 for a usage error and for a command that could not start
(settings, database); 1 for every other failure. The human line goes to stderr as well, so a
person reading a CI log sees it while a script reads stdout.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from typing import Any, Final, NoReturn

import click

from governance.core.errors import UsageError
from governance.core.logs import report_failure

# The envelope's JSON Schema (draft 2020-12): the tests validate every --json output with it,
# and the README quotes it. ``data`` is always an object, so a script can index it.
ENVELOPE_SCHEMA: Final[dict[str, Any]] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "modelgov --json envelope",
    "oneOf": [
        {
            "type": "object",
            "properties": {"ok": {"const": True}, "data": {"type": "object"}},
            "required": ["ok", "data"],
            "additionalProperties": False,
        },
        {
            "type": "object",
            "properties": {
                "ok": {"const": False},
                "error": {
                    "type": "object",
                    "properties": {
                        "code": {"type": "string", "pattern": "^[a-z][a-z0-9]*(_[a-z0-9]+)*$"},
                        "message": {"type": "string", "minLength": 1},
                    },
                    "required": ["code", "message"],
                    "additionalProperties": False,
                },
                "data": {"type": "object"},
            },
            "required": ["ok", "error"],
            "additionalProperties": False,
        },
    ],
}

_ARGS_KEY: Final = "modelgov.json_output.args"

# Codes that mean "the command did not run as asked" (exit 2), as click and `scan` already did.
_NOT_STARTED: Final = frozenset(
    {UsageError.code, "config_error", "database_unreachable", "schema_out_of_date"}
)


def _object(data: Any) -> dict[str, Any]:
    """``data`` as the envelope's object (a bare list or value is put under ``items``/``value``)."""
    if isinstance(data, dict):
        return data
    if isinstance(data, list | tuple):
        return {"items": list(data)}
    return {"value": data}


def success(data: Any) -> dict[str, Any]:
    """The success envelope around ``data`` (an object; see ``_object`` for anything else)."""
    return {"ok": True, "data": _object(data)}


def failure(code: str, message: str, data: Any = None) -> dict[str, Any]:
    """The failure envelope: the error's stable ``code`` and its one sentence, and ``data`` when
    the command has a result to show despite failing."""
    envelope: dict[str, Any] = {"ok": False, "error": {"code": code, "message": message}}
    if data is not None:
        envelope["data"] = _object(data)
    return envelope


def dumps(envelope: dict[str, Any]) -> str:
    """The envelope as indented JSON (dates and other values as their ``str``)."""
    return json.dumps(envelope, indent=2, default=str, ensure_ascii=False)


def echo(envelope: dict[str, Any]) -> None:
    """Print the envelope on stdout (the only thing a --json command prints there)."""
    click.echo(dumps(envelope))


def exit_status(code: str) -> int:
    """The process exit status for a failure with ``code``: 2 when the command did not run as
    asked (usage, settings, database), else 1."""
    return 2 if code in _NOT_STARTED else 1


def asks_for_json(args: Sequence[str]) -> bool:
    """Whether a command line asks for JSON: ``--json``, or ``--format json`` (``export``)."""
    items = list(args)
    if "--json" in items or "--format=json" in items:
        return True
    return any(a == "--format" and b == "json" for a, b in itertools.pairwise(items))


def json_requested() -> bool:
    """Whether the click command running now was asked for JSON (its parsed parameters)."""
    ctx = click.get_current_context(silent=True)
    while ctx is not None:
        if ctx.params.get("as_json") or ctx.params.get("fmt") == "json":
            return True
        ctx = ctx.parent
    return False


class JsonAwareGroup(click.Group):
    """A click group whose usage errors (unknown subcommand or option, a bad or missing
    argument) are the failure envelope on stdout when the command line asks for JSON.

    Click raises them while the group resolves and parses its subcommand, inside ``invoke``;
    ``parse_args`` keeps the group's arguments to look for ``--json`` in. Without JSON, click
    reports them as usual.
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta[_ARGS_KEY] = list(args)
        try:  # the group's own options (``modelgov --bogus --json``)
            return super().parse_args(ctx, args)
        except click.UsageError as exc:
            self._refuse(ctx, exc)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            self._refuse(ctx, exc)

    @staticmethod
    def _refuse(ctx: click.Context, exc: click.UsageError) -> NoReturn:
        """Re-raise ``exc`` for click to report, or with JSON asked for, print its envelope
        (the message with the usage line) and exit 2."""
        if not asks_for_json(ctx.meta.get(_ARGS_KEY, ())):
            raise exc
        usage = exc.ctx.get_usage() if exc.ctx is not None else ""
        message = exc.format_message().rstrip(".") + "."
        message += f" {usage.strip()}" if usage else ""
        echo(failure(UsageError.code, message))
        report_failure(message, code=UsageError.code)
        ctx.exit(exit_status(UsageError.code))
