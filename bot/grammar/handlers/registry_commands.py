"""Registry subcommands: request, approve, reject, revoke, list, info, history."""

from __future__ import annotations

from collections.abc import Callable

from bot.grammar.handlers.license_commands import license_info_blocks
from bot.grammar.spec.invocation import Args, Invocation
from bot.grammar.spec.subcommand import CardFollowUp, Subcommand
from bot.render.blocks import Reply
from bot.render.modals import request_modal
from bot.render.policy import policy_blocks
from bot.render.registry import (
    approval_reply,
    history_reply,
    info_reply,
    list_reply,
    state_label,
)
from bot.render.upstream import untracked_info_reply
from governance.core.db import transaction
from governance.core.errors import InvalidInput, NotFound
from governance.flows import decide_with_policy
from governance.registry import decisions, queries
from governance.registry.models import Approval, ApprovalState, IntendedUse
from governance.registry.requests import DEFAULT_USE
from governance.registry.tracking import find_model
from governance.registry.validation import parse_expiry, parse_use, validate_repo_id
from governance.upstream.service import lookup

_STATE_WORDS = {
    "pending": ApprovalState.REQUESTED,
    "requested": ApprovalState.REQUESTED,
    "approved": ApprovalState.APPROVED,
    "rejected": ApprovalState.REJECTED,
    "review": ApprovalState.NEEDS_REVIEW,
    "needs_review": ApprovalState.NEEDS_REVIEW,
    "needs-review": ApprovalState.NEEDS_REVIEW,
    "revoked": ApprovalState.REVOKED,
    "expired": ApprovalState.EXPIRED,
}


def _use_option(args: Args) -> IntendedUse | None:
    value = args.option("use")
    return parse_use(value) if value is not None else None


def request(inv: Invocation, args: Args) -> Reply:
    """Record a request for ``args.positionals[0]``; the rest of the line is its reason."""
    services = inv.services
    use = _use_option(args) or DEFAULT_USE
    with transaction(inv.session_factory) as session:
        recorded = decide_with_policy.request(
            session,
            repo_id=args.positionals[0],
            use=use,
            reason=args.rest(1),
            requester=inv.user,
            clock=services.clock,
        )
        approval = recorded.approval
        reply = approval_reply(
            approval,
            f"Request #{approval.id} recorded: {approval.model.repo_id} for {use.value} use. "
            "An approver will decide it.",
        )
        reply.blocks += policy_blocks(recorded.verdict)
        return reply


def approve(inv: Invocation, args: Args) -> Reply:
    """Approve request ``args.positionals[0]`` (a repo or ``#id``), with the policy check."""
    services = inv.services
    expiry = args.option("expires")
    expires_on = parse_expiry(expiry, today=services.clock.now().date()) if expiry else None
    with transaction(inv.session_factory) as session:
        approval = decide_with_policy.approve(
            session,
            ref=args.positionals[0],
            actor=inv.user,
            approvers=services.approvers,
            clock=services.clock,
            conditions=args.option("conditions"),
            expires_on=expires_on,
            use=_use_option(args),
            only_from=inv.only_from,
        )
        return approval_reply(
            approval,
            f"Approved #{approval.id}: {approval.model.repo_id} for {approval.use.value} use.",
        )


def _with_reason(decide: Callable[..., Approval], done: str) -> Callable[[Invocation, Args], Reply]:
    """A handler for a decision that takes the rest of the line as its reason."""

    def handler(inv: Invocation, args: Args) -> Reply:
        services = inv.services
        with transaction(inv.session_factory) as session:
            approval = decide(
                session,
                ref=args.positionals[0],
                actor=inv.user,
                approvers=services.approvers,
                reason=args.rest(1),
                clock=services.clock,
                use=_use_option(args),
                only_from=inv.only_from,
            )
            return approval_reply(approval, f"{done} #{approval.id}: {approval.model.repo_id}.")

    return handler


reject = _with_reason(decisions.reject, "Rejected")
revoke = _with_reason(decisions.revoke, "Revoked")


