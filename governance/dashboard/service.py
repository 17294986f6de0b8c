"""Read-only views across the registry and the upstream watch, for cards and the App Home.

Nothing here changes state. Upstream tables may be empty (a model never checked yet): every
fact is optional.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import ColumnExpressionArgument, select
from sqlalchemy.orm import Session, selectinload

from governance.flows.lineage_view import LineageView, lineage_view
from governance.registry.models import Approval, ApprovalState, TrackedModel
from governance.upstream.models import Change, Snapshot, SnapshotBase, WatchState

DERIVATIVES_SHOWN = 30


@dataclass(frozen=True)
class UpstreamFacts:
    """What the watcher knows about one model so far."""

    license: str | None = None
    gated: str | None = None
    revision: str | None = None
    checked_at: datetime | None = None
    last_change: str | None = None
    last_change_at: datetime | None = None
    lineage: LineageView | None = None  # a derivative's bases, binding terms and coverage


@dataclass(frozen=True)
class ChangeRow:
    repo_id: str
    kind: str
    summary: str
    detected_at: datetime


@dataclass(frozen=True)
class HomeData:
    needs_review: list[Approval] = field(default_factory=list)
    pending: list[Approval] = field(default_factory=list)
    approved: list[Approval] = field(default_factory=list)
    changes: list[ChangeRow] = field(default_factory=list)
    # Tracked derivatives (latest snapshot names a base), by repo id, with their lineage.
    derivatives: list[tuple[TrackedModel, LineageView]] = field(default_factory=list)

    def lineage_of(self, model_id: int) -> LineageView | None:
        """The lineage of a tracked derivative shown on the Home tab (None: not one)."""
        return next((v for m, v in self.derivatives if m.id == model_id), None)


def upstream_facts(session: Session, model_id: int, *, today: date | None = None) -> UpstreamFacts:
    """What the watcher knows about ``model_id``; with ``today``, also its lineage (bases,
    their standing, whose terms bind, coverage) when it is a derivative."""
    state = session.get(WatchState, model_id)
    snapshot = (
        session.get(Snapshot, state.latest_snapshot_id)
        if state is not None and state.latest_snapshot_id is not None
        else None
    )
    change = session.scalar(
        select(Change).where(Change.model_id == model_id).order_by(Change.id.desc()).limit(1)
    )
    return UpstreamFacts(
        license=(snapshot.license_name or snapshot.license) if snapshot else None,
        gated=snapshot.gated if snapshot else None,
        revision=snapshot.sha if snapshot else None,
        checked_at=state.last_checked_at if state else None,
        last_change=change.summary if change else None,
        last_change_at=change.detected_at if change else None,
        lineage=_lineage(session, model_id, today) if today is not None else None,
    )


def _lineage(session: Session, model_id: int, today: date) -> LineageView | None:
    model = session.get(TrackedModel, model_id)
    if model is None:
        return None
    view = lineage_view(session, model, today=today)
    return view if view.lineage is not None else None


def tracked_derivatives(
    session: Session, *, today: date, limit: int = DERIVATIVES_SHOWN
) -> list[tuple[TrackedModel, LineageView]]:
    """Tracked models whose latest snapshot names a base, by repo id, with their lineage."""
    models = session.scalars(
        select(TrackedModel)
        .join(WatchState, WatchState.model_id == TrackedModel.id)
        .where(WatchState.latest_snapshot_id.in_(select(SnapshotBase.snapshot_id).distinct()))
        .order_by(TrackedModel.repo_key)
        .limit(limit)
    ).all()
    views = [(m, lineage_view(session, m, today=today)) for m in models]
    return [(m, v) for m, v in views if v.lineage is not None]


def home_data(session: Session, *, today: date, limit: int = 200, changes: int = 20) -> HomeData:
    """Open approvals in urgency order, and the newest upstream changes.

    Approved means in force on ``today`` (``Approval.in_force_on``): one past its expiry date is
    left out even before the expiry job marked it expired.
    """

    def in_state(state: ApprovalState, *where: ColumnExpressionArgument[bool]) -> list[Approval]:
        query = (
            select(Approval)
            .options(selectinload(Approval.model))
            .where(Approval.state == state, *where)
            .order_by(Approval.updated_at, Approval.id)
            .limit(limit)
        )
        return list(session.scalars(query))

    approved = in_state(ApprovalState.APPROVED, Approval.in_force_on(today))
    # Soonest expiry first; approvals that never expire last.
    approved.sort(key=lambda a: (a.expires_on or date.max, a.id))
    rows = session.execute(
        select(Change, TrackedModel.repo_id)
        .join(TrackedModel, TrackedModel.id == Change.model_id)
        .order_by(Change.detected_at.desc(), Change.id.desc())
        .limit(changes)
    ).all()
    return HomeData(
        needs_review=in_state(ApprovalState.NEEDS_REVIEW),
        pending=in_state(ApprovalState.REQUESTED),
        approved=approved,
        changes=[ChangeRow(repo, c.kind, c.summary, c.detected_at) for c, repo in rows],
        derivatives=tracked_derivatives(session, today=today),
    )
