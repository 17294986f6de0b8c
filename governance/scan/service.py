"""Classifying the model ids a code tree uses against the registry: a governance gate for CI."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from governance.registry.standing import Standing, standing_on
from governance.registry.tracking import find_model
from governance.scan.finder import ModelRef, find_model_refs

BLOCKING: frozenset[Standing] = frozenset({"pending", "in review", "not approved"})


@dataclass
class ScannedModel:
    """One model id found in the tree, its registry status and every place it is used."""

    repo_id: str
    status: Standing
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
            status, detail, approvals = standing_on(model, today)
            name = model.repo_id if model is not None else ref.repo_id
            grouped[key] = ScannedModel(name, status, detail, approvals=approvals)
        grouped[key].refs.append(ref)
    order = {"in review": 0, "not approved": 1, "pending": 2}
    models = sorted(grouped.values(), key=lambda m: (order.get(m.status, 3), m.repo_id.lower()))
    return ScanReport(str(root), files, models)
