"""Modal submissions: the request form, approve with conditions, reject, revoke.

The service is called before the ack, so a refusal can be shown in the form itself
(``response_action: errors``) and the person can fix it; on success the form closes and the
cards and messages are updated from the pool.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App

from bot.blocks import message_reply
from bot.slack import cards, decisions
from bot.slack.context import SlackContext
from bot.slack.errors import attempt, view_errors
from bot.slack.respond import tell
from bot.views import modals

Body = dict[str, Any]
View = dict[str, Any]


def register(app: App, ctx: SlackContext) -> None:
    def listener(handler: Callable[[SlackContext, Ack, Body, View], None]) -> Callable[..., None]:
        def run(ack: Ack, body: Body, view: View) -> None:
            handler(ctx, ack, body, view)

        run.__name__ = handler.__name__
        return run

    app.view(modals.REQUEST_MODAL)(listener(request_submitted))
    app.view(modals.CONDITIONS_MODAL)(listener(conditions_submitted))
    app.view(modals.REJECT_MODAL)(listener(reject_submitted))
    app.view(modals.REVOKE_MODAL)(listener(revoke_submitted))


def _user(body: Body) -> str:
    return str((body.get("user") or {}).get("id") or "")


def request_submitted(ctx: SlackContext, ack: Ack, body: Body, view: View) -> None:
    user = _user(body)
    outcome = attempt(
        "request form",
        lambda: decisions.request(
            ctx,
            repo=modals.read_input(view, "repo") or "",
            use=modals.read_input(view, "use"),
            reason=modals.read_input(view, "reason"),
            actor=user,
        ),
    )
    if outcome.value is None:
        ack(
            response_action="errors",
            errors=view_errors(outcome.error or "", ["repo", "use", "reason"]),
        )
        return
    ack()
    approval_id = outcome.value
    ctx.pool.submit(cards.post_request_card, ctx, approval_id)
    channel = modals.read_metadata(view).get("channel")
    done = message_reply(f"Request #{approval_id} recorded; an approver will decide it.")
    ctx.pool.submit(tell, ctx.client, user=user, channel=channel, reply=done)


def _decided(
    ctx: SlackContext, meta: dict[str, Any], approval_id: int, user: str, what: str
) -> None:
    ctx.pool.submit(cards.after_decision, ctx, approval_id)
    # Submitted from an alert's Revoke button: leave a note under the alert, too.
    if meta.get("channel") and meta.get("ts") and what == "Revoked":
        ctx.pool.submit(
            cards.note_in_thread,
            ctx,
            channel=str(meta["channel"]),
            ts=str(meta["ts"]),
            actor=user,
            what=f"{what} #{approval_id}",
        )


def _decide(
    ctx: SlackContext,
    ack: Ack,
    body: Body,
    view: View,
    *,
    fields: list[str],
    what: str,
    call: Callable[[int, str], object],
) -> None:
    user = _user(body)
    meta = modals.read_metadata(view)
    outcome = attempt(what, lambda: call(decisions.parse_id(meta.get("id")), user))
    if not outcome.ok:
        ack(response_action="errors", errors=view_errors(outcome.error or "", fields))
        return
    ack()
    _decided(ctx, meta, decisions.parse_id(meta.get("id")), user, what)


def conditions_submitted(ctx: SlackContext, ack: Ack, body: Body, view: View) -> None:
    _decide(
        ctx,
        ack,
        body,
        view,
        fields=["conditions", "expires"],
        what="Approved",
        call=lambda n, user: decisions.approve(
            ctx,
            n,
            user,
            conditions=modals.read_input(view, "conditions"),
            expires=modals.read_input(view, "expires"),
        ),
    )


def reject_submitted(ctx: SlackContext, ack: Ack, body: Body, view: View) -> None:
    _decide(
        ctx,
        ack,
        body,
        view,
        fields=["reason"],
        what="Rejected",
        call=lambda n, user: decisions.reject(ctx, n, user, modals.read_input(view, "reason")),
    )


def revoke_submitted(ctx: SlackContext, ack: Ack, body: Body, view: View) -> None:
    _decide(
        ctx,
        ack,
        body,
        view,
        fields=["reason"],
        what="Revoked",
        call=lambda n, user: decisions.revoke(ctx, n, user, modals.read_input(view, "reason")),
    )
