"""The periodic jobs' work, as plain functions (the scheduler only decides when and who)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from governance.alerts.service import DeliveryReport, RetryPolicy, deliver_pending, raise_alert
from governance.core.db import transaction
from governance.registry import service as registry
from governance.registry.models import Approval, ApprovalState
from governance.upstream.facts import fingerprint
from governance.upstream.service import watch_context
from governance.upstream.watcher import CycleReport, run_cycle
from governance.wiring.services import Services

EXPIRING_WITHIN_DAYS = 14


def recheck(services: Services) -> CycleReport:
    """One scheduled recheck cycle over every watched model."""
    return run_cycle(watch_context(services), trigger="schedule")


def deliver(services: Services, *, policy: RetryPolicy | None = None) -> DeliveryReport:
    """Claim due alerts, cards and DMs and hand them to the notifier (any worker may run it)."""
    return deliver_pending(
        services.session_factory, notifier=services.notifier, clock=services.clock, policy=policy
    )


def expire_approvals(services: Services) -> list[int]:
    """Approved or in-review approvals past their expiry date become ``expired``, with an alert.

    Returns the ids expired. One expiring on D is left alone on D (``Approval.past_expiry_on``).
    """
    today = services.clock.now().date()
    expired: list[int] = []
    with transaction(services.session_factory) as session:
        due = session.scalars(
            select(Approval)
            .where(
                Approval.state.in_([ApprovalState.APPROVED, ApprovalState.NEEDS_REVIEW]),
                Approval.past_expiry_on(today),
            )
            .order_by(Approval.id)
        ).all()
        for approval in due:
            if not registry.expire(session, approval=approval, clock=services.clock):
                continue
            expired.append(approval.id)
            repo = approval.model.repo_id
            summary = (
                f"Approval #{approval.id} of {repo} for {approval.use.value} use expired "
                f"on {approval.expires_on}; request it again to keep using the model."
            )
            raise_alert(
                session,
                kind="approval_expired",
                title=f"{repo}: approval expired",
                body=summary,
                payload={
                    "repo_id": repo,
                    "kind": "approval_expired",
                    "summary": [summary],
                    "approval_id": approval.id,
                },
                state_fingerprint=fingerprint(["expired", approval.id]),
                default_destination=services.settings.alerts_channel,
                clock=services.clock,
                model_id=approval.model_id,
            )
    return expired


@dataclass(frozen=True)
class Digest:
    pending: list[str]
    in_review: list[str]
    expiring: list[str]

    @property
    def empty(self) -> bool:
        return not (self.pending or self.in_review or self.expiring)


def daily_digest(services: Services) -> Digest:
    """Pending requests, approvals in review, approvals expiring within 14 days: one alert."""
    today = services.clock.now().date()
    horizon = today + timedelta(days=EXPIRING_WITHIN_DAYS)
    with transaction(services.session_factory) as session:
        approvals = registry.list_approvals(session)
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
            kind="digest",
            title=f"modelgov digest for {today.isoformat()}",
            body="\n".join(lines),
            payload={"kind": "digest", "summary": lines},
            state_fingerprint=fingerprint(["digest", today.isoformat()]),
            default_destination=services.settings.alerts_channel,
            clock=services.clock,
        )
    return digest
