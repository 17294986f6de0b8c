"""The ``/models`` slash command: the console's grammar, acked within Slack's 3 seconds.

The ack never waits for the database:

- subcommands that only read (``list``, ``info``, ``help`` ...) answer in the ack itself, from
  a read-only session (SQLite in WAL mode: it takes no lock, so a writer cannot hold it up);
  those marked ``cached`` (``list``, ``info``) reuse today's answer to the same words while
  the data is unchanged (``bot.grammar.read_cache``), so a burst costs one rendering;
- subcommands that write (``request``, ``approve`` ...) are acked at once (empty) and run on
  the pool's command threads; the answer comes through ``response_url``, preceded by "still
  working" when it takes more than a second (a writer holds the lock: the wait is bounded and
  ends in the answer or in one sentence saying the database is busy, never half-written);
- subcommands marked ``slow`` (the Hub, the language model) ack "working on it" at once and
  finish on the pool's slow slots.

A subcommand with a ``form`` (``request``) typed alone opens that form instead.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltResponse
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.grammar.dispatch import COMMAND, run_tokens, tokenize
from bot.grammar.failures import failure_reply
from bot.grammar.spec.invocation import Invocation
from bot.grammar.spec.subcommand import Subcommand
from bot.render.blocks import Reply, error_reply, escape, message_reply, section
from bot.slack.delivery.answer_stream import stream_answer
from bot.slack.delivery.context import SlackContext
from bot.slack.delivery.respond import ack_payload, respond_later, tell
from bot.slack.listeners.invoke import follow_up
from governance.core.errors import GovernanceError
from governance.registry.audit import SLACK

log = logging.getLogger(__name__)

STILL_WORKING_AFTER_SECONDS = 1.0
BUSY = "modelgov is busy with other commands; try again in a minute."


def register(app: App, ctx: SlackContext) -> None:
    """Register the ``/models`` slash command on ``app``."""

    def models_command(ack: Ack, command: dict[str, Any]) -> BoltResponse | None:
        try:
            return handle(ctx, ack, command)
        except Exception as exc:
            if ack.response is None:  # still time to say so instead of Slack's "failed"
                ack(**ack_payload(failure_reply(exc, COMMAND)))
            else:
                log.exception("/models failed after its ack")
            return None

    app.command(COMMAND)(models_command)


def _field(command: dict[str, Any], name: str) -> str:
    value = command.get(name)
    return value if isinstance(value, str) else ""


def handle(ctx: SlackContext, ack: Ack, command: dict[str, Any]) -> BoltResponse | None:
    """Answer one ``/models`` command within its ack, or ack and finish it on the pool.

    Returns the HTTP answer when it is a kept one (Bolt sends a listener's ``BoltResponse``
    as the ack), else None (``ack`` was called).
    """
    user = _field(command, "user_id")
    channel = _field(command, "channel_id") or None
    try:
        tokens = tokenize(_field(command, "text"), ctx.table)
    except GovernanceError as exc:
        ack(**ack_payload(failure_reply(exc, COMMAND)))
        return None
    if tokens and tokens[0].lower() == COMMAND:
        tokens = tokens[1:]
    spec = ctx.table.get(tokens[0]) if tokens else None
    reader = Invocation(
        services=ctx.services, user=user, channel=channel, read_only=True, origin=SLACK
    )
    form = spec.form_for(tokens[1:], channel) if spec is not None else None
    if spec is not None and form is not None:
        ack()
        _open_form(ctx, form, spec, command, user, channel)
        return None
    kept = None
    if spec is not None and spec.cached:
        kept = ctx.read_cache.lookup(tokens, ctx.services.clock.now().date())
        if kept.reply is not None:  # nothing changed since this was answered today
            return ctx.kept_acks.response(kept.reply)
    if spec is not None and spec.is_slow(reader, tokens[1:]):
        invocation = Invocation(services=ctx.services, user=user, channel=channel, origin=SLACK)
        _run_slow(ctx, ack, spec, tokens, invocation, command)
        return None
    if spec is None or spec.only_reads(tokens[1:]):
        # Help, an unknown subcommand (the help again) or a read: answered in the ack.
        reply = run_tokens(tokens, reader, ctx.table)
        if kept is not None:
            ctx.read_cache.keep(kept, reply)
        ack(**ack_payload(reply))
        return None
    invocation = Invocation(services=ctx.services, user=user, channel=channel, origin=SLACK)
    response_url = _field(command, "response_url") or None
    submitted = ctx.pool.try_submit_command(
        _finish_write, ctx, spec, tokens, invocation, response_url
    )
    if submitted is None:
        ack(**ack_payload(error_reply(BUSY)))
        return None
    ack()  # empty: the answer follows through response_url
    return None


def _finish_write(
    ctx: SlackContext,
    spec: Subcommand,
    tokens: list[str],
    invocation: Invocation,
    response_url: str | None,
) -> None:
    """Run a writing command after its ack and post its answer (``still working`` first if
    it takes longer than a second)."""

    def answer(reply: Reply) -> None:
        respond_later(
            ctx.client,
            response_url=response_url,
            channel=invocation.channel,
            user=invocation.user,
            reply=reply,
        )

    shown = " ".join(tokens)[:200]
    still = Reply(
        text=f"Still working on /models {shown} ...",
        blocks=[section(f":hourglass_flowing_sand: Still working on `/models {escape(shown)}`…")],
    )
    reply = with_progress(
        lambda: run_tokens(tokens, invocation, ctx.table),
        notice=lambda: answer(still),
        after=STILL_WORKING_AFTER_SECONDS,
    )
    answer(reply)
    follow_up(ctx, spec, reply)


def with_progress(work: Callable[[], Reply], *, notice: Callable[[], None], after: float) -> Reply:
    """Return ``work()``; if it runs longer than ``after`` seconds, ``notice()`` is called once
    meanwhile (from a timer thread), and always finishes before this returns, so a "still
    working" message can never arrive after the answer."""
    lock = threading.Lock()
    finished = threading.Event()

    def fire() -> None:
        with lock:
            if not finished.is_set():
                try:
                    notice()
                except Exception:
                    log.exception("the still-working notice failed")

    timer = threading.Timer(after, fire)
    timer.daemon = True
    timer.start()
    try:
        return work()
    finally:
        timer.cancel()
        with lock:
            finished.set()


