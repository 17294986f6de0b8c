"""Button clicks: request cards (approve, with conditions, reject), alerts (acknowledge,
re-approve, revoke) and a list's More. Each acks first; a decision runs the same grammar
handler as the typed command (``bot.slack.listeners.invoke``); posting is left to the pool.

A refusal (not an approver, own request, already decided, a forged or stale value) is shown
only to the person who clicked; the card stays as it is.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.grammar.dispatch import parse_args, run_handler, run_subcommand, tokenize
from bot.grammar.handlers.alert_commands import acknowledge
from bot.grammar.handlers.registry_commands import APPROVE, LIST
from bot.grammar.spec.invocation import Args, Invocation
from bot.render.alerts import ACTION_ACK, ACTION_REVOKE, REAPPROVE_PATTERN, REVOKE_PATTERN
from bot.render.blocks import Reply, error_reply
from bot.render.modals import REJECT_MODAL, REVOKE_MODAL, conditions_modal, reason_modal
from bot.render.registry import ACTION_LIST_MORE
from bot.render.request_card import ACTION_APPROVE, ACTION_CONDITIONS, ACTION_REJECT
from bot.slack.delivery.context import SlackContext
from bot.slack.delivery.posting import note_in_thread, refresh_alert
from bot.slack.delivery.respond import respond_later, tell
from bot.slack.listeners.button_targets import (
    IN_REVIEW,
    PENDING,
    alert_lists_approval,
    approval_repo,
    parse_id,
)
from bot.slack.listeners.error_replies import attempt
from bot.slack.listeners.invoke import run_from_surface
from governance.core.errors import InvalidInput
from governance.registry.audit import SLACK
from governance.registry.models import ApprovalState

log = logging.getLogger(__name__)

Body = dict[str, Any]
ClickHandler = Callable[[SlackContext, Body], None]


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
    from_action = parse_id(action_id.rpartition("-")[2])
    if parse_id(_value(body)) != from_action:
        raise InvalidInput("That button is out of date; `/models list` shows the current ones.")
    return from_action


def _alert_id(body: Body) -> int:
    """The alert a button sits under (its block_id is ``alert-<id>``)."""
    block_id = _text(_action(body).get("block_id"))
    if not block_id.startswith("alert-"):
        raise InvalidInput("That alert button is out of date; the alert may have been replaced.")
    return parse_id(block_id.removeprefix("alert-"), "alert")


def register(app: App, ctx: SlackContext) -> None:
    """Register the button listeners of request cards and alerts on ``app``."""

    def listener(handler: ClickHandler) -> Callable[[Ack, Body], None]:
        def run(ack: Ack, body: Body) -> None:
            ack()
            handler(ctx, body if isinstance(body, dict) else {})

        run.__name__ = handler.__name__
        return run

    def later(handler: ClickHandler) -> ClickHandler:
        # A decision writes: it runs on the pool, so the click's ack never waits for the
        # database (the answer, or the refusal, is posted from there).
        def submit(ctx: SlackContext, body: Body) -> None:
            ctx.pool.submit(handler, ctx, body)

        submit.__name__ = handler.__name__
        return submit

    # Opening a modal must happen within the trigger's 3 seconds: in the listener, after a
    # read that takes no lock.
    app.action(ACTION_APPROVE)(listener(later(approve_clicked)))
    app.action(ACTION_CONDITIONS)(listener(conditions_clicked))
    app.action(ACTION_REJECT)(listener(reject_clicked))
    app.action(ACTION_ACK)(listener(later(acknowledge_clicked)))
    app.action(REAPPROVE_PATTERN)(listener(later(reapprove_clicked)))
    app.action(REVOKE_PATTERN)(listener(revoke_clicked))
    app.action(ACTION_LIST_MORE)(listener(later(more_clicked)))


def _refuse(ctx: SlackContext, user: str, channel: str | None, message: str) -> None:
    ctx.pool.submit(tell, ctx.client, user=user, channel=channel, reply=error_reply(message))


def _decider(
    ctx: SlackContext, user: str, channel: str | None, only_from: tuple[ApprovalState, ...]
) -> Invocation:
    """The invocation of a decision clicked by ``user``, valid only from ``only_from``."""
    return Invocation(
        services=ctx.services, user=user, channel=channel, only_from=only_from, origin=SLACK
    )


def approve_clicked(ctx: SlackContext, body: Body) -> None:
    """The card's Approve: ``approve #<id>``, only while the request is still pending."""
    user, channel, _ts = _where(body)
    target = attempt("approve button", lambda: parse_id(_value(body)))
    if target.value is None:
        _refuse(ctx, user, channel, target.error or "")
        return
    run_from_surface(
        ctx, APPROVE, _decider(ctx, user, channel, PENDING), Args([f"#{target.value}"])
    )


