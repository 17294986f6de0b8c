"""Modal submissions: the request form, approve with conditions, reject, revoke.

What can be checked without the database (a model id, a date, a missing reason, a forged
request number) is checked before the ack, so the form shows it (``response_action: errors``)
and the person can fix it. The write itself runs on the pool after the form closed, so the ack
never waits for the database; its refusal (not an approver, decided meanwhile, busy) is shown
to the person in the channel of the card (or by DM), and on success the cards are updated.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App

from bot.render import modals
from bot.render.blocks import error_reply, message_reply
from bot.slack import decisions
from bot.slack import posting as cards
from bot.slack.context import SlackContext
from bot.slack.error_replies import attempt, view_errors
from bot.slack.respond import tell
from governance.core.errors import InvalidInput
from governance.registry.models import ApprovalState
from governance.registry.validation import (
    parse_expiry,
    parse_use,
    validate_repo_id,
    validate_text,
)

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
    user = body.get("user")
    found = user.get("id") if isinstance(user, dict) else None
    return found if isinstance(found, str) else ""


def _valid_or_errors(ack: Ack, fields: list[str], check: Callable[[], object]) -> bool:
    """Run the pure input checks; on a refusal, ack with it under its field. True if valid."""
    outcome = attempt("form", check)
    if outcome.ok:
        return True
    ack(response_action="errors", errors=view_errors(outcome.error or "", fields))
    return False


def request_submitted(ctx: SlackContext, ack: Ack, body: Body, view: View) -> None:
    user = _user(body)
    repo = (modals.read_input(view, "repo") or "").strip()
    use = modals.read_input(view, "use")
    reason = modals.read_input(view, "reason")

    def check() -> None:
        validate_repo_id(repo)
        parse_use(use or "internal")
        validate_text(reason, field="reason")

    if not _valid_or_errors(ack, ["repo", "use", "reason"], check):
        return
    ack()
    channel = modals.read_metadata(view).get("channel")
    ctx.pool.submit(_record_request, ctx, user, channel, repo, use, reason)


def _record_request(
    ctx: SlackContext,
    user: str,
    channel: str | None,
    repo: str,
    use: str | None,
    reason: str | None,
) -> None:
    outcome = attempt(
        "request form",
        lambda: decisions.request(ctx, repo=repo, use=use, reason=reason, actor=user),
    )
    if outcome.value is None:
        tell(ctx.client, user=user, channel=channel, reply=error_reply(outcome.error or ""))
        return
    approval_id = outcome.value
    cards.post_request_card(ctx, approval_id)
    done = message_reply(f"Request #{approval_id} recorded; an approver will decide it.")
    tell(ctx.client, user=user, channel=channel, reply=done)


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


def rendered_for(meta: dict[str, Any], default: tuple[ApprovalState, ...]) -> list[ApprovalState]:
    """The states the button that opened this modal was shown for (``for`` in its metadata).

    Raises:
        InvalidInput: the metadata names something that is not a state (not ours).
    """
    named = meta.get("for")
    if named is None:
        return list(default)
    if not isinstance(named, list) or not named:
        raise InvalidInput("This form is out of date; open it again from the card.")
    try:
        return [ApprovalState(str(value)) for value in named]
    except ValueError:
        raise InvalidInput("This form is out of date; open it again from the card.") from None


def _decide(
    ctx: SlackContext,
    ack: Ack,
    body: Body,
    view: View,
    *,
    fields: list[str],
    what: str,
    default_states: tuple[ApprovalState, ...],
    check: Callable[[], object],
    call: Callable[[int, str, list[ApprovalState]], object],
) -> None:
    user = _user(body)
    meta = modals.read_metadata(view)
    target: dict[str, Any] = {}

    def validate() -> None:
        target["id"] = decisions.parse_id(meta.get("id"))
        target["states"] = rendered_for(meta, default_states)
        check()

    if not _valid_or_errors(ack, fields, validate):
        return
    ack()
    ctx.pool.submit(_decide_later, ctx, meta, user, what, target["id"], target["states"], call)


def _decide_later(
    ctx: SlackContext,
    meta: dict[str, Any],
    user: str,
    what: str,
    approval_id: int,
    states: list[ApprovalState],
    call: Callable[[int, str, list[ApprovalState]], object],
) -> None:
    outcome = attempt(what, lambda: call(approval_id, user, states))
    if not outcome.ok:
        channel = meta.get("channel") if isinstance(meta.get("channel"), str) else None
        tell(ctx.client, user=user, channel=channel, reply=error_reply(outcome.error or ""))
        return
    _decided(ctx, meta, approval_id, user, what)


def _check_reason(view: View) -> Callable[[], object]:
    return lambda: validate_text(modals.read_input(view, "reason"), field="reason", required=True)


def conditions_submitted(ctx: SlackContext, ack: Ack, body: Body, view: View) -> None:
    conditions = modals.read_input(view, "conditions")
    expires = modals.read_input(view, "expires")

    def check() -> None:
        validate_text(conditions, field="conditions")
        if expires:
            parse_expiry(expires, today=ctx.services.clock.now().date())

    _decide(
        ctx,
        ack,
        body,
        view,
        fields=["conditions", "expires"],
        what="Approved",
        default_states=(ApprovalState.REQUESTED,),
        check=check,
        call=lambda n, user, states: decisions.approve(
            ctx, n, user, conditions=conditions, expires=expires, only_from=states
        ),
    )


def reject_submitted(ctx: SlackContext, ack: Ack, body: Body, view: View) -> None:
    reason = modals.read_input(view, "reason")
    _decide(
        ctx,
        ack,
        body,
        view,
        fields=["reason"],
        what="Rejected",
        default_states=(ApprovalState.REQUESTED,),
        check=_check_reason(view),
        call=lambda n, user, states: decisions.reject(ctx, n, user, reason, only_from=states),
    )


def revoke_submitted(ctx: SlackContext, ack: Ack, body: Body, view: View) -> None:
    reason = modals.read_input(view, "reason")
    _decide(
        ctx,
        ack,
        body,
        view,
        fields=["reason"],
        what="Revoked",
        default_states=(ApprovalState.APPROVED, ApprovalState.NEEDS_REVIEW),
        check=_check_reason(view),
        call=lambda n, user, states: decisions.revoke(ctx, n, user, reason, only_from=states),
    )