def _run_slow(
    ctx: SlackContext,
    ack: Ack,
    spec: Subcommand,
    tokens: list[str],
    invocation: Invocation,
    command: dict[str, Any],
) -> None:
    if not ctx.pool.try_reserve_slow():
        busy = "modelgov is busy with other long commands; try again in a minute."
        ack(**ack_payload(error_reply(busy)))
        return
    shown = " ".join(tokens)[:200]
    working = Reply(
        text=f"Working on /models {shown} ...",
        blocks=[section(f":hourglass_flowing_sand: Working on `/models {escape(shown)}`…")],
    )
    ack(**ack_payload(working))
    ctx.pool.submit_slow(
        _finish_slow,
        ctx,
        spec,
        tokens,
        invocation,
        _field(command, "response_url") or None,
        invocation.user,
    )


def _finish_slow(
    ctx: SlackContext,
    spec: Subcommand,
    tokens: list[str],
    invocation: Invocation,
    response_url: str | None,
    user: str,
) -> None:
    if spec.stream is not None and len(tokens) > 1:
        stream_answer(
            ctx.services,
            ctx.client,
            produce=spec.stream,
            text=" ".join(tokens[1:]),
            user=user,
            channel=invocation.channel,
            response_url=response_url,
        )
        return
    reply = run_tokens(tokens, invocation, ctx.table)
    respond_later(
        ctx.client, response_url=response_url, channel=invocation.channel, user=user, reply=reply
    )
    follow_up(ctx, spec, reply)


def _open_form(
    ctx: SlackContext,
    view: dict[str, Any],
    spec: Subcommand,
    command: dict[str, Any],
    user: str,
    channel: str | None,
) -> None:
    """Open ``spec``'s form; if Slack will not, tell the person how to type it instead."""
    try:
        ctx.client.views_open(trigger_id=_field(command, "trigger_id"), view=view)
    except (SlackApiError, SlackClientError) as exc:
        log.info("cannot open the %s form: %s", spec.name, exc)
        hint = message_reply(
            f"The {spec.name} form did not open; type it instead: {COMMAND} {spec.usage}"
        )
        ctx.pool.submit(tell, ctx.client, user=user, channel=channel, reply=hint)
