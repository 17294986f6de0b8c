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

from bot.render import alerts as alert_views
from bot.render import request_card as card_views
from bot.render import modals
from bot.render.blocks import error_reply
from bot.slack import decisions
from bot.slack import posting as cards
from bot.slack.context import SlackContext
from bot.slack.error_replies import attempt
from bot.slack.respond import tell
from governance.core.errors import InvalidInput
from governance.registry.models import ApprovalState

log = logging.getLogger(__name__)

Body = dict[str, Any]
Handler = Callable[[SlackContext, Body], None]


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _where(body: Body) -> tuple[str, str | None, str | None]:
    """(user, channel, message ts) of a click; no channel for clicks in the Home tab.

    Malformed parts (a string where Slack sends an object) read as missing.
    """
    container = _dict(body.get("container"))
    channel = _text(container.get("channel_id")) or _text(_dict(body.get("channel")).get("id"))
    return (
        _text(_dict(body.get("user")).get("id")),
        channel or None,
        _text(container.get("message_ts")) or None,
    )


def _action(body: Body) -> dict[str, Any]:
    actions = body.get("actions")
    return _dict(actions[0]) if isinstance(actions, list) and actions else {}


def _value(body: Body) -> str:
    return _text(_action(body).get("value"))


def _suffix_id(body: Body) -> int:
    """The request number an alert button was rendered for, checked three ways: the number in
    its action_id, its value and (see ``_alert_id``) the alert that listed it must agree.

    Raises:
        InvalidInput: they disagree, or are not ASCII numbers.
    """
    action_id = _text(_action(body).get("action_id"))
    from_action = decisions.parse_id(action_id.rpartition("-")[2])
    if decisions.parse_id(_value(body)) != from_action:
        raise InvalidInput("That button is out of date; `/models list` shows the current ones.")
    return from_action


def _alert_id(body: Body) -> int:
    """The alert a button sits under (its block_id is ``alert-<id>``)."""
    block_id = _text(_action(body).get("block_id"))
    if not block_id.startswith("alert-"):
        raise InvalidInput("That alert button is out of date; the alert may have been replaced.")
    return decisions.parse_id(block_id.removeprefix("alert-"), "alert")


def register(app: App, ctx: SlackContext) -> None:
    def listener(handler: Callable[[SlackContext, Body], None]) -> Callable[[Ack, Body], None]:
        def run(ack: Ack, body: Body) -> None:
            ack()
            handler(ctx, body if isinstance(body, dict) else {})

        run.__name__ = handler.__name__
        return run

    def later(handler: Handler) -> Handler:
        # A decision writes: it runs on the pool, so the click's ack never waits for the
        # database (the answer, or the refusal, is posted from there).
        def submit(ctx: SlackContext, body: Body) -> None:
            ctx.pool.submit(handler, ctx, body)

        submit.__name__ = handler.__name__
        return submit

    # Opening a modal must happen within the trigger's 3 seconds: in the listener, after a
    # read that takes no lock.
    app.action(card_views.ACTION_APPROVE)(listener(later(approve_clicked)))
    app.action(card_views.ACTION_CONDITIONS)(listener(conditions_clicked))
    app.action(card_views.ACTION_REJECT)(listener(reject_clicked))
    app.action(alert_views.ACTION_ACK)(listener(later(acknowledge_clicked)))
    app.action(alert_views.REAPPROVE_PATTERN)(listener(later(reapprove_clicked)))
    app.action(alert_views.REVOKE_PATTERN)(listener(revoke_clicked))


def _refuse(ctx: SlackContext, user: str, channel: str | None, message: str) -> None:
    ctx.pool.submit(tell, ctx.client, user=user, channel=channel, reply=error_reply(message))


def approve_clicked(ctx: SlackContext, body: Body) -> None:
    user, channel, _ts = _where(body)
    outcome = attempt(
        "approve button",
        lambda: decisions.approve(ctx, decisions.parse_id(_value(body)), user, only_from=PENDING),
    )
    if outcome.value is None:
        _refuse(ctx, user, channel, outcome.error or "")
        return
    ctx.pool.submit(cards.after_decision, ctx, outcome.value.id)


PENDING = (ApprovalState.REQUESTED,)
IN_REVIEW = (ApprovalState.NEEDS_REVIEW,)


def _locate(ctx: SlackContext, body: Body) -> tuple[int, str, tuple[ApprovalState, ...]]:
    """(request number, repo, the states the button was rendered for) of a modal-opening
    click; the request must still be in one of those states."""
    if _text(_action(body).get("action_id")).startswith(alert_views.ACTION_REVOKE):
        approval_id = _suffix_id(body)
        decisions.alert_lists_approval(ctx, _alert_id(body), approval_id)
        states = IN_REVIEW
    else:
        approval_id = decisions.parse_id(_value(body))
        states = PENDING
    return approval_id, decisions.approval_repo(ctx, approval_id, states), states


def _open_modal(
    ctx: SlackContext, body: Body, build: Callable[[int, str, dict[str, Any]], dict[str, Any]]
) -> None:
    user, channel, ts = _where(body)
    found = attempt("open modal", lambda: _locate(ctx, body))
    if found.value is None:
        _refuse(ctx, user, channel, found.error or "")
        return
    approval_id, repo, states = found.value
    meta = {"channel": channel, "ts": ts, "for": [s.value for s in states]}
    view = build(approval_id, repo, meta)
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
        ctx.pool.submit(cards.refresh_alert, ctx, decisions.parse_id(_value(body)), channel, ts)


def _reapprove(ctx: SlackContext, body: Body, user: str) -> object:
    approval_id = _suffix_id(body)
    decisions.alert_lists_approval(ctx, _alert_id(body), approval_id)
    return decisions.approve(ctx, approval_id, user, only_from=IN_REVIEW)


def reapprove_clicked(ctx: SlackContext, body: Body) -> None:
    user, channel, ts = _where(body)
    outcome = attempt("re-approve button", lambda: _reapprove(ctx, body, user))
    if outcome.value is None:
        _refuse(ctx, user, channel, outcome.error or "")
        return
    approval_id = outcome.value.id  # type: ignore[attr-defined]
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
