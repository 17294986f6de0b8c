"""License evidence of stored snapshots: the latest available one, or any snapshot's facts.

The identification itself is pure (``governance.licenses.evidence``); this reads what it needs
from the upstream tables (snapshots, license texts by hash) and the reviewer overrides.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial

from sqlalchemy import select
from sqlalchemy.orm import Session

from governance.licenses.evidence import ModelEvidence, RepoFacts, model_evidence
from governance.licenses.overrides import overrides_for
from governance.registry.models import TrackedModel
from governance.upstream.facts import AVAILABLE, facts_from_row
from governance.upstream.models import Snapshot, WatchState
from governance.upstream.recording import stored_text


def latest_available_snapshot(session: Session, model: TrackedModel) -> Snapshot | None:
    """The newest snapshot in which the Hub showed the model (None before the first check)."""
    state = session.get(WatchState, model.id)
    if state is not None and state.latest_snapshot_id is not None:
        latest = session.get(Snapshot, state.latest_snapshot_id)
        if latest is not None and latest.availability == AVAILABLE:
            return latest
    return session.scalar(
        select(Snapshot)
        .where(Snapshot.model_id == model.id, Snapshot.availability == AVAILABLE)
        .order_by(Snapshot.id.desc())
        .limit(1)
    )


def previous_available_snapshot(
    session: Session, model: TrackedModel, snapshot_id: int
) -> Snapshot | None:
    """The newest snapshot before ``snapshot_id`` in which the Hub showed the model (or None)."""
    return session.scalar(
        select(Snapshot)
        .where(
            Snapshot.model_id == model.id,
            Snapshot.id < snapshot_id,
            Snapshot.availability == AVAILABLE,
        )
        .order_by(Snapshot.id.desc())
        .limit(1)
    )


def evidence_for_facts(
    session: Session,
    model: TrackedModel,
    facts: RepoFacts,
    *,
    snapshot_id: int | None = None,
    taken_at: datetime | None = None,
) -> ModelEvidence:
    """Evidence and openness of ``facts`` for ``model`` (texts and overrides from the DB)."""
    return model_evidence(
        model,
        facts,
        partial(stored_text, session),
        overrides_for(session, model),
        snapshot_id=snapshot_id,
        taken_at=taken_at,
    )


def latest_evidence(session: Session, model: TrackedModel) -> ModelEvidence | None:
    """Evidence from the latest available snapshot; None when the model was never seen."""
    row = latest_available_snapshot(session, model)
    if row is None:
        return None
    return evidence_for_facts(
        session, model, facts_from_row(row), snapshot_id=row.id, taken_at=row.taken_at
    )
