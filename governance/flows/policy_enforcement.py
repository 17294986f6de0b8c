"""Where the team policy takes effect: approvals (blocked on a fail) and new snapshots.

Decision: a failing rule blocks the *approval*, not the request. Requests are always recorded,
so the team sees the demand and the verdict on the request card; an approver then cannot
approve (or re-approve) while a rule fails, unless the policy is in dry-run mode. The maximum
approval duration caps ``--expires`` (refused beyond it) and sets the expiry when none is given.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from sqlalchemy.orm import Session

from governance.alerts.outbox import raise_alert
from governance.core.clock import Clock
from governance.core.errors import Conflict
from governance.core.fingerprints import fingerprint
from governance.core.kinds import NoticeKind
from governance.licenses.evidence import ModelEvidence, RepoFacts
from governance.licenses.policy_eval import PolicyReport, RuleResult, evaluate
from governance.licenses.policy_rules import load_policy
from governance.registry.decisions import mark_needs_review
from governance.registry.models import (
    OPEN_STATES,
    Approval,
    ApprovalState,
    IntendedUse,
    TrackedModel,
)
from governance.registry.tracking import find_model
from governance.upstream.facts import facts_from_row
from governance.upstream.lineage_queries import derivative_binding_for
from governance.upstream.snapshot_evidence import (
    evidence_for_facts,
    latest_evidence,
    previous_available_snapshot,
)


def binding_evidence(session: Session, found: ModelEvidence | None) -> ModelEvidence | None:
    """``found`` as the policy judges it: for a derivative bound by its base's license, that
    license governs (first among its license ids, and its terms), the derivative's own card
    license and text after it; ``found`` unchanged for an original model or one whose own
    terms bind."""
    if found is None:
        return None
    bound = derivative_binding_for(session, found.model, found.evidence)
    terms = bound[1].binding_terms if bound else ()
    if not terms:
        return found
    ids = tuple(dict.fromkeys([*(t.id for t in terms), *found.evidence.license_ids]))
    return replace(found, evidence=replace(found.evidence, license_ids=ids, terms=terms[0]))


class PolicyBlocked(Conflict):
    """The team policy fails for this approval; nothing was written."""

    code = "policy_blocked"


def policy_verdict(
    session: Session,
    *,
    repo_id: str,
    use: IntendedUse,
    clock: Clock,
    expires_on: date | None = None,
) -> PolicyReport:
    """The team policy's verdict on using ``repo_id`` for ``use``, from its latest snapshot.

    Reads only; works for untracked models too (as "not checked yet").
    """
    model = find_model(session, repo_id)
    found = binding_evidence(session, latest_evidence(session, model)) if model else None
    return evaluate(
        load_policy(session),
        found,
        use,
        repo_id=model.repo_id if model else repo_id,
        today=clock.now().date(),
        expires_on=expires_on,
    )


def check_approval(
    session: Session, *, approval: Approval, expires_on: date | None, clock: Clock
) -> date | None:
    """Apply the team policy to approving ``approval``; returns the expiry to record.

    Raises:
        PolicyBlocked: a rule fails and the policy is not in dry-run mode.
    """
    policy = load_policy(session)
    if policy.empty:
        return expires_on
    report = evaluate(
        policy,
        binding_evidence(session, latest_evidence(session, approval.model)),
        approval.use,
        repo_id=approval.model.repo_id,
        today=clock.now().date(),
        expires_on=expires_on,
    )
    if report.blocking:
        first, more = report.failures[0], len(report.failures) - 1
        extra = f" (and {more} more)" if more else ""
        raise PolicyBlocked(
            f"Team policy blocks approving #{approval.id} ({approval.model.repo_id} for "
            f"{approval.use.value} use): {first.rule}: {first.message.rstrip('.')}{extra}; "
            f"see `/models license-check {approval.model.repo_id}` and `/models policy show`."
        )
    if expires_on is None and report.latest_expiry is not None and not policy.dry_run:
        return report.latest_expiry
    return expires_on


# ---------------------------------------------------------------------------- new snapshots


def new_violations(
    session: Session, model: TrackedModel, facts: RepoFacts, snapshot_id: int, *, today: date
) -> tuple[dict[str, list[RuleResult]], bool]:
    """Failures under the current policy that ``facts`` has and the previous snapshot had not.

    Returns ({use: [new failures]}, dry_run), only for uses with an open approval or request.
    """
    policy = load_policy(session)
    approvals = [a for a in model.approvals if a.state in OPEN_STATES]
    if policy.empty or not approvals:
        return {}, policy.dry_run
    current = binding_evidence(
        session, evidence_for_facts(session, model, facts, snapshot_id=snapshot_id)
    )
    row = previous_available_snapshot(session, model, snapshot_id)
    previous = binding_evidence(
        session,
        evidence_for_facts(session, model, facts_from_row(row), snapshot_id=row.id)
        if row
        else None,
    )

    def fails(evidence: ModelEvidence | None, use: IntendedUse) -> list[RuleResult]:
        return list(evaluate(policy, evidence, use, repo_id=model.repo_id, today=today).failures)

    found: dict[str, list[RuleResult]] = {}
    for use in sorted({a.use for a in approvals}):
        before = {(r.rule, r.message) for r in fails(previous, use)} if previous else set()
        fresh = [r for r in fails(current, use) if (r.rule, r.message) not in before]
        if fresh:
            found[use.value] = fresh
    return found, policy.dry_run


def policy_on_new_snapshot(
    session: Session,
    model: TrackedModel,
    facts: RepoFacts,
    snapshot_id: int,
    *,
    clock: Clock,
    default_destination: str,
) -> None:
    """React to a new snapshot: a NEW policy violation moves the model's approved approvals
    for the affected uses to needs_review (not in dry-run) and raises a ``policy_violation``
    alert. Runs inside the snapshot's transaction; returns nothing."""
    violations, dry_run = new_violations(
        session, model, facts, snapshot_id, today=clock.now().date()
    )
    if not violations:
        return
    lines = [
        f"{use} use: {r.rule}: {r.message}" for use, results in violations.items() for r in results
    ]
    moved: list[Approval] = []
    if not dry_run:
        for approval in sorted(model.approvals, key=lambda a: a.id):
            if approval.state is ApprovalState.APPROVED and approval.use.value in violations:
                reason = f"team policy: {lines[0]}" + (
                    f" (and {len(lines) - 1} more)" if len(lines) > 1 else ""
                )
                if mark_needs_review(session, approval=approval, reason=reason, clock=clock):
                    moved.append(approval)
    summary = f"{model.repo_id} now violates the team policy" + (
        " (dry run: nothing was moved to review)." if dry_run else "."
    )
    kind = NoticeKind.POLICY_VIOLATION
    payload = {
        "repo_id": model.repo_id,
        "kind": kind.value,
        "summary": [summary, *lines],
        "snapshot_id": snapshot_id,
        "dry_run": dry_run,
        "violations": {
            use: [{"rule": r.rule, "message": r.message} for r in results]
            for use, results in violations.items()
        },
        "approvals_in_review": [
            {"id": a.id, "use": a.use.value, "decided_by": a.decided_by} for a in moved
        ],
    }
    body = "\n".join([summary, *lines])
    if moved:
        body += "\nNow in review: " + ", ".join(f"#{a.id} ({a.use.value})" for a in moved)
    raise_alert(
        session,
        kind=kind,
        title=f"{model.repo_id}: violates team policy",
        body=body,
        payload=payload,
        state_fingerprint=fingerprint([kind.value, sorted(lines), dry_run]),
        default_destination=default_destination,
        clock=clock,
        model_id=model.id,
    )
