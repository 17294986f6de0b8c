"""The registry's rules: requests, decisions, four-eyes, duplicates, and the audit trail.

Every function takes its session and clock explicitly and does not commit: the caller's unit of
work (``governance.core.db.transaction``) commits the change and its audit event together, or
neither.
Decisions are conditional UPDATEs on the current state, so two approvers racing on one request
cannot both win, on SQLite or PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from governance.core.clock import Clock, format_time
from governance.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from governance.registry import audit
from governance.registry.models import (
    OPEN_STATES,
    Approval,
    ApprovalState,
    Approver,
    ApproverKind,
    AuditEvent,
    IntendedUse,
    ModelAlias,
    TrackedModel,
)
from governance.registry.validation import (
    check_expiry,
    parse_number,
    validate_repo_id,
    validate_text,
    validate_user_id,
)

SYSTEM_ACTOR = "modelgov"


@dataclass(frozen=True)
class ApproverDirectory:
    """Who may decide: MODELGOV_APPROVERS, the approvers table, and group members if resolvable.

    ``group_members`` resolves a user group id to its members (Slack's usergroups.users.list);
    it is optional so the domain never depends on Slack.
    """

    configured: frozenset[str] = frozenset()
    groups: frozenset[str] = frozenset()  # MODELGOV_APPROVER_GROUP
    group_members: Callable[[str], Iterable[str]] | None = field(default=None, compare=False)

    def is_approver(self, session: Session, user_id: str) -> bool:
        if user_id in self.configured:
            return True
        rows = session.execute(select(Approver.kind, Approver.principal)).all()
        if any(kind is ApproverKind.USER and principal == user_id for kind, principal in rows):
            return True
        if self.group_members is None:
            return False
        groups = [principal for kind, principal in rows if kind is ApproverKind.USERGROUP]
        groups += sorted(self.groups)
        return any(user_id in set(self.group_members(group)) for group in groups)

    def names(self, session: Session) -> list[str]:
        stored = session.scalars(select(Approver.principal).order_by(Approver.principal)).all()
        return sorted(set(self.configured) | set(stored))


# ---------------------------------------------------------------------------- models


def find_model(session: Session, repo: str) -> TrackedModel | None:
    """The tracked model named ``repo`` (case-insensitive), also by an earlier id (alias)."""
    key = repo.strip().lower()
    model = session.scalar(select(TrackedModel).where(TrackedModel.repo_key == key))
    if model is None:
        model = session.scalar(
            select(TrackedModel).join(ModelAlias).where(ModelAlias.alias_key == key)
        )
    return model


def get_model(session: Session, repo: str) -> TrackedModel:
    """Like ``find_model`` but raises NotFound with a pointer to what to do."""
    validate_repo_id(repo)
    model = find_model(session, repo)
    if model is None:
        raise NotFound(
            f"{repo} is not tracked yet; request it with `/models request {repo} --use <use>`."
        )
    return model


def track_model(session: Session, *, repo_id: str, actor: str, clock: Clock) -> TrackedModel:
    """Return the tracked model for ``repo_id``, adding it (audited) if it is new."""
    validate_repo_id(repo_id)
    existing = find_model(session, repo_id)
    if existing is not None:
        return existing
    model = TrackedModel(
        repo_id=repo_id,
        repo_key=repo_id.lower(),
        display_name=repo_id.split("/", 1)[1],
        added_by=actor,
        added_at=clock.now(),
        watched=True,
    )
    try:
        with session.begin_nested():
            session.add(model)
            session.flush()
    except IntegrityError:
        # Someone tracked it at the same moment; theirs stands (the unique key decided).
        raced = find_model(session, repo_id)
        if raced is None:
            raise
        return raced
    audit.record(
        session,
        clock=clock,
        actor=actor,
        action="model_tracked",
        model=model,
        after={"repo_id": repo_id},
    )
    return model


# ---------------------------------------------------------------------------- requests


def request_approval(
    session: Session,
    *,
    repo_id: str,
    use: IntendedUse,
    reason: str | None,
    requester: str,
    clock: Clock,
) -> Approval:
    """Record a request to use ``repo_id`` for ``use``.

    Raises:
        InvalidInput: malformed repo id, user or reason.
        Conflict: the model already has a pending or standing approval for this use.
    """
    validate_user_id(requester)
    validate_repo_id(repo_id)
    reason_text = validate_text(reason, field="reason") or ""
    model = track_model(session, repo_id=repo_id, actor=requester, clock=clock)
    existing = _open_approval_for(session, model, use)
    if existing is not None:
        raise _duplicate(existing)
    now = clock.now()
    approval = Approval(
        model_id=model.id,
        use=use,
        state=ApprovalState.REQUESTED,
        reason=reason_text,
        requested_by=requester,
        requested_at=now,
        updated_at=now,
    )
    try:
        with session.begin_nested():
            session.add(approval)
            session.flush()
    except IntegrityError:
        # Another request for the same model and use won the race (partial unique index).
        raced = _open_approval_for(session, model, use)
        error = _duplicate(raced) if raced else Conflict("The request could not be saved; retry.")
        raise error from None
    audit.record(
        session,
        clock=clock,
        actor=requester,
        action="requested",
        approval=approval,
        after=approval.audited_fields(),
        detail=reason_text or None,
    )
    return approval


def _open_approval_for(session: Session, model: TrackedModel, use: IntendedUse) -> Approval | None:
    return session.scalar(
        select(Approval).where(
            Approval.model_id == model.id, Approval.use == use, Approval.state.in_(OPEN_STATES)
        )
    )


def _duplicate(existing: Approval) -> Conflict:
    what = {
        ApprovalState.REQUESTED: f"already requested by {existing.requested_by} and pending",
        ApprovalState.APPROVED: f"already approved by {existing.decided_by}",
        ApprovalState.NEEDS_REVIEW: "already approved and now in review",
    }[existing.state]
    return Conflict(
        f"{existing.model.repo_id} for {existing.use.value} use is {what} "
        f"(request #{existing.id}); see `/models info {existing.model.repo_id}`."
    )


# ---------------------------------------------------------------------------- decisions


def find_approval(
    session: Session,
    ref: str,
    *,
    states: Iterable[ApprovalState],
    use: IntendedUse | None = None,
    verb: str,
) -> Approval:
    """The approval ``ref`` names: ``#12`` / ``12``, or a repo id with exactly one candidate.

    For a repo id, the candidates are its approvals in ``states`` (and ``use`` if given). When
    there are none, the message says what happened to the latest one; when there are several,
    it lists them so the user can name one.
    """
    ref = ref.strip()
    number = parse_number(ref)
    if number is not None:
        approval = session.get(Approval, number)
        if approval is None:
            raise NotFound(f"There is no request #{number}; `/models list` shows them.")
        return approval
    model = get_model(session, ref)
    wanted = set(states)
    candidates = [a for a in model.approvals if a.state in wanted and (use is None or a.use is use)]
    if len(candidates) == 1:
        return candidates[0]
    if len(candidates) > 1:
        listed = ", ".join(f"#{a.id} ({a.use.value}, {a.state.value})" for a in candidates)
        raise InvalidInput(
            f"{model.repo_id} has {len(candidates)} requests you could {verb}: {listed}; "
            f"name one by number, e.g. `/models {verb} {candidates[0].id}`."
        )
    latest = max(
        (a for a in model.approvals if use is None or a.use is use),
        key=lambda a: a.id,
        default=None,
    )
    if latest is None:
        raise NotFound(f"{model.repo_id} has no request to {verb}.")
    return latest  # the transition below explains why it cannot be decided


def approve(
    session: Session,
    *,
    ref: str,
    actor: str,
    approvers: ApproverDirectory,
    clock: Clock,
    conditions: str | None = None,
    expires_on: date | None = None,
    use: IntendedUse | None = None,
    only_from: Iterable[ApprovalState] | None = None,
) -> Approval:
    """Approve a pending request, or re-approve one that is in review.

    ``only_from``: the states a button offering this was rendered for (Re-approve:
    ``needs_review``; a card's Approve: ``requested``); any other current state is refused.

    Raises:
        PermissionDenied: ``actor`` is not an approver, or requested it themselves.
        Conflict: it was already decided (the message names who and when).
        PolicyBlocked (a Conflict): a team policy rule fails (not in dry-run mode).
    """
    require_approver(session, actor, approvers, "approve")
    conditions_text = validate_text(conditions, field="conditions")
    check_expiry(expires_on, today=clock.now().date())
    approval = find_approval(
        session,
        ref,
        states=(ApprovalState.REQUESTED, ApprovalState.NEEDS_REVIEW),
        use=use,
        verb="approve",
    )
    require_rendered_state(approval, only_from)
    _require_four_eyes(approval, actor)
    if approval.state in (ApprovalState.REQUESTED, ApprovalState.NEEDS_REVIEW):
        # Team policy: a failing rule blocks approval; max duration caps the expiry. Imported
        # here because the license domain builds on the registry (no import cycle).
        from governance.licenses.enforcement import check_approval

        expires_on = check_approval(session, approval=approval, expires_on=expires_on, clock=clock)
    reapproving = approval.state is ApprovalState.NEEDS_REVIEW
    expected = ApprovalState.NEEDS_REVIEW if reapproving else ApprovalState.REQUESTED
    return _transition(
        session,
        approval,
        expected=(expected,),
        new_state=ApprovalState.APPROVED,
        actor=actor,
        clock=clock,
        action="reapproved" if reapproving else "approved",
        changes={
            "decided_by": actor,
            "decided_at": clock.now(),
            "conditions": conditions_text,
            "expires_on": expires_on,
        },
        detail=conditions_text,
    )


@dataclass(frozen=True)
class _ReasonedDecision:
    verb: str
    from_states: tuple[ApprovalState, ...]
    to_state: ApprovalState
    four_eyes: bool


_REJECT = _ReasonedDecision("reject", (ApprovalState.REQUESTED,), ApprovalState.REJECTED, True)
_REVOKE = _ReasonedDecision(
    "revoke", (ApprovalState.APPROVED, ApprovalState.NEEDS_REVIEW), ApprovalState.REVOKED, False
)


def reject(
    session: Session,
    *,
    ref: str,
    actor: str,
    approvers: ApproverDirectory,
    reason: str | None,
    clock: Clock,
    use: IntendedUse | None = None,
    only_from: Iterable[ApprovalState] | None = None,
) -> Approval:
    """Reject a pending request; a reason is required. Raises like ``approve``."""
    return _decide_with_reason(
        session,
        _REJECT,
        ref=ref,
        actor=actor,
        approvers=approvers,
        reason=reason,
        clock=clock,
        use=use,
        only_from=only_from,
    )


def revoke(
    session: Session,
    *,
    ref: str,
    actor: str,
    approvers: ApproverDirectory,
    reason: str | None,
    clock: Clock,
    use: IntendedUse | None = None,
    only_from: Iterable[ApprovalState] | None = None,
) -> Approval:
    """Withdraw an approval (approved or in review); a reason is required."""
    return _decide_with_reason(
        session,
        _REVOKE,
        ref=ref,
        actor=actor,
        approvers=approvers,
        reason=reason,
        clock=clock,
        use=use,
        only_from=only_from,
    )


def _decide_with_reason(
    session: Session,
    decision: _ReasonedDecision,
    *,
    ref: str,
    actor: str,
    approvers: ApproverDirectory,
    reason: str | None,
    clock: Clock,
    use: IntendedUse | None,
    only_from: Iterable[ApprovalState] | None = None,
) -> Approval:
    require_approver(session, actor, approvers, decision.verb)
    reason_text = validate_text(reason, field="reason", required=True)
    approval = find_approval(session, ref, states=decision.from_states, use=use, verb=decision.verb)
    require_rendered_state(approval, only_from)
    if decision.four_eyes:
        _require_four_eyes(approval, actor)
    return _transition(
        session,
        approval,
        expected=decision.from_states,
        new_state=decision.to_state,
        actor=actor,
        clock=clock,
        action=decision.to_state.value,
        changes={"decided_by": actor, "decided_at": clock.now(), "decision_reason": reason_text},
        detail=reason_text,
    )


def mark_needs_review(
    session: Session, *, approval: Approval, reason: str, clock: Clock, actor: str = SYSTEM_ACTOR
) -> bool:
    """Move an approved approval back to review (upstream terms changed). False if not approved."""
    try:
        _transition(
            session,
            approval,
            expected=(ApprovalState.APPROVED,),
            new_state=ApprovalState.NEEDS_REVIEW,
            actor=actor,
            clock=clock,
            action="needs_review",
            changes={},
            detail=reason,
        )
    except Conflict:
        return False
    return True


def expire(session: Session, *, approval: Approval, clock: Clock) -> bool:
    """Mark an approval whose expiry date has passed as expired. False if it was not approved."""
    try:
        _transition(
            session,
            approval,
            expected=(ApprovalState.APPROVED, ApprovalState.NEEDS_REVIEW),
            new_state=ApprovalState.EXPIRED,
            actor=SYSTEM_ACTOR,
            clock=clock,
            action="expired",
            changes={},
            detail=f"expiry date {approval.expires_on} passed",
        )
    except Conflict:
        return False
    return True


def _transition(
    session: Session,
    approval: Approval,
    *,
    expected: tuple[ApprovalState, ...],
    new_state: ApprovalState,
    actor: str,
    clock: Clock,
    action: str,
    changes: dict[str, Any],
    detail: str | None,
) -> Approval:
    """Move ``approval`` to ``new_state`` only if it is still in one of ``expected``."""
    before = approval.audited_fields()
    values = {**changes, "state": new_state, "updated_at": clock.now()}
    result = session.execute(
        update(Approval)
        .where(Approval.id == approval.id, Approval.state.in_(expected))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    session.refresh(approval)
    if result.rowcount != 1:
        raise _already_decided(approval)
    audit.record(
        session,
        clock=clock,
        actor=actor,
        action=action,
        approval=approval,
        before=before,
        after=approval.audited_fields(),
        detail=detail,
    )
    return approval


def _already_decided(approval: Approval) -> Conflict:
    who = (
        f" by {approval.decided_by} at {format_time(approval.decided_at)}"
        if approval.decided_by
        else ""
    )
    label = approval.state.value.replace("_", " ")
    if approval.state is ApprovalState.NEEDS_REVIEW:
        return Conflict(
            f"Request #{approval.id} ({approval.model.repo_id}) is in review after an upstream "
            f"change; approve it again or revoke it."
        )
    return Conflict(f"Request #{approval.id} ({approval.model.repo_id}) was already {label}{who}.")


_STATE_WORDS = {
    ApprovalState.REQUESTED: "pending",
    ApprovalState.NEEDS_REVIEW: "in review",
}


def describe_state(state: ApprovalState) -> str:
    """A state as a sentence says it: ``pending``, ``in review``, ``approved``."""
    return _STATE_WORDS.get(state, state.value.replace("_", " "))


def require_rendered_state(approval: Approval, only_from: Iterable[ApprovalState] | None) -> None:
    """Refuse a button click on ``approval`` unless it is in a state the button was shown for.

    Raises:
        Conflict: it is in another state now; the message says which (and who decided).
    """
    if only_from is None:
        return
    wanted = tuple(only_from)
    if approval.state in wanted:
        return
    was_for = " or ".join(describe_state(s) for s in wanted)
    now = describe_state(approval.state)
    if approval.decided_by and approval.state not in (
        ApprovalState.REQUESTED,
        ApprovalState.NEEDS_REVIEW,
    ):
        now = f"was already {now} by {approval.decided_by} at {format_time(approval.decided_at)}"
    else:
        now = f"is {now} now"
    raise Conflict(
        f"Request #{approval.id} ({approval.model.repo_id}) {now}; this button was for a "
        f"request that is {was_for}, so nothing was changed."
    )


def require_approver(session: Session, actor: str, approvers: ApproverDirectory, verb: str) -> None:
    validate_user_id(actor)
    if not approvers.is_approver(session, actor):
        names = ", ".join(approvers.names(session)) or "nobody yet (set MODELGOV_APPROVERS)"
        raise PermissionDenied(f"Only approvers can {verb}; the approvers are {names}.")


def _require_four_eyes(approval: Approval, actor: str) -> None:
    if approval.requested_by == actor:
        raise PermissionDenied(
            f"You requested #{approval.id} yourself; another approver must decide it."
        )


# ---------------------------------------------------------------------------- reading


def list_approvals(
    session: Session, *, state: ApprovalState | None = None, use: IntendedUse | None = None
) -> list[Approval]:
    """Approvals, newest first, optionally filtered by state and use."""
    query = select(Approval).options(selectinload(Approval.model)).order_by(Approval.id.desc())
    if state is not None:
        query = query.where(Approval.state == state)
    if use is not None:
        query = query.where(Approval.use == use)
    return list(session.scalars(query).all())


@dataclass(frozen=True)
class ModelOverview:
    model: TrackedModel
    approvals: list[Approval]
    recent_events: list[AuditEvent]


def model_overview(session: Session, *, repo: str) -> ModelOverview:
    """One model: its approvals (newest first) and its latest audit events."""
    model = get_model(session, repo)
    approvals = sorted(model.approvals, key=lambda a: a.id, reverse=True)
    return ModelOverview(model, approvals, audit.events_for_model(session, model, limit=10))


def history(session: Session, *, repo: str) -> tuple[TrackedModel, list[AuditEvent]]:
    """The model's whole audit trail, oldest first."""
    model = get_model(session, repo)
    return model, audit.events_for_model(session, model, limit=1000)