def list_(inv: Invocation, args: Args) -> Reply:
    """Requests and approvals, newest first, filtered by state word and ``--use``."""
    state = None
    if args.positionals:
        word = args.positionals[0].lower()
        if word not in _STATE_WORDS:
            raise InvalidInput(
                f"Unknown state {args.positionals[0][:30]!r}; expected one of "
                "pending, approved, review, rejected, revoked, expired."
            )
        state = _STATE_WORDS[word]
    use = _use_option(args)
    with transaction(inv.session_factory) as session:
        approvals = queries.list_approvals(session, state=state, use=use)
        title = "Requests" + (f" ({state_label(state)})" if state else "")
        title += f" for {use.value} use" if use else ""
        return list_reply(approvals, title=title, today=inv.services.clock.now().date())


def info(inv: Invocation, args: Args) -> Reply:
    """One model: its approvals and history if tracked, else what the Hub says (nothing stored)."""
    repo = args.positionals[0]
    with transaction(inv.session_factory) as session:
        try:  # one lookup of the model, not a find_model first and model_overview's again
            overview = queries.model_overview(session, repo=repo)
        except NotFound:
            pass
        else:
            extra = license_info_blocks(session, overview.model)
            today = inv.services.clock.now().date()
            return info_reply(overview, extra_blocks=extra, today=today)
    # Not tracked: say what the Hub says about it (read-only; nothing is recorded).
    return untracked_info_reply(repo, lookup(inv.services.hub, repo))


def _info_is_slow(inv: Invocation, arguments: list[str]) -> bool:
    """``info`` asks the Hub only for a model that is not tracked yet."""
    if not arguments:
        return False
    with transaction(inv.session_factory) as session:
        return find_model(session, validate_repo_id(arguments[0])) is None


def history(inv: Invocation, args: Args) -> Reply:
    """Every audit event of one model."""
    with transaction(inv.session_factory) as session:
        model, events = queries.history(session, repo=args.positionals[0])
        return history_reply(model, events)


_USE = frozenset({"use"})
LIST = Subcommand(
    "list",
    "list [pending|approved|review|rejected|revoked|expired] [--use USE]",
    "List requests and approvals, newest first.",
    list_,
    _USE,
    max_args=1,
    reads_only=True,
)
INFO = Subcommand(
    "info",
    "info <repo>",
    "One model: its approvals and recent history.",
    info,
    min_args=1,
    max_args=1,
    slow=_info_is_slow,
    reads_only=True,
)
REQUEST = Subcommand(
    "request",
    "request <repo> [--use research|internal|commercial] [reason]",
    f"Ask to use a model (default use: {DEFAULT_USE.value}).",
    request,
    _USE,
    min_args=1,
    form=request_modal,
    card_follow_up=CardFollowUp.POST_NEW,
)
APPROVE = Subcommand(
    "approve",
    'approve <repo|#id> [--conditions "..."] [--expires YYYY-MM-DD] [--use USE]',
    "Approve a request, or re-approve one in review (approvers).",
    approve,
    frozenset({"conditions", "expires", "use"}),
    min_args=1,
    max_args=1,
    card_follow_up=CardFollowUp.DECIDED,
)
REJECT = Subcommand(
    "reject",
    "reject <repo|#id> <reason>",
    "Reject a request (approvers).",
    reject,
    _USE,
    min_args=2,
    card_follow_up=CardFollowUp.DECIDED,
)
REVOKE = Subcommand(
    "revoke",
    "revoke <repo|#id> <reason>",
    "Withdraw an approval (approvers).",
    revoke,
    _USE,
    min_args=2,
    card_follow_up=CardFollowUp.DECIDED,
)
HISTORY = Subcommand(
    "history",
    "history <repo>",
    "Every change to a model, with actor and time.",
    history,
    min_args=1,
    max_args=1,
    reads_only=True,
)
SUBCOMMANDS = [LIST, INFO, REQUEST, APPROVE, REJECT, REVOKE, HISTORY]
