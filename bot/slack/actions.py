"""Button clicks: request cards (approve, with conditions, reject) and alerts (acknowledge,
re-approve, revoke). Each acks first, calls one service, and leaves the posting to the pool.

A refusal (not an approver, own request, already decided, a forged or stale value) is shown
only to the person who clicked; the card stays as it is.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.blocks import error_reply
from bot.slack import cards, decisions
from bot.slack.context import SlackContext
from bot.slack.errors import attempt
from bot.slack.respond import tell
from bot.views import alerts as alert_views
from bot.views import cards as card_views
from bot.views import modals

log = logging.getLogger(__name__)

Body = dict[str, Any]


def _where(body: Body) -> tuple[str, str | None, str | None]:
    """(user, channel, message ts) of a click; no channel for clicks in the Home tab."""
    container = body.get("container") or {}
    channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
    return str((body.get("user") or {}).get("id") or ""), channel, container.get("message_ts")


def _value(body: Body) -> str:
    actions = body.get("actions") or [{}]
    return str(actions[0].get("value") or "")


def register(app: App, ctx: SlackContext) -> None:
    def listener(handler: Callable[[SlackContext, Body], None]) -> Callable[[Ack, Body], None]:
        def run(ack: Ack, body: Body) -> None:
            ack()
            handler(ctx, body)

        run.__name__ = handler.__name__
        return run

    app.action(card_views.ACTION_APPROVE)(listener(approve_clicked))
    app.action(card_views.ACTION_CONDITIONS)(listener(conditions_clicked))
    app.action(card_views.ACTION_REJECT)(listener(reject_clicked))
    app.action(alert_views.ACTION_ACK)(listener(acknowledge_clicked))
    app.action(alert_views.REAPPROVE_PATTERN)(listener(reapprove_clicked))
    app.action(alert_views.REVOKE_PATTERN)(listener(revoke_clicked))


def _refuse(ctx: SlackContext, user: str, channel: str | None, message: str) -> None:
    ctx.pool.submit(tell, ctx.client, user=user, channel=channel, reply=error_reply(message))


def approve_clicked(ctx: SlackContext, body: Body) -> None:
    user, channel, _ts = _where(body)
    outcome = attempt(
        "approve button", lambda: decisions.approve(ctx, decisions.parse_id(_value(body)), user)
    )
    if outcome.value is None:
        _refuse(ctx, user, channel, outcome.error or "")
        return
    ctx.pool.submit(cards.after_decision, ctx, outcome.value.id)


def _locate(ctx: SlackContext, body: Body) -> tuple[int, str]:
    approval_id = decisions.parse_id(_value(body))
    return approval_id, decisions.approval_repo(ctx, approval_id)


def _open_modal(
    ctx: SlackContext, body: Body, build: Callable[[int, str, dict[str, Any]], dict[str, Any]]
) -> None:
    user, channel, ts = _where(body)
    found = attempt("open modal", lambda: _locate(ctx, body))
    if found.value is None:
        _refuse(ctx, user, channel, found.error or "")
        return
    approval_id, repo = found.value
    view = build(approval_id, repo, {"channel": channel, "ts": ts})
    try:
        ctx.client.views_open(trigger_id=str(body.get("trigger_id") or ""), view=view)
    except (SlackApiError, SlackClientError) as exc:
        log.info("cannot open a modal: %s", exc)
        _refuse(ctx, user, channel, "The form did not open (Slack allows 3 seconds); click again.")


def conditions_clicked(ctx: SlackContext, body: Body) -> None:
    _open_modal(
        ctx,
        body,
        lambda n, repo, meta: modals.conditions_modal(approval_id=n, repo=repo, meta=meta),
    )


def _reason_modal_opener(
    callback_id: str, title: str, submit: str
) -> Callable[[SlackContext, Body], None]:
    """A click handler that opens the reason modal of one decision (reject, revoke)."""

    def clicked(ctx: SlackContext, body: Body) -> None:
        _open_modal(
            ctx,
            body,
            lambda n, repo, meta: modals.reason_modal(
                callback_id=callback_id,
                title=title,
                submit=submit,
                approval_id=n,
                repo=repo,
                meta=meta,
            ),
        )

    return clicked


reject_clicked = _reason_modal_opener(modals.REJECT_MODAL, "Reject request", "Reject")
revoke_clicked = _reason_modal_opener(modals.REVOKE_MODAL, "Revoke approval", "Revoke")


def acknowledge_clicked(ctx: SlackContext, body: Body) -> None:
    user, channel, ts = _where(body)
    outcome = attempt(
        "acknowledge button",
        lambda: decisions.acknowledge(ctx, decisions.parse_id(_value(body), "alert"), user),
    )
    if not outcome.ok:
        _refuse(ctx, user, channel, outcome.error or "")
        return
    if channel and ts:
        ctx.pool.submit(cards.refresh_alert, ctx, int(_value(body)), channel, ts)


def reapprove_clicked(ctx: SlackContext, body: Body) -> None:
    user, channel, ts = _where(body)
    outcome = attempt(
        "re-approve button",
        lambda: decisions.approve(ctx, decisions.parse_id(_value(body)), user),
    )
    if outcome.value is None:
        _refuse(ctx, user, channel, outcome.error or "")
        return
    approval_id = outcome.value.id
    if channel and ts:
        ctx.pool.submit(
            cards.note_in_thread,
            ctx,
            channel=channel,
            ts=ts,
            actor=user,
            what=f"Re-approved #{approval_id}",
        )
    ctx.pool.submit(cards.after_decision, ctx, approval_id)