def _locate(ctx: SlackContext, body: Body) -> tuple[int, str, tuple[ApprovalState, ...]]:
    """(request number, repo, the states the button was rendered for) of a modal-opening
    click; the request must still be in one of those states."""
    if _text(_action(body).get("action_id")).startswith(ACTION_REVOKE):
        approval_id = _suffix_id(body)
        alert_lists_approval(ctx, _alert_id(body), approval_id)
        states = IN_REVIEW
    else:
        approval_id = parse_id(_value(body))
        states = PENDING
    return approval_id, approval_repo(ctx, approval_id, states), states


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
    """The card's Approve with conditions: open its form (the decision is the form's)."""
    _open_modal(
        ctx,
        body,
        lambda n, repo, meta: conditions_modal(approval_id=n, repo=repo, meta=meta),
    )


def _reason_modal_opener(
    callback_id: str, title: str, submit: str
) -> Callable[[SlackContext, Body], None]:
    """A click handler that opens the reason modal of one decision (reject, revoke)."""

    def clicked(ctx: SlackContext, body: Body) -> None:
        _open_modal(
            ctx,
            body,
            lambda n, repo, meta: reason_modal(
                callback_id=callback_id,
                title=title,
                submit=submit,
                approval_id=n,
                repo=repo,
                meta=meta,
            ),
        )

    return clicked


reject_clicked = _reason_modal_opener(REJECT_MODAL, "Reject request", "Reject")
revoke_clicked = _reason_modal_opener(REVOKE_MODAL, "Revoke approval", "Revoke")


def acknowledge_clicked(ctx: SlackContext, body: Body) -> None:
    """An alert's Acknowledge; the alert message is re-rendered to say who and when."""
    user, channel, ts = _where(body)
    target = attempt("acknowledge button", lambda: parse_id(_value(body), "alert"))
    if target.value is None:
        _refuse(ctx, user, channel, target.error or "")
        return
    alert_id = target.value
    invocation = Invocation(services=ctx.services, user=user, channel=channel, origin=SLACK)
    reply = run_handler(acknowledge, invocation, Args([str(alert_id)]), what="acknowledge button")
    if not reply.ok:
        tell(ctx.client, user=user, channel=channel, reply=reply)
        return
    if channel and ts:
        ctx.pool.submit(refresh_alert, ctx, alert_id, channel, ts)


def _reapproval_target(ctx: SlackContext, body: Body) -> int:
    """The request an alert's Re-approve names, if the alert really put it in review."""
    approval_id = _suffix_id(body)
    alert_lists_approval(ctx, _alert_id(body), approval_id)
    return approval_id


def reapprove_clicked(ctx: SlackContext, body: Body) -> None:
    """An alert's Re-approve: ``approve #<id>``, only while it is still in review; a note under
    the alert says who did it."""
    user, channel, ts = _where(body)
    target = attempt("re-approve button", lambda: _reapproval_target(ctx, body))
    if target.value is None:
        _refuse(ctx, user, channel, target.error or "")
        return
    approval_id = target.value

    def note(_reply: Reply) -> None:
        if channel and ts:
            ctx.pool.submit(
                note_in_thread,
                ctx,
                channel=channel,
                ts=ts,
                actor=user,
                what=f"Re-approved #{approval_id}",
            )

    run_from_surface(
        ctx,
        APPROVE,
        _decider(ctx, user, channel, IN_REVIEW),
        Args([f"#{approval_id}"]),
        on_success=note,
    )


STALE_MORE = "That More button is out of date; `/models list` shows the current requests."


def _list_command(invocation: Invocation, command: str) -> Reply:
    """Run the ``list`` command a More button carries; any other command is refused (the
    value comes back from Slack: a forged one can carry anything)."""
    tokens = tokenize(command)
    if not tokens or tokens[0] != LIST.name:
        raise InvalidInput(STALE_MORE)
    return run_subcommand(LIST, invocation, parse_args(LIST, tokens[1:]))


def more_clicked(ctx: SlackContext, body: Body) -> None:
    """A list's More: the next page (the ``list ... --page N`` its button carries), read-only,
    shown to the person who clicked only: through the click's response_url, else ephemeral."""
    user, channel, _ts = _where(body)
    invocation = Invocation(
        services=ctx.services, user=user, channel=channel, read_only=True, origin=SLACK
    )
    reply = run_handler(
        lambda inv, _args: _list_command(inv, _value(body)),
        invocation,
        Args([]),
        what="more button",
    )
    response_url = _text(body.get("response_url")) or None
    respond_later(ctx.client, response_url=response_url, channel=channel, user=user, reply=reply)
