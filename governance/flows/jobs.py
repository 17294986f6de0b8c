"""The periodic jobs that cross domains: expiring approvals and the daily digest.

Plain functions over explicit collaborators; the scheduler decides when and who runs them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from governance.alerts.outbox import raise_alert
from governance.core.clock import Clock
from governance.core.db import transaction
from governance.core.fingerprints import fingerprint
from governance.core.kinds import NoticeKind
from governance.registry.decisions import expire
from governance.registry.models import Approval, ApprovalState
from governance.registry.queries import list_approvals

EXPIRING_WITHIN_DAYS = 14


def expire_approvals(
    factory: sessionmaker[Session], *, clock: Clock, default_destination: str
) -> list[int]:
    """Approved or in-review approvals past their expiry date become ``expired``, with an alert.

    Returns the ids expired. One expiring on D is left alone on D (``Approval.past_expiry_on``).
    """
    today = clock.now().date()
    expired: list[int] = []
    with transaction(factory) as session:
        due = session.scalars(
            select(Approval)
            .where(
                Approval.state.in_([ApprovalState.APPROVED, ApprovalState.NEEDS_REVIEW]),
                Approval.past_expiry_on(today),
            )
            .order_by(Approval.id)
        ).all()
        for approval in due:
            if not expire(session, approval=approval, clock=clock):
                continue
            expired.append(approval.id)
            repo = approval.model.repo_id
            summary = (
                f"Approval #{approval.id} of {repo} for {approval.use.value} use expired "
                f"on {approval.expires_on}; request it again to keep using the model."
            )
            raise_alert(
                session,
                kind=NoticeKind.APPROVAL_EXPIRED,
                title=f"{repo}: approval expired",
                body=summary,
                payload={
                    "repo_id": repo,
                    "kind": NoticeKind.APPROVAL_EXPIRED,
                    "summary": [summary],
                    "approval_id": approval.id,
                },
                state_fingerprint=fingerprint(["expired", approval.id]),
                default_destination=default_destination,
                clock=clock,
                model_id=approval.model_id,
            )
    return expired


@dataclass(frozen=True)
class Digest:
    """The lines of one daily digest: pending requests, approvals in review, approvals expiring
    soon."""

    pending: list[str]
    in_review: list[str]
    expiring: list[str]

    @property
    def empty(self) -> bool:
        """Whether there is nothing to report (no digest is raised then)."""
        return not (self.pending or self.in_review or self.expiring)


def daily_digest(
    factory: sessionmaker[Session], *, clock: Clock, default_destination: str
) -> Digest:
    """Pending requests, approvals in review, approvals expiring within 14 days: one alert a day,
    none when all three are empty.

    Returns the digest (also on a second run the same day, which raises nothing new).
    """
    today = clock.now().date()
    horizon = today + timedelta(days=EXPIRING_WITHIN_DAYS)
    with transaction(factory) as session:
        approvals = list_approvals(session)
        digest = Digest(
            pending=[
                f"#{a.id} {a.model.repo_id} ({a.use.value}) requested by {a.requested_by}"
                for a in approvals
                if a.state is ApprovalState.REQUESTED
            ],
            in_review=[
                f"#{a.id} {a.model.repo_id} ({a.use.value})"
                for a in approvals
                if a.state is ApprovalState.NEEDS_REVIEW
            ],
            expiring=[
                f"#{a.id} {a.model.repo_id} ({a.use.value}) expires {a.expires_on}"
                for a in approvals
                if a.in_force_on(today) and a.expires_on and a.expires_on <= horizon
            ],
        )
        if digest.empty:
            return digest
        lines = [
            f"Pending requests: {len(digest.pending)}",
            *digest.pending,
            f"In review: {len(digest.in_review)}",
            *digest.in_review,
            f"Expiring within {EXPIRING_WITHIN_DAYS} days: {len(digest.expiring)}",
            *digest.expiring,
        ]
        raise_alert(
            session,
            kind=NoticeKind.DIGEST,
            title=f"modelgov digest for {today.isoformat()}",
            body="\n".join(lines),
            payload={"kind": NoticeKind.DIGEST, "summary": lines},
            state_fingerprint=fingerprint(["digest", today.isoformat()]),
            default_destination=default_destination,
            clock=clock,
        )
    return digest
