"""The one path from every Slack surface to the domain: a grammar subcommand, run and followed up.

A typed ``/models approve #3``, the card's Approve button and the Approve-with-conditions form
all end in ``bot.grammar.dispatch.run_subcommand`` with the same spec and the same Args; what
happens to the cards afterwards is the spec's ``card_follow_up``, never its name.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.grammar.dispatch import run_subcommand
from bot.grammar.spec.invocation import Args, Invocation
from bot.grammar.spec.subcommand import CardFollowUp, Subcommand
from bot.render.blocks import Reply
from bot.slack.delivery.context import SlackContext
from bot.slack.delivery.posting import after_decision, post_request_card
from bot.slack.delivery.respond import tell

CARD_FOLLOW_UPS: dict[CardFollowUp, Callable[[SlackContext, int], None]] = {
    CardFollowUp.POST_NEW: post_request_card,
    CardFollowUp.DECIDED: after_decision,
}


def follow_up(ctx: SlackContext, spec: Subcommand | None, reply: Reply) -> None:
    """Cards outlive the command: queue the spec's card follow-up for the request its
    successful Reply names (``data["id"]``); nothing for any other Reply."""
    if spec is None or spec.card_follow_up is None or not reply.ok:
        return
    approval_id = reply.data.get("id") if isinstance(reply.data, dict) else None
    if isinstance(approval_id, int):
        ctx.pool.submit(CARD_FOLLOW_UPS[spec.card_follow_up], ctx, approval_id)


def run_from_surface(
    ctx: SlackContext,
    spec: Subcommand,
    invocation: Invocation,
    args: Args,
    *,
    on_success: Callable[[Reply], None] | None = None,
) -> Reply:
    """Run ``spec`` for a button or a form (on the pool, after the ack); return its Reply.

    A refusal is shown to the person only (ephemeral in ``invocation.channel``, else a DM);
    on success ``on_success`` runs first, then the card follow-up.
    """
    reply = run_subcommand(spec, invocation, args)
    if not reply.ok:
        tell(ctx.client, user=invocation.user, channel=invocation.channel, reply=reply)
        return reply
    if on_success is not None:
        on_success(reply)
    follow_up(ctx, spec, reply)
    return reply
