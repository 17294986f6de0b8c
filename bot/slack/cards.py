"""Request cards and alert messages in channels: post once, update in place, tell the requester.

These run on the worker pool after the ack: each is a Web API call or two that may meet a 429.
"""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from sqlalchemy.orm import Session, selectinload, sessionmaker

from bot.blocks import Reply, section
from bot.slack.context import SlackContext
from bot.slack.respond import direct_message, message_payload
from bot.views.alerts import alert_message
from bot.views.cards import decision_notice, request_card
from bot.views.home import home_view
from bot.views.mentions import mention
from governance.alerts import acks
from governance.dashboard import home_data, upstream_facts
from governance.db import transaction
from governance.registry.cards import find_card, remember_card
from governance.registry.models import Approval
from governance.registry.service import format_time

log = logging.getLogger(__name__)


def _card_reply(factory: sessionmaker[Session], approval_id: int) -> Reply | None:
    with transaction(factory) as session:
        approval = session.get(Approval, approval_id, options=[selectinload(Approval.model)])
        if approval is None:
            return None
        return request_card(approval, upstream_facts(session, approval.model_id))


def post_request_card(ctx: SlackContext, approval_id: int) -> None:
    """Post the card of a new request in the approvals channel, once, and remember where."""
    with transaction(ctx.services.session_factory) as session:
        if find_card(session, approval_id) is not None:
            return
    reply = _card_reply(ctx.services.session_factory, approval_id)
    if reply is None:
        return
    posted = ctx.client.chat_postMessage(
        channel=ctx.settings.approvals_channel, unfurl_links=False, **message_payload(reply)
    )
    with transaction(ctx.services.session_factory) as session:
        # chat.update needs the channel id, which the answer has even when we posted by name.
        remember_card(
            session,
            approval_id=approval_id,
            destination=str(posted["channel"]),
            message_ref=str(posted["ts"]),
            clock=ctx.services.clock,
        )


def refresh_card(ctx: SlackContext, approval_id: int) -> None:
    """Show the request's current state on its card (if it has one)."""
    update_card(ctx.client, ctx.services.session_factory, approval_id)


def update_card(client: WebClient, factory: sessionmaker[Session], approval_id: int) -> None:
    """``refresh_card`` for callers outside a listener (the alert notifier)."""
    with transaction(factory) as session:
        card = find_card(session, approval_id)
        where = (card.destination, card.message_ref) if card else None
    reply = _card_reply(factory, approval_id)
    if where is None or reply is None:
        return
    client.chat_update(channel=where[0], ts=where[1], **message_payload(reply))


def notify_requester(ctx: SlackContext, approval_id: int) -> None:
    with transaction(ctx.services.session_factory) as session:
        approval = session.get(Approval, approval_id, options=[selectinload(Approval.model)])
        if approval is None or approval.decided_by is None:
            return
        notice = decision_notice(approval)
        requester = approval.requested_by
    direct_message(ctx.client, user=requester, reply=notice)


def after_decision(ctx: SlackContext, approval_id: int) -> None:
    """A request was decided (by a button, a modal or a typed command): card, then DM."""
    try:
        refresh_card(ctx, approval_id)
    finally:
        notify_requester(ctx, approval_id)


def refresh_alert(ctx: SlackContext, alert_id: int, channel: str, ts: str) -> None:
    """Re-render an alert message after it was acknowledged."""
    with transaction(ctx.services.session_factory) as session:
        alert = acks.get_alert(session, alert_id)
        reply = alert_message(
            acks.as_outgoing(alert),
            acknowledged_by=alert.acknowledged_by,
            acknowledged_at=alert.acknowledged_at,
        )
    ctx.client.chat_update(channel=channel, ts=ts, **message_payload(reply))


def note_in_thread(ctx: SlackContext, *, channel: str, ts: str, actor: str, what: str) -> None:
    """A visible record under an alert of what someone did about it."""
    text = f"{what} by {actor} at {format_time(ctx.services.clock.now())}."
    line = f"{what} by {mention(actor)} at {format_time(ctx.services.clock.now())}."
    reply = Reply(text=text, blocks=[section(line)])
    ctx.client.chat_postMessage(channel=channel, thread_ts=ts, **message_payload(reply))


def publish_home(ctx: SlackContext, user: str) -> None:
    with transaction(ctx.services.session_factory) as session:
        view = home_view(home_data(session), now=ctx.services.clock.now())
    ctx.client.views_publish(user_id=user, view=view)
