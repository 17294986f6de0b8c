"""The ``modelgov`` command line (click).

Commands import what only they use inside their own function: importing the Slack app, the
scheduler, the scanner and the exporter at module level makes ``modelgov --help`` and every
one-shot command start 2.5 s slower (1.5 s -> 4.0 s measured). None of these dodges a cycle:
import-linter counts function-level imports against the layers like any other.
"""

from __future__ import annotations

import inspect
import os
import signal
import sys
from pathlib import Path
from typing import NoReturn

import click

from bot.cli import json_output
from bot.cli.hub_webhook_commands import hub_webhook
from bot.cli.identity import AS_OPTION, os_account, terminal_origin
from bot.cli.process_services import process_services
from bot.grammar.dispatch import run_tokens
from bot.grammar.spec.invocation import Invocation
from bot.render.blocks import Reply
from bot.render.text import render_reply
from governance.core.config import Settings
from governance.core.errors import (
    ChecksFailed,
    GateFailed,
    GovernanceError,
    InvalidInput,
    MigrationFailed,
    UsageError,
)
from governance.core.logs import report_failure, say
from governance.core.startup import DatabaseUnreachable, failure_sentence, log_wait, start_process
from governance.registry.models import AuditChannel
from governance.wiring.services import Services


def _default_user() -> str:
    """Who a command acts as without ``--as``: the OS account running it (bot.cli.identity)."""
    return os_account()


def _cli_invocation(services: Services, user: str) -> Invocation:
    """An Invocation of a one-shot command acting as ``user``: audited as the CLI, with the OS
    account beside it (``--as`` naming someone else is a claim: bot.cli.identity)."""
    origin = terminal_origin(
        services.settings, AuditChannel.CLI, acting=user, account=os_account(), option=AS_OPTION
    )
    return Invocation(services=services, user=user, origin=origin)


def _fail(message: str, code: int = 2, *, error: str = GovernanceError.code) -> NoReturn:
    """Stop with ``message`` on stderr and exit ``code``; a --json command also prints the
    failure envelope with the error code ``error`` on stdout."""
    if json_output.json_requested():
        json_output.echo(json_output.failure(error, message))
    report_failure(message, code=error)
    sys.exit(code)


def _refuse(exc: GovernanceError, code: int = 2) -> NoReturn:
    """``_fail`` with a typed error's sentence and code."""
    _fail(exc.message, code, error=exc.code)


def _settings() -> Settings:
    """Logging for this process kind, then its settings (or one line and exit 2)."""
    ctx = click.get_current_context(silent=True)
    command = ctx.command_path.partition(" ")[2] if ctx else ""
    try:
        return start_process(command or "modelgov")
    except GovernanceError as exc:
        _refuse(exc)


def _services(*, migrate_embedded: bool = True, wait_for_db: bool = False) -> Services:
    """Settings + wiring + a current schema, or one line saying what is wrong.

    With ``wait_for_db`` (long-running processes: ``worker``, ``serve``), an unreachable
    database is waited for with backoff, one line per attempt, instead of exiting 2.
    """
    from governance.core.schema import ensure_schema

    settings = _settings()
    try:
        services = process_services(settings)
    except GovernanceError as exc:  # a setting only the wiring can read (hardware profiles)
        _refuse(exc)
    if wait_for_db:
        _wait_for_database(services)
    try:
        if migrate_embedded:
            ensure_schema(services.engine, settings.database_url)
    except GovernanceError as exc:
        _refuse(exc)
    except Exception as exc:  # an unreachable database is an operator error, not a traceback
        _fail(failure_sentence(exc, services.engine), error=DatabaseUnreachable.code)
    return services


def _wait_for_database(services: Services) -> None:
    """Block until the database answers.

    Ctrl-C or SIGTERM while waiting stops at once with one line (exit 130 / 143): SIGTERM is
    turned into an interrupt of the sleep for the duration of the wait only.
    """
    from governance.core.startup import wait_for_database

    received: list[int] = []

    def interrupt(signum: int, _frame: object) -> None:
        received.append(signum)
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        wait_for_database(services.engine, log=log_wait)
    except DatabaseUnreachable as exc:
        _refuse(exc)
    except KeyboardInterrupt:
        signum = received[0] if received else signal.SIGINT
        _fail("stopped while waiting for the database", code=128 + signum)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _run_console(services: Services, user: str) -> int:
    """The console on this process's terminal (or pipe)."""
    from bot.cli.console import run_console
    from governance.core import logs

    logs.quiet_for_terminal()  # `serve` without Slack: no INFO lines among the answers
    return run_console(
        services,
        user=user,
        stdin=sys.stdin,
        stdout=sys.stdout,
        stderr=logs.notice_stream("modelgov.console"),
        interactive=sys.stdin.isatty(),
    )


