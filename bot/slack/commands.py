"""The ``/models`` slash command: the console's grammar, acked within Slack's 3 seconds.

Quick subcommands (the registry: a database round trip) answer in the ack itself. Subcommands
marked ``slow`` (the Hub, the language model) ack "working on it" at once and finish on the
worker pool, answering through ``response_url``. ``/models request`` alone opens a form.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.blocks import Reply, error_reply, escape, message_reply, section
from bot.commands import Invocation, Subcommand, run_tokens, tokenize
from bot.slack import cards
from bot.slack.context import SlackContext
from bot.slack.errors import unexpected
from bot.slack.respond import ack_payload, respond_later, tell
from bot.slack.streaming import stream_answer
from bot.views.modals import request_modal
from governance.errors import GovernanceError

log = logging.getLogger(__name__)

COMMAND = "/models"
DECISIONS = frozenset({"approve", "reject", "revoke"})


def register(app: App, ctx: SlackContext) -> None:
    def models_command(ack: Ack, command: dict[str, Any]) -> None:
        try:
            handle(ctx, ack, command)
        except Exception:
            if ack.response is None:  # still time to say so instead of Slack's "failed"
                ack(**ack_payload(error_reply(unexpected("/models"))))
            else:
                log.exception("/models failed after its ack")

    app.command(COMMAND)(models_command)


def handle(ctx: SlackContext, ack: Ack, command: dict[str, Any]) -> None:
    user = str(command.get("user_id") or "")
    channel = command.get("channel_id")
    try:
        tokens = tokenize(str(command.get("text") or ""), ctx.table)
    except GovernanceError as exc:
        ack(**ack_payload(error_reply(exc.message)))
        return
    if tokens and tokens[0].lower() == COMMAND:
        tokens = tokens[1:]
    spec = ctx.table.get(tokens[0]) if tokens else None
    invocation = Invocation(services=ctx.services, user=user, channel=channel)
    if spec is not None and spec.name == "request" and len(tokens) == 1:
        ack()
        _open_request_form(ctx, command, user, channel)
        return
    if spec is not None and spec.is_slow(invocation, tokens[1:]):
        _run_slow(ctx, ack, spec, tokens, invocation, command)
        return
    reply = run_tokens(tokens, invocation, ctx.table)
    ack(**ack_payload(reply))
    follow_up(ctx, spec, reply)


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
        _finish_slow, ctx, spec, tokens, invocation, command.get("response_url"), invocation.user
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


def follow_up(ctx: SlackContext, spec: Subcommand | None, reply: Reply) -> None:
    """Cards outlive the command: post one for a new request, update it after a decision."""
    if spec is None or not reply.ok or not isinstance(reply.data, dict):
        return
    approval_id = reply.data.get("id")
    if not isinstance(approval_id, int):
        return
    if spec.name == "request":
        ctx.pool.submit(cards.post_request_card, ctx, approval_id)
    elif spec.name in DECISIONS:
        ctx.pool.submit(cards.after_decision, ctx, approval_id)


def _open_request_form(
    ctx: SlackContext, command: dict[str, Any], user: str, channel: str | None
) -> None:
    try:
        ctx.client.views_open(
            trigger_id=str(command.get("trigger_id") or ""), view=request_modal(channel=channel)
        )
    except (SlackApiError, SlackClientError) as exc:
        log.info("cannot open the request form: %s", exc)
        hint = message_reply(
            "The request form did not open; type it instead: "
            "/models request <repo> [--use research|internal|commercial] [reason]"
        )
        ctx.pool.submit(tell, ctx.client, user=user, channel=channel, reply=hint)
