"""Request cards and alert messages in channels: post once, update in place, tell the requester.

These run on the worker pool after the ack. Cards, card refreshes and the requester's DM are
queued in the outbox first, then delivered by the same claiming deliverer as alerts (here at
once, and by the worker's schedule when Slack was busy), so none is ever posted twice.
"""

from __future__ import annotations

import logging

from sqlalchemy.orm import selectinload

from bot.render.alerts import alert_message
from bot.render.blocks import Reply, section
from bot.render.home import home_view
from bot.render.mentions import mention
from bot.render.request_card import decision_notice
from bot.slack.delivery.context import SlackContext
from bot.slack.delivery.respond import message_payload
from bot.slack.delivery.slack_notifier import SlackNotifier
from governance.alerts import acks
from governance.alerts.delivery import deliver_messages
from governance.alerts.outbox import queue_card_update, queue_direct_message, queue_request_card
from governance.core.clock import format_time
from governance.core.db import transaction
from governance.dashboard.service import home_data
from governance.registry.models import Approval

log = logging.getLogger(__name__)


def outbox_notifier(ctx: SlackContext) -> SlackNotifier:
    """The deliverer of queued cards and DMs, on the listener's client (its retries off)."""
    return SlackNotifier(
        ctx.client, session_factory=ctx.services.session_factory, clock=ctx.services.clock
    )


def _deliver_queued(ctx: SlackContext) -> None:
    """Deliver what was just queued now rather than at the next scheduled run."""
    report = deliver_messages(
        ctx.services.session_factory, notifier=outbox_notifier(ctx), clock=ctx.services.clock
    )
    for error in report.errors:
        log.warning("outbox: %s (will retry)", error)


def post_request_card(ctx: SlackContext, approval_id: int) -> None:
    """Queue the card of a new request for the approvals channel (once), and deliver it."""
    with transaction(ctx.services.session_factory) as session:
        queue_request_card(
            session,
            approval_id=approval_id,
            destination=ctx.settings.approvals_channel,
            clock=ctx.services.clock,
        )
    _deliver_queued(ctx)


def refresh_card(ctx: SlackContext, approval_id: int) -> None:
    """Show the request's current state on its card (if it has one), through the outbox."""
    with transaction(ctx.services.session_factory) as session:
        queue_card_update(session, approval_id=approval_id, clock=ctx.services.clock)
    _deliver_queued(ctx)


def notify_requester(ctx: SlackContext, approval_id: int) -> None:
    """Queue the decision's DM to the requester (once per decision), and deliver it."""
    with transaction(ctx.services.session_factory) as session:
        approval = session.get(Approval, approval_id, options=[selectinload(Approval.model)])
        if approval is None or approval.decided_by is None:
            return
        decided = approval.decided_at.isoformat() if approval.decided_at else ""
        queue_direct_message(
            session,
            user=approval.requested_by,
            message=message_payload(decision_notice(approval)),
            key=f"decision:{approval.id}:{approval.state.value}:{decided}",
            clock=ctx.services.clock,
        )
    _deliver_queued(ctx)


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
            acks.as_outgoing(session, alert),
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
    """Publish the Home tab dashboard for ``user``, as it stands now."""
    with transaction(ctx.services.session_factory) as session:
        now = ctx.services.clock.now()
        view = home_view(home_data(session, today=now.date()), now=now)
    ctx.client.views_publish(user_id=user, view=view)
