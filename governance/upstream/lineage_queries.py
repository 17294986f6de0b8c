"""Reading lineage from stored snapshots: a model's bases, and the tracked models that derive
from it (through the ``snapshot_bases`` index of each model's latest snapshot). Reads only."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from governance.licenses.binding import BaseEvidence, Binding, derivative_binding
from governance.licenses.evidence import LicenseEvidence
from governance.registry.models import TrackedModel
from governance.registry.tracking import find_model
from governance.upstream.facts import facts_from_row
from governance.upstream.lineage import Lineage
from governance.upstream.models import SnapshotBase, WatchState
from governance.upstream.snapshot_evidence import latest_available_snapshot, latest_evidence


@dataclass(frozen=True)
class BaseLink:
    """One base of a derivative: its id as the card names it and the tracked model (or None)."""

    repo_id: str
    model: TrackedModel | None


@dataclass(frozen=True)
class ModelLineage:
    """A tracked model's lineage from its latest available snapshot, its bases resolved."""

    lineage: Lineage
    bases: tuple[BaseLink, ...]


def latest_lineage(session: Session, model: TrackedModel) -> ModelLineage | None:
    """The lineage the latest available snapshot of ``model`` records; None for an original
    model or one never checked."""
    row = latest_available_snapshot(session, model)
    lineage = facts_from_row(row).lineage if row is not None else None
    if lineage is None:
        return None
    links = tuple(BaseLink(base, find_model(session, base)) for base in lineage.bases)
    return ModelLineage(lineage, links)


def derivatives_of(
    session: Session, model: TrackedModel, *, watched_only: bool = False
) -> list[tuple[TrackedModel, str]]:
    """Tracked models whose latest snapshot names ``model`` (or one of its former ids) as a
    base, with their relation to it, by repo id."""
    keys = {model.repo_key, *(a.alias_key for a in model.aliases)}
    query = (
        select(TrackedModel, SnapshotBase.relation)
        .join(WatchState, WatchState.model_id == TrackedModel.id)
        .join(SnapshotBase, SnapshotBase.snapshot_id == WatchState.latest_snapshot_id)
        .where(SnapshotBase.base_key.in_(sorted(keys)), TrackedModel.id != model.id)
        .order_by(TrackedModel.repo_key)
    )
    if watched_only:
        query = query.where(TrackedModel.watched.is_(True))
    seen: dict[int, tuple[TrackedModel, str]] = {}
    for derivative, relation in session.execute(query).all():
        seen.setdefault(derivative.id, (derivative, relation))
    return list(seen.values())


def derivative_binding_for(
    session: Session, model: TrackedModel, evidence: LicenseEvidence
) -> tuple[ModelLineage, Binding] | None:
    """Whose terms bind ``model`` (its latest snapshot's ``evidence``), from the latest
    available snapshot of each base; None for an original model."""
    found = latest_lineage(session, model)
    if found is None:
        return None
    bases = []
    for link in found.bases:
        base_evidence = latest_evidence(session, link.model) if link.model is not None else None
        bases.append(BaseEvidence(link.repo_id, base_evidence.evidence if base_evidence else None))
    return found, derivative_binding(evidence, found.lineage.relation, bases)
