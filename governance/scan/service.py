"""Classifying the model ids a code tree uses against the registry: a governance gate for CI."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

from sqlalchemy.orm import Session

from governance.registry.models import ApprovalState, TrackedModel
from governance.registry.tracking import find_model
from governance.scan.finder import ModelRef, find_model_refs

Status = Literal["approved", "approved with conditions", "pending", "in review", "not approved"]
BLOCKING: frozenset[str] = frozenset({"pending", "in review", "not approved"})


@dataclass
class ScannedModel:
    """One model id found in the tree, its registry status and every place it is used."""

    repo_id: str
    status: Status
    detail: str
    refs: list[ModelRef] = field(default_factory=list)
    approvals: list[dict[str, Any]] = field(default_factory=list)

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
                    "locations": [{"path": r.path, "line": r.line, "how": r.how} for r in m.refs],
                }
                for m in self.models
            ],
        }


def classify(model: TrackedModel | None, today: date) -> tuple[Status, str, list[dict[str, Any]]]:
    """The registry status of a model: (status, one-line detail, its approvals as data)."""
    if model is None:
        return "not approved", "not in the registry", []
    approvals = sorted(model.approvals, key=lambda a: a.id, reverse=True)
    data = [
        {
            "id": a.id,
            "use": a.use.value,
            "state": a.state.value,
            "conditions": a.conditions,
            "expires_on": a.expires_on.isoformat() if a.expires_on else None,
        }
        for a in approvals
    ]
    standing = [a for a in approvals if a.in_force_on(today)]
    if standing:
        uses = ", ".join(
            f"#{a.id} {a.use.value}"
            + (" (expires today: its last day in force)" if a.expires_on == today else "")
            for a in standing
        )
        conditions = [f"{a.use.value}: {a.conditions}" for a in standing if a.conditions]
        if conditions:
            return "approved with conditions", f"{uses}; conditions: {'; '.join(conditions)}", data
        return "approved", uses, data
    by_state = {a.state for a in approvals}
    if ApprovalState.NEEDS_REVIEW in by_state:
        return "in review", "upstream terms changed since it was approved", data
    if ApprovalState.REQUESTED in by_state:
        return "pending", "requested, not decided yet", data
    latest = approvals[0] if approvals else None
    if latest is None:
        return "not approved", "tracked, but nobody requested it", data
    if latest.state is ApprovalState.APPROVED:  # approved but past its expiry date
        return "not approved", f"#{latest.id} expired on {latest.expires_on}", data
    return "not approved", f"#{latest.id} {latest.state.value.replace('_', ' ')}", data


def scan_tree(session: Session, *, root: Path, today: date) -> ScanReport:
    """Find the model ids used under ``root`` and classify each against the registry.

    Raises InvalidInput when ``root`` does not exist.
    """
    refs, files = find_model_refs(root)
    grouped: dict[str, ScannedModel] = {}
    for ref in refs:
        key = ref.repo_id.lower()
        if key not in grouped:
            model = find_model(session, ref.repo_id)
            status, detail, approvals = classify(model, today)
            name = model.repo_id if model is not None else ref.repo_id
            grouped[key] = ScannedModel(name, status, detail, approvals=approvals)
        grouped[key].refs.append(ref)
    order = {"in review": 0, "not approved": 1, "pending": 2}
    models = sorted(grouped.values(), key=lambda m: (order.get(m.status, 3), m.repo_id.lower()))
    return ScanReport(str(root), files, models)
