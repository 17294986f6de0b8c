"""Classifying the model ids a code tree uses against the registry: a governance gate for CI."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from governance.flows.lineage_view import coverage
from governance.licenses.policy_rules import load_policy
from governance.registry.models import TrackedModel
from governance.registry.standing import Standing, standing_on
from governance.registry.tracking import find_model
from governance.scan.finder import ModelRef, find_model_refs
from governance.upstream.lineage_queries import latest_lineage

BLOCKING: frozenset[Standing] = frozenset({"pending", "in review", "not approved"})


@dataclass
class ScannedModel:
    """One model id found in the tree, its registry status and every place it is used."""

    repo_id: str
    status: Standing
    detail: str
    refs: list[ModelRef] = field(default_factory=list)
    approvals: list[dict[str, Any]] = field(default_factory=list)
    # For a derivative: its bases, relation and the base approvals covering it (policy).
    lineage: dict[str, Any] | None = None

    @property
    def blocking(self) -> bool:
        return self.status in BLOCKING


@dataclass
class ScanReport:
    root: str
    files: int
    models: list[ScannedModel]

    @property
    def ok(self) -> bool:
        """True when every model used is approved (with or without conditions)."""
        return not any(m.blocking for m in self.models)

    def data(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "root": self.root,
            "files_scanned": self.files,
            "models": [
                {
                    "repo_id": m.repo_id,
                    "status": m.status,
                    "detail": m.detail,
                    "approvals": m.approvals,
                    "lineage": m.lineage,
                    "locations": [
                        {"path": r.path, "line": r.line, "how": r.how}
                        | ({"quant": r.quant} if r.quant else {})
                        for r in m.refs
                    ],
                }
                for m in self.models
            ],
        }


def scan_tree(session: Session, *, root: Path, today: date) -> ScanReport:
    """Find the model ids used under ``root`` and classify each against the registry.

    Raises InvalidInput when ``root`` does not exist.
    """
    refs, files = find_model_refs(root)
    inherit = load_policy(session).inherit
    grouped: dict[str, ScannedModel] = {}
    for ref in refs:
        key = ref.repo_id.lower()
        if key not in grouped:
            model = find_model(session, ref.repo_id)
            status, detail, approvals = standing_on(model, today)
            name = model.repo_id if model is not None else ref.repo_id
            grouped[key] = ScannedModel(name, status, detail, approvals=approvals)
            if model is not None:
                _resolve_lineage(session, grouped[key], model, today=today, inherit=inherit)
        grouped[key].refs.append(ref)
    order = {"in review": 0, "not approved": 1, "pending": 2}
    models = sorted(grouped.values(), key=lambda m: (order.get(m.status, 3), m.repo_id.lower()))
    return ScanReport(str(root), files, models)


def _resolve_lineage(
    session: Session, scanned: ScannedModel, model: TrackedModel, *, today: date, inherit: bool
) -> None:
    """Resolve a tracked derivative to its base under the team policy: with ``derivatives:
    inherit`` a base approval in force covers a quantized copy or an adapter that has no
    standing approval of its own; with ``review`` the base's standing is only shown."""
    found = latest_lineage(session, model)
    if found is None:
        return
    lineage = found.lineage
    bases = []
    for link in found.bases:
        standing, _, _ = standing_on(link.model, today)
        bases.append(
            {"repo_id": link.repo_id, "tracked": link.model is not None, "standing": standing}
        )
    covering = coverage(session, model, today=today, lineage=lineage, inherit=inherit)
    scanned.lineage = {
        "relation": lineage.relation,
        "relation_source": lineage.source,
        "bases": bases,
        "derivatives_policy": "inherit" if inherit else "review",
        "covered_by": [
            {"approval_id": c.approval.id, "use": c.approval.use.value, "base": c.base_repo_id}
            for c in covering
        ],
    }
    if scanned.blocking and covering:
        conditions = [c.approval.conditions for c in covering if c.approval.conditions]
        scanned.status = "approved with conditions" if conditions else "approved"
        scanned.detail = "; ".join(c.describe() for c in covering)
        if conditions:
            scanned.detail += f"; conditions: {'; '.join(conditions)}"
        return
    shown = ", ".join(f"{b['repo_id']} ({b['standing']})" for b in bases)
    what = "quantized copy" if lineage.relation == "quantized" else lineage.relation
    scanned.detail += f"; a {what} of {shown}"
    if scanned.blocking and not inherit:
        scanned.detail += " (policy derivatives: review: it needs its own approval)"