def _version() -> str:
    """This installation's version, from its package metadata (``pip install`` wrote it)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("modelgov")
    except PackageNotFoundError:  # run from a source tree never installed
        return "unknown (not installed; run `pip install -e .`)"


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        click.echo(f"modelgov {_version()}")
        ctx.exit(0)


def _summary(command: click.Command) -> str:
    """A command's line in its group's list: ``short_help``, else its docstring's whole first
    paragraph (click's own default stops at the first full stop, such as the one of "e.g.")."""
    if command.short_help:
        return command.short_help
    first = inspect.cleandoc(command.help or "").split("\n\n")[0]
    return " ".join(first.split())


def _summarize(command: click.Command) -> None:
    """Give ``command`` (and, in a group, each of its commands) its whole summary as short
    help, so no list of commands cuts it short."""
    if not command.short_help:
        command.short_help = _summary(command)
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            _summarize(sub)


class Group(json_output.JsonAwareGroup):
    """A click group whose list of commands shows each command's summary in full."""

    group_class = type  # its subgroups are Groups too

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        _summarize(cmd)
        super().add_command(cmd, name)


@click.group("modelgov", cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_print_version,
    help="Show the installed version and exit.",
)
def main() -> None:
    """modelgov: the team's registry of approved open AI models and their upstream terms.

    `modelgov models help` lists the /models subcommands; `modelgov models SUBCOMMAND --help`
    shows one with its options and examples.
    """


@main.group()
def db() -> None:
    """Database migrations."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def db_upgrade(revision: str, as_json: bool) -> None:
    """Migrate the database to the newest schema (the Procfile's release step)."""
    from governance.core import migrate

    settings = _settings()
    try:
        migrate.upgrade(settings.database_url, revision)
    except Exception as exc:
        message = f"migration failed: {type(exc).__name__}: {exc}"[:300]
        _fail(message, code=1, error=MigrationFailed.code)
    at = migrate.head_revision() if revision == "head" else revision
    if as_json:
        json_output.echo(json_output.success({"revision": at}))
    else:
        click.echo(f"database at {at}")


@db.command("current")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def db_current(as_json: bool) -> None:
    """Show the database's schema revision and the newest one."""
    from governance.core import migrate

    services = _services(migrate_embedded=False)
    with services.engine.connect() as connection:
        current = migrate.current_revision(connection)
    head = migrate.head_revision()
    if as_json:
        data = {"current": current, "head": head, "up_to_date": current == head}
        json_output.echo(json_output.success(data))
        return
    state = "up to date" if current == head else "needs `modelgov db upgrade`"
    click.echo(f"current: {current or 'none'}  head: {head}  ({state})")


@main.command()
@click.option(
    "--as", "user", default=_default_user, help="Act as this user (default: your OS account)."
)
def console(user: str) -> None:
    """Type /models commands in a terminal (or pipe them in)."""
    services = _services()
    sys.exit(_run_console(services, user))


@main.command(
    context_settings={"ignore_unknown_options": True, "allow_interspersed_args": True},
    add_help_option=False,  # `models list --help` is list's help: see _models_help
)
@click.argument("words", nargs=-1, type=click.UNPROCESSED)
@click.option(
    "--as", "user", default=_default_user, help="Act as this user (default: your OS account)."
)
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def models(words: tuple[str, ...], user: str, as_json: bool) -> None:
    """Run one /models command, e.g. `modelgov models list approved --json`.

    `modelgov models SUBCOMMAND --help` shows one subcommand's usage, options and examples.
    """
    if _HELP_FLAGS.intersection(words):
        if not as_json:
            _models_help(words)
            return
        # The help page as data: what `models help [SUBCOMMAND] --json` prints.
        words = ("help", *[w for w in words if w not in _HELP_FLAGS][:1])
    services = _services()
    reply = run_tokens(list(words), _cli_invocation(services, user))
    _emit(reply, as_json)


_HELP_FLAGS = frozenset({"--help", "-h"})
_MODELS = "modelgov models"


def _models_help(words: tuple[str, ...]) -> None:
    """``modelgov models [SUBCOMMAND] --help``: that subcommand's help page, or this command's
    own help and every subcommand; an unknown subcommand is one line, exit 2."""
    from bot.grammar.dispatch import build_table
    from bot.grammar.spec.help_page import subcommand_help, unknown_subcommand

    table = build_table()
    names = [w for w in words if w not in _HELP_FLAGS]
    if not names:
        ctx = click.get_current_context()
        formatter = ctx.make_formatter()
        ctx.command.format_help(ctx, formatter)
        with formatter.section("Subcommands (`modelgov models SUBCOMMAND --help` shows one)"):
            formatter.write_dl([(s.name, s.summary) for s in table])
        click.echo(formatter.getvalue().rstrip("\n"))
        return
    spec = table.get(names[0])
    if spec is None:
        _fail(unknown_subcommand(names[0], table).text, error=UsageError.code)
    click.echo(subcommand_help(spec, prefix=_MODELS).text)
    click.echo("\nWith any subcommand: --as USER acts as USER, --json prints JSON.")


def _emit(reply: Reply, as_json: bool) -> None:
    """Print a grammar Reply: rendered text, or with ``as_json`` the envelope of its data (a
    failure's code and sentence). A failure also goes to stderr and exits with its status."""
    code = reply.error_code or GovernanceError.code
    if as_json:
        if reply.ok:
            data = reply.data if reply.data is not None else {"message": reply.text}
            json_output.echo(json_output.success(data))
        else:
            json_output.echo(json_output.failure(code, reply.text))
    elif reply.ok:
        click.echo(render_reply(reply))
    if not reply.ok:
        report_failure(reply.text, code=code)
        sys.exit(json_output.exit_status(code))


@main.command()
def worker() -> None:
    """Run the scheduler: upstream rechecks, alert delivery, expiry, the daily digest."""
    from bot.cli.processes import run_worker

    services = _services(wait_for_db=True)
    try:
        run_worker(services)
    except GovernanceError as exc:
        _refuse(exc)


@main.command()
@click.argument("repos", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def check(repos: tuple[str, ...], as_json: bool) -> None:
    """Recheck watched models on the Hub now (all, or REPOS), with a progress bar."""
    from bot.cli.processes import run_check
    from bot.render.upstream import cycle_reply

    services = _services()
    try:
        report = run_check(services, list(repos), as_json=as_json)
    except GovernanceError as exc:
        _refuse(exc, code=1)
    failed = report.failed + len(report.listing_failures)
    if as_json:
        data = cycle_reply(report).data
        if failed:
            what = [f"{report.failed} of {report.checked} models"] if report.failed else []
            if listings := len(report.listing_failures):
                what.append(f"{listings} author listing{'s' if listings > 1 else ''}")
            message = f"Checks failed for {' and '.join(what)}; retried next cycle."
            json_output.echo(json_output.failure(ChecksFailed.code, message, data))
        else:
            json_output.echo(json_output.success(data))
    sys.exit(1 if failed else 0)


@main.command()
@click.option(
    "--http", "http_mode", is_flag=True, help="Serve Slack over HTTP (the Procfile's web)."
)
@click.option("--port", type=int, default=lambda: int(os.environ.get("PORT", "3000")))
@click.option("--as", "user", default=_default_user, help="Console user when Slack is not set up.")
def serve(http_mode: bool, port: int, user: str) -> None:
    """Run modelgov: Slack if configured, otherwise the console."""
    services = _services(wait_for_db=True)
    if not http_mode:  # one process runs it all; HTTP web processes leave jobs to the worker
        from bot.cli.processes import start_background_scheduler

        try:
            # MODELGOV_MODEL_LOAD_AT_START: the model loads now. Under --http each gunicorn
            # worker loads its own after the fork (a model loaded here would not survive it).
            services.assistant.start()
            start_background_scheduler(services)
        except GovernanceError as exc:
            _refuse(exc)
    if http_mode or services.settings.slack_configured:
        from bot.slack.runner import serve_slack

        try:
            serve_slack(services, http=http_mode, port=port, worker_services=process_services)
        except GovernanceError as exc:
            _refuse(exc)
        return
    sys.exit(_run_console(services, user))


@main.command()
@click.argument("question", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def ask(question: tuple[str, ...], as_json: bool) -> None:
    """Ask the assistant, e.g. `modelgov ask "who approved gemma?"` (exit 1 if it failed)."""
    from bot.render.assistant import answer_data

    services = _services()
    shown: list[int] = [0]
    live = sys.stderr.isatty() and not as_json

    def stream(text: str) -> None:  # the raw text as it is written; the final answer follows
        click.echo(text[shown[0] :], nl=False, err=True)
        shown[0] = len(text)

    try:
        result = services.assistant.answer(" ".join(question), on_partial=stream if live else None)
    except GovernanceError as exc:
        services.close()
        _refuse(exc, code=1)
    if shown[0]:
        click.echo("\n", err=True)
    services.close()
    if as_json:
        json_output.echo(json_output.success(answer_data(result)))
    else:
        click.echo(result.render())


@main.command("license")
@click.argument("license_id", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def license_(license_id: tuple[str, ...], as_json: bool) -> None:
    """Show the reviewed terms of a license, e.g. `modelgov license llama3.1`."""
    services = _services()
    invocation = _cli_invocation(services, _default_user())
    reply = run_tokens(["license", " ".join(license_id)], invocation)
    _emit(reply, as_json)


@main.command(context_settings={"ignore_unknown_options": True})
@click.argument("words", nargs=-1, type=click.UNPROCESSED)
@click.option(
    "--as", "user", default=_default_user, help="Act as this user (default: your OS account)."
)
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def policy(words: tuple[str, ...], user: str, as_json: bool) -> None:
    """The team policy: `policy show`, `policy set <rule> <value>`, `policy unset <rule>`."""
    services = _services()
    reply = run_tokens(["policy", *words], _cli_invocation(services, user))
    _emit(reply, as_json)


@main.command()
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def scan(path: Path, as_json: bool) -> None:
    """Check the Hub models a code tree uses against the registry (a CI gate).

    Exit status 0 when every model used is approved, 1 when one is not approved, pending or in
    review, 2 on a usage error.
    """
    from rich.console import Console

    from bot.render.scan import scan_table
    from governance.core.db import transaction
    from governance.scan.service import scan_tree

    services = _services()
    try:
        with transaction(services.session_factory) as session:
            report = scan_tree(session, root=path, today=services.clock.now().date())
    except GovernanceError as exc:
        _refuse(exc)
    finally:
        services.close()
    if as_json:
        data = report.data()
        data["passed"] = data.pop("ok")  # the gate's verdict; the envelope's ok says the same
        blocking = [f"{m.repo_id} ({m.status})" for m in report.models if m.blocking]
        if blocking:
            message = (
                f"{len(blocking)} of {len(report.models)} models used are not approved: "
                + ", ".join(blocking[:10])
                + (f" and {len(blocking) - 10} more." if len(blocking) > 10 else ".")
            )
            json_output.echo(json_output.failure(GateFailed.code, message, data))
        else:
            json_output.echo(json_output.success(data))
    else:
        console = Console()
        if not console.is_terminal:
            console = Console(width=160)  # CI logs: do not squeeze paths into 80 columns
        console.print(scan_table(report))
    sys.exit(0 if report.ok else 1)


@main.command()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["cyclonedx", "csv", "json"]),
    default=None,
    help="cyclonedx (default), csv, or json (the --json envelope on stdout).",
)
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option("--json", "as_json", is_flag=True, help="The same as --format json.")
def export(fmt: str | None, output: Path | None, as_json: bool) -> None:
    """Export the tracked models: a CycloneDX 1.6 ML-BOM (validated), CSV or JSON.

    The JSON export is a versioned document (schema_version); on stdout it is the data of the
    --json envelope, and --output writes the document itself.
    """
    from governance.core.db import transaction
    from governance.export.service import export_document, export_text

    if as_json and fmt not in (None, "json"):
        raise click.UsageError(f"--json is the JSON export; it cannot be --format {fmt} too.")
    fmt = "json" if as_json else fmt or "cyclonedx"
    services = _services()
    if fmt == "json" and output is None:
        with transaction(services.session_factory) as session:
            document = export_document(session, clock=services.clock)
        services.close()
        json_output.echo(json_output.success(document))
        return
    with transaction(services.session_factory) as session:
        text = export_text(session, fmt=fmt, clock=services.clock)
    services.close()
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        _fail(f"cannot write {output}: {exc.strerror}", code=1, error=InvalidInput.code)
    say(f"wrote {fmt} export to {output}")
    if fmt == "json":
        json_output.echo(json_output.success({"format": fmt, "output": str(output)}))


main.add_command(hub_webhook)


if __name__ == "__main__":
    main()
