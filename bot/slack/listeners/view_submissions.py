"""Modal submissions: the request form, approve with conditions, reject, revoke.

What can be checked without the database (a model id, a date, a missing reason, a forged
request number) is checked before the ack, so the form shows it (``response_action: errors``)
and the person can fix it. The write itself is the grammar's handler, the same one the typed
command runs (``bot.slack.listeners.invoke``), on the pool after the form closed, so the
ack never waits for the database; its refusal (not an approver, decided meanwhile, busy) is
shown to the person in the channel of the card (or by DM), and on success the cards are updated.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App

from bot.grammar.handlers.registry_commands import APPROVE, REJECT, REQUEST, REVOKE
from bot.grammar.spec.invocation import Args, Invocation
from bot.grammar.spec.subcommand import Subcommand
from bot.render.blocks import Reply
from bot.render.modals import CONDITIONS_MODAL, REJECT_MODAL, REQUEST_MODAL, REVOKE_MODAL
from bot.slack.delivery.context import SlackContext
from bot.slack.delivery.posting import note_in_thread
from bot.slack.delivery.respond import tell
from bot.slack.listeners.button_targets import PENDING, parse_id, rendered_for
from bot.slack.listeners.error_replies import attempt, view_errors
from bot.slack.listeners.invoke import run_from_surface
from bot.slack.listeners.view_state import read_input, read_metadata
from governance.registry.audit import SLACK
from governance.registry.models import ApprovalState
from governance.registry.validation import (
    parse_expiry,
    parse_use,
    validate_repo_id,
    validate_text,
)

Body = dict[str, Any]
View = dict[str, Any]
REVOCABLE = (ApprovalState.APPROVED, ApprovalState.NEEDS_REVIEW)


def register(app: App, ctx: SlackContext) -> None:
    """Register the modal submission listeners on ``app``."""

    def listener(handler: Callable[[SlackContext, Ack, Body, View], None]) -> Callable[..., None]:
        def run(ack: Ack, body: Body, view: View) -> None:
            handler(ctx, ack, body, view)

        run.__name__ = handler.__name__
        return run

    app.view(REQUEST_MODAL)(listener(request_submitted))
    app.view(CONDITIONS_MODAL)(listener(conditions_submitted))
    app.view(REJECT_MODAL)(listener(reject_submitted))
    app.view(REVOKE_MODAL)(listener(revoke_submitted))


def _user(body: Body) -> str:
    user = body.get("user")
    found = user.get("id") if isinstance(user, dict) else None
    return found if isinstance(found, str) else ""


def _channel(meta: dict[str, Any]) -> str | None:
    channel = meta.get("channel")
    return channel if isinstance(channel, str) and channel else None


def _valid_or_errors(ack: Ack, fields: list[str], check: Callable[[], object]) -> bool:
    """Run the pure input checks; on a refusal, ack with it under its field. True if valid."""
    outcome = attempt("form", check)
    if outcome.ok:
        return True
    ack(response_action="errors", errors=view_errors(outcome.error or "", fields))
    return False


def request_submitted(ctx: SlackContext, ack: Ack, body: Body, view: View) -> None:
    """The request form: ``request <repo> [--use USE] [reason]``; the requester is told the
    answer the typed command gives."""
    repo = (read_input(view, "repo") or "").strip()
    use = read_input(view, "use")
    reason = read_input(view, "reason")

    def check() -> None:
        validate_repo_id(repo)
        if use:
            parse_use(use)
        validate_text(reason, field="reason")

    if not _valid_or_errors(ack, ["repo", "use", "reason"], check):
        return
    ack()
    invocation = Invocation(
        services=ctx.services,
        user=_user(body),
        channel=_channel(read_metadata(view)),
        origin=SLACK,
    )
    args = Args([repo, reason] if reason else [repo], {"use": use} if use else {})

    def told(reply: Reply) -> None:
        tell(ctx.client, user=invocation.user, channel=invocation.channel, reply=reply)

    ctx.pool.submit(run_from_surface, ctx, REQUEST, invocation, args, on_success=told)


def _decide(
    ctx: SlackContext,
    ack: Ack,
    body: Body,
    view: View,
    *,
    spec: Subcommand,
    fields: list[str],
    default_states: tuple[ApprovalState, ...],
    check: Callable[[], object],
    args: Callable[[str], Args],
    note_under_alert: bool = False,
) -> None:
    """Check the form, ack, and run ``spec`` on ``args(ref)`` for the request the form is about,
    only from the states its button was shown for."""
    user = _user(body)
    meta = read_metadata(view)
    target: dict[str, Any] = {}

    def validate() -> None:
        target["id"] = parse_id(meta.get("id"))
        target["states"] = rendered_for(meta, default_states)
        check()

    if not _valid_or_errors(ack, fields, validate):
        return
    ack()
    approval_id: int = target["id"]
    invocation = Invocation(
        services=ctx.services,
        user=user,
        channel=_channel(meta),
        only_from=target["states"],
        origin=SLACK,
    )

    def note(_reply: Reply) -> None:
        # Submitted from an alert's Revoke button: leave a note under the alert, too.
        if note_under_alert and meta.get("channel") and meta.get("ts"):
            ctx.pool.submit(
                note_in_thread,
                ctx,
                channel=str(meta["channel"]),
                ts=str(meta["ts"]),
                actor=user,
                what=f"Revoked #{approval_id}",
            )

    ctx.pool.submit(
        run_from_surface, ctx, spec, invocation, args(f"#{approval_id}"), on_success=note
    )


def _check_reason(view: View) -> Callable[[], object]:
    return lambda: validate_text(read_input(view, "reason"), field="reason", required=True)


def conditions_submitted(ctx: SlackContext, ack: Ack, body: Body, view: View) -> None:
    """Approve with conditions: ``approve #<id> --conditions ... [--expires ...]``."""
    conditions = read_input(view, "conditions")
    expires = read_input(view, "expires")

    def check() -> None:
        validate_text(conditions, field="conditions")
        if expires:
            parse_expiry(expires, today=ctx.services.clock.now().date())

    given = {"conditions": conditions, "expires": expires}
    _decide(
        ctx,
        ack,
        body,
        view,
        spec=APPROVE,
        fields=["conditions", "expires"],
        default_states=PENDING,
        check=check,
        args=lambda ref: Args([ref], {k: v for k, v in given.items() if v is not None}),
    )


def reject_submitted(ctx: SlackContext, ack: Ack, body: Body, view: View) -> None:
    """Reject with a reason: ``reject #<id> <reason>``."""
    _reasoned_decision(ctx, ack, body, view, spec=REJECT, default_states=PENDING)


def revoke_submitted(ctx: SlackContext, ack: Ack, body: Body, view: View) -> None:
    """Revoke with a reason (from an alert): ``revoke #<id> <reason>``."""
    _reasoned_decision(
        ctx, ack, body, view, spec=REVOKE, default_states=REVOCABLE, note_under_alert=True
    )


def _reasoned_decision(
    ctx: SlackContext,
    ack: Ack,
    body: Body,
    view: View,
    *,
    spec: Subcommand,
    default_states: tuple[ApprovalState, ...],
    note_under_alert: bool = False,
) -> None:
    """A decision whose form asks only for a required reason: ``<spec> #<id> <reason>``."""
    reason = read_input(view, "reason") or ""
    _decide(
        ctx,
        ack,
        body,
        view,
        spec=spec,
        fields=["reason"],
        default_states=default_states,
        check=_check_reason(view),
        args=lambda ref: Args([ref, reason]),
        note_under_alert=note_under_alert,
    )
