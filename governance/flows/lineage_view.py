"""Lineage as people see it: a model's bases and where they stand, whose terms bind it, its
tracked derivatives, and which base approvals cover it under the team policy.

The policy rule ``derivatives`` decides coverage. With ``inherit``, an approval of a base that is
in force covers the base's quantized copies and adapters for the same use (a fine-tune or a
merge is a new model and needs its own approval). With ``review`` (the default), nothing is
covered: a derivative needs its own approval, and its base's approval and standing are shown
beside it so the approver decides in one look. Reads only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from governance.licenses.binding import ALWAYS_BOUND, Binding
from governance.licenses.policy_rules import load_policy
from governance.registry.audit import SYSTEM_ACTOR
from governance.registry.models import Approval, AuditEvent, IntendedUse, TrackedModel
from governance.registry.standing import Standing, standing_on
from governance.registry.tracking import find_model
from governance.upstream.lineage import Lineage
from governance.upstream.lineage_queries import (
    derivative_binding_for,
    derivatives_of,
    latest_lineage,
)
from governance.upstream.snapshot_evidence import latest_evidence

# Relations an approved base covers under ``derivatives: inherit``: the same weights (a
# quantized copy) or an add-on that runs only with them (an adapter).
COVERED_RELATIONS = ALWAYS_BOUND


@dataclass(frozen=True)
class BaseView:
    """One base of a derivative: tracked or not, and where it stands in the registry."""

    repo_id: str
    model: TrackedModel | None
    standing: Standing
    detail: str


@dataclass(frozen=True)
class Coverage:
    """A base approval that covers a derivative under ``derivatives: inherit``."""

    approval: Approval
    base_repo_id: str
    relation: str

    def describe(self) -> str:
        """``covered by #12 (commercial use) of meta-llama/X: quantized copy, policy inherit``."""
        what = "quantized copy" if self.relation == "quantized" else self.relation
        return (
            f"covered by approval #{self.approval.id} ({self.approval.use.value} use) of its base "
            f"{self.base_repo_id}: a {what}, under the policy derivatives: inherit"
        )


@dataclass(frozen=True)
class LineageView:
    """Everything ``info``, ``license-check`` and the request card say about lineage."""

    policy: str  # inherit | review
    lineage: Lineage | None = None
    bases: tuple[BaseView, ...] = ()
    binding: Binding | None = None
    derivatives: list[tuple[TrackedModel, str]] = field(default_factory=list)
    covered_by: list[Coverage] = field(default_factory=list)
    base_of_note: str | None = None  # "tracked read-only as the base of X" when so

    @property
    def empty(self) -> bool:
        """Nothing to say: an original model with no tracked derivatives."""
        return self.lineage is None and not self.derivatives and self.base_of_note is None


def coverage(
    session: Session,
    model: TrackedModel,
    *,
    today: date,
    use: IntendedUse | None = None,
    lineage: Lineage | None = None,
    inherit: bool | None = None,
) -> list[Coverage]:
    """The base approvals in force on ``today`` (for ``use``, or any use) that cover ``model``
    under the team policy; empty with ``derivatives: review`` or for a fine-tune or merge."""
    if inherit is None:
        inherit = load_policy(session).inherit
    if not inherit:
        return []
    if lineage is None:
        found = latest_lineage(session, model)
        lineage = found.lineage if found else None
    if lineage is None or lineage.relation not in COVERED_RELATIONS:
        return []
    out: list[Coverage] = []
    for base in lineage.bases:
        base_model = find_model(session, base)
        if base_model is None or base_model.id == model.id:
            continue
        for approval in sorted(base_model.approvals, key=lambda a: a.id):
            if approval.in_force_on(today) and (use is None or approval.use is use):
                out.append(Coverage(approval, base_model.repo_id, lineage.relation))
    return out


def read_only_note(session: Session, model: TrackedModel) -> str | None:
    """``tracked read-only as the base of X`` for a model the watcher tracked as a base and
    nobody has requested since; None otherwise."""
    if model.approvals:
        return None
    event = session.scalar(
        select(AuditEvent)
        .where(
            AuditEvent.model_id == model.id,
            AuditEvent.action == "tracked_as_base",
            AuditEvent.actor == SYSTEM_ACTOR,
        )
        .order_by(AuditEvent.id)
        .limit(1)
    )
    if event is None:
        return None
    base_of = (event.after or {}).get("base_of", "a watched derivative")
    return (
        f"Tracked read-only as the base of {base_of}: watched for the terms that bind it; "
        "nobody has requested it."
    )


def lineage_view(session: Session, model: TrackedModel, *, today: date) -> LineageView:
    """The lineage of ``model`` from its latest snapshot, its bases' standing, whose terms bind
    it, its tracked derivatives and the base approvals that cover it."""
    policy = load_policy(session)
    derivatives = derivatives_of(session, model)
    note = read_only_note(session, model)
    found = latest_evidence(session, model)
    bound = derivative_binding_for(session, model, found.evidence) if found else None
    if bound is None:
        return LineageView(policy.derivatives, derivatives=derivatives, base_of_note=note)
    resolved, binding = bound
    bases = []
    for link in resolved.bases:
        standing, detail, _ = standing_on(link.model, today)
        if link.model is None:
            detail = "not tracked"
        bases.append(BaseView(link.repo_id, link.model, standing, detail))
    return LineageView(
        policy.derivatives,
        lineage=resolved.lineage,
        bases=tuple(bases),
        binding=binding,
        derivatives=derivatives,
        covered_by=coverage(
            session, model, today=today, lineage=resolved.lineage, inherit=policy.inherit
        ),
        base_of_note=note,
    )


def list_notes(session: Session, approvals: list[Approval], *, today: date) -> list[str]:
    """Lines for ``list``: which derivatives an approved base covers under ``derivatives:
    inherit``, and for a derivative's request, the base approval covering it or its bases'
    standing. Plain text (the renderer escapes it); empty when no listed model has lineage."""
    inherit = load_policy(session).inherit
    notes: list[str] = []
    for approval in approvals:
        model = approval.model
        if inherit and approval.in_force_on(today):
            covered = [
                f"{d.repo_id} ({relation})"
                for d, relation in derivatives_of(session, model)
                if relation in COVERED_RELATIONS
            ]
            if covered:
                notes.append(
                    f"#{approval.id} {model.repo_id} ({approval.use.value} use) also covers "
                    f"{', '.join(covered)} under the policy derivatives: inherit"
                )
        found = latest_lineage(session, model)
        if found is None:
            continue
        covering = coverage(
            session, model, today=today, use=approval.use, lineage=found.lineage, inherit=inherit
        )
        if covering:
            notes.append(f"#{approval.id} {model.repo_id}: {covering[0].describe()}")
            continue
        bases = "; ".join(
            f"base {link.repo_id}: {standing_on(link.model, today)[0]}" for link in found.bases
        )
        notes.append(f"#{approval.id} {model.repo_id}: {found.lineage.describe()}; {bases}")
    return list(dict.fromkeys(notes))
