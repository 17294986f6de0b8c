"""Registry subcommands: request, approve, reject, revoke, list, info, history."""

from __future__ import annotations

from collections.abc import Callable

from bot.grammar.spec.invocation import Args, Invocation
from bot.grammar.spec.subcommand import CardFollowUp, Subcommand
from bot.render.blocks import Reply
from bot.render.licenses import info_blocks
from bot.render.lineage import lineage_blocks, with_lineage_data, with_list_notes
from bot.render.modals import request_modal
from bot.render.policy import policy_blocks
from bot.render.registry import (
    ListPage,
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
from governance.flows.lineage_view import lineage_view, list_notes
from governance.registry import decisions, queries
from governance.registry.models import Approval, ApprovalState, IntendedUse
from governance.registry.requests import DEFAULT_USE
from governance.registry.tracking import find_model
from governance.registry.validation import parse_expiry, parse_use, validate_repo_id
from governance.upstream.service import lookup
from governance.upstream.snapshot_evidence import latest_evidence

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
        reply.data = {**reply.data, "policy": recorded.verdict.data()}
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


LIST_LIMIT_DEFAULT = 20
# A page is one Slack message: a header, a section a request and the page line within 50 blocks.
LIST_LIMIT_MAX = 40


def _whole_number(args: Args, name: str, *, default: int, maximum: int | None = None) -> int:
    """The value of ``--name`` as a whole number from 1 (to ``maximum``), else ``default``.

    Raises:
        InvalidInput: not written in ASCII digits, or out of range (one sentence saying what
            is expected).
    """
    value = args.option(name)
    if value is None:
        return default
    text = value.strip()
    number = int(text) if text.isascii() and text.isdigit() else 0
    if number < 1 or (maximum is not None and number > maximum):
        expected = f"from 1 to {maximum}" if maximum is not None else "from 1 up"
        raise InvalidInput(f"--{name} takes a whole number {expected} (got {value[:20]!r}).")
    return number


def list_(inv: Invocation, args: Args) -> Reply:
    """Requests and approvals, newest first, filtered by state word and ``--use``, one page of
    ``--limit`` (default 20, at most 40) at a time: ``--page`` (default 1).

    Raises:
        InvalidInput: an unknown state word, a bad ``--limit`` or ``--page``, or a page past
            the last one.
    """
    state = None
    words: list[str] = []
    if args.positionals:
        word = args.positionals[0].lower()
        if word not in _STATE_WORDS:
            raise InvalidInput(
                f"Unknown state {args.positionals[0][:30]!r}; expected one of "
                "pending, approved, review, rejected, revoked, expired."
            )
        state = _STATE_WORDS[word]
        words.append(word)
    use = _use_option(args)
    words += ["--use", use.value] if use else []
    limit = _whole_number(args, "limit", default=LIST_LIMIT_DEFAULT, maximum=LIST_LIMIT_MAX)
    words += ["--limit", str(limit)] if limit != LIST_LIMIT_DEFAULT else []
    number = _whole_number(args, "page", default=1)
    with transaction(inv.session_factory) as session:
        shown, total = queries.page_of_approvals(
            session, offset=(number - 1) * limit, limit=limit, state=state, use=use
        )
        page = ListPage(number=number, size=limit, total=total, query=tuple(words))
        if number > page.pages:
            raise InvalidInput(
                f"There is no page {number}: {page.total} requests make {page.pages} "
                f"page{'s' if page.pages > 1 else ''} of {limit}."
            )
        title = "Requests" + (f" ({state_label(state)})" if state else "")
        title += f" for {use.value} use" if use else ""
        today = inv.services.clock.now().date()
        reply = list_reply(
            shown,
            title=title,
            today=today,
            page=page,
            reviews=queries.review_events(session, shown),
        )
        return with_list_notes(reply, list_notes(session, shown, today=today))


def info(inv: Invocation, args: Args) -> Reply:
    """One model: its approvals and history if tracked, else what the Hub says (nothing stored)."""
    repo = args.positionals[0]
    with transaction(inv.session_factory) as session:
        try:  # one lookup of the model, not a find_model first and model_overview's again
            overview = queries.model_overview(session, repo=repo)
        except NotFound:
            pass
        else:
            found = latest_evidence(session, overview.model)
            today = inv.services.clock.now().date()
            view = lineage_view(session, overview.model, today=today)
            extra = info_blocks(found) + lineage_blocks(view)
            reply = info_reply(overview, extra_blocks=extra, evidence=found, today=today)
            return with_lineage_data(reply, view)
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
    "list [pending|approved|review|rejected|revoked|expired] [--use USE] [--limit N] [--page N]",
    "List requests and approvals, newest first, a page at a time.",
    list_,
    frozenset({"use", "limit", "page"}),
    max_args=1,
    reads_only=True,
    cached=True,
    description="Every request and approval, newest first, optionally only those in one "
    "state (pending, approved, review, rejected, revoked, expired) or for one use. "
    f"{LIST_LIMIT_DEFAULT} a page unless --limit says otherwise; the last line of a page "
    "names the command for the next one (in Slack, a More button shows it).",
    options=(
        ("--use USE", "only requests for this use: research, internal or commercial"),
        ("--limit N", f"requests a page, 1 to {LIST_LIMIT_MAX} (default {LIST_LIMIT_DEFAULT})"),
        ("--page N", "which page, from 1 (default 1)"),
    ),
    examples=(
        ("list", "the newest 20 requests"),
        ("list pending", "requests waiting for an approver"),
        ("list approved --use commercial", "what is approved for commercial use"),
        ("list --limit 10 --page 2", "requests 11 to 20"),
    ),
)
INFO = Subcommand(
    "info",
    "info <repo>",
    "One model: its approvals and recent history.",
    info,
    min_args=1,
    max_args=1,
    slow=_info_is_slow,
    description="A tracked model: its approvals (use, state, who decided, conditions, "
    "expiry, pinned revision), its license as identified upstream, and its latest audit "
    "events. A model not tracked yet is looked up on the Hub and nothing is recorded.",
    examples=(
        ("info meta-llama/Llama-3.1-8B-Instruct", "everything known about that model"),
        ("info mistralai/Mistral-7B-v0.1", "what the Hub says, if it is not tracked yet"),
    ),
    reads_only=True,
    cached=True,
)
REQUEST = Subcommand(
    "request",
    "request <repo> [--use research|internal|commercial] [reason]",
    f"Ask to use a model (default use: {DEFAULT_USE.value}).",
    request,
    _USE,
    min_args=1,
    form=request_modal,
    description="Records a request for an approver to decide, checked at once against the "
    "team policy (the answer says what the policy thinks). The rest of the line is the "
    "reason. In Slack, typed without arguments it opens a form.",
    options=(("--use USE", "research, internal or commercial (default internal)"),),
    examples=(
        (
            "request mistralai/Mistral-7B-v0.1 --use research evaluating summaries",
            "ask for research use, with a reason",
        ),
    ),
    card_follow_up=CardFollowUp.POST_NEW,
)
APPROVE = Subcommand(
    "approve",
    'approve <repo|#id> [--conditions "..."] [--expires YYYY-MM-DD] [--use USE]',
    "Approve a request, or re-approve one in review (approvers).",
    approve,
    frozenset({"conditions", "expires", "use"}),
    description="Approvers only, and not their own requests. Approves a pending request or "
    "re-approves one in review; #id names one request, a repo its only open one (with "
    "several, the answer lists them). The next upstream check pins the approval to the "
    "revision and license text it sees.",
    options=(
        ("--conditions TEXT", "conditions the approval comes with (quote them)"),
        ("--expires YYYY-MM-DD", "the last day it is in force"),
        ("--use USE", "which of the model's requests, when it has one per use"),
    ),
    examples=(
        ("approve #12", "approve request 12"),
        (
            'approve org/model --conditions "no customer data" --expires 2027-06-30',
            "approve with conditions and an expiry",
        ),
    ),
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
    description="Approvers only. The rest of the line is the reason, shown to the requester.",
    options=(("--use USE", "which of the model's requests, when it has one per use"),),
    examples=(("reject #12 the license forbids our use", "reject request 12, saying why"),),
    min_args=2,
    card_follow_up=CardFollowUp.DECIDED,
)
REVOKE = Subcommand(
    "revoke",
    "revoke <repo|#id> <reason>",
    "Withdraw an approval (approvers).",
    revoke,
    _USE,
    description="Approvers only. Withdraws an approval (or one in review); the rest of the "
    "line is the reason, kept in the audit trail.",
    options=(("--use USE", "which of the model's approvals, when it has one per use"),),
    examples=(("revoke org/model replaced by a newer model", "withdraw it, saying why"),),
    min_args=2,
    card_follow_up=CardFollowUp.DECIDED,
)
HISTORY = Subcommand(
    "history",
    "history <repo>",
    "Every change to a model, with actor and time.",
    history,
    description="The model's whole audit trail, oldest first: requests, decisions, upstream "
    "changes, who acted and through which channel.",
    examples=(("history meta-llama/Llama-3.1-8B-Instruct", "every change to that model"),),
    min_args=1,
    max_args=1,
    reads_only=True,
)
SUBCOMMANDS = [LIST, INFO, REQUEST, APPROVE, REJECT, REVOKE, HISTORY]
