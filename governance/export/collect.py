"""What an export says about each tracked model: identity, license, approvals, openness.

One read over the registry and the latest snapshots; the writers (CycloneDX, CSV, JSON) only
format these rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from governance.licenses.knowledge import LicenseTerms
from governance.registry.models import TrackedModel
from governance.registry.standing import standing_on
from governance.upstream.snapshot_evidence import latest_evidence

# Hub pipeline tags that name a model's task (the card's pipeline_tag shows up among the tags).
TASKS = frozenset(
    {
        "text-generation",
        "text2text-generation",
        "fill-mask",
        "feature-extraction",
        "sentence-similarity",
        "text-classification",
        "token-classification",
        "question-answering",
        "summarization",
        "translation",
        "image-classification",
        "image-text-to-text",
        "automatic-speech-recognition",
        "text-to-image",
        "text-to-speech",
        "zero-shot-classification",
    }
)


@dataclass(frozen=True)
class ExportRow:
    """One tracked model as exported."""

    repo_id: str
    sha: str | None  # the latest snapshot's commit, else an approval's pinned revision
    status: str  # approved / approved with conditions / pending / in review / not approved
    status_detail: str
    license_id: str | None
    terms: LicenseTerms | None
    declared_license: str | None
    approvals: tuple[dict[str, Any], ...]
    tags: tuple[str, ...]
    gated: str | None
    datasets: tuple[str, ...]
    task: str | None
    openness: dict[str, str]  # framework -> result
    findings: tuple[str, ...]  # identification warnings and errors

    @property
    def namespace(self) -> str:
        return self.repo_id.split("/", 1)[0]

    @property
    def name(self) -> str:
        return self.repo_id.split("/", 1)[1]


def collect(session: Session, *, today: date) -> list[ExportRow]:
    """Every tracked model, by repo id, with what the registry and the latest snapshot say."""
    models = session.scalars(
        select(TrackedModel)
        .options(selectinload(TrackedModel.approvals))
        .order_by(TrackedModel.repo_key)
    ).all()
    rows: list[ExportRow] = []
    for model in models:
        status, detail, approvals = standing_on(model, today)
        pinned = [a.revision_sha for a in model.approvals if a.revision_sha]
        for data, approval in zip(
            approvals, sorted(model.approvals, key=lambda a: a.id, reverse=True), strict=True
        ):
            data.update(decided_by=approval.decided_by, revision_sha=approval.revision_sha)
        found = latest_evidence(session, model)
        evidence = found.evidence if found else None
        tags = tuple(found.facts.tags) if found else ()
        rows.append(
            ExportRow(
                repo_id=model.repo_id,
                sha=(evidence.sha if evidence else None) or (pinned[-1] if pinned else None),
                status=status,
                status_detail=detail,
                license_id=evidence.license_id if evidence else None,
                terms=evidence.terms if evidence else None,
                declared_license=found.facts.license if found else None,
                approvals=tuple(approvals),
                tags=tags,
                gated=evidence.gated if evidence else None,
                datasets=tuple(t.split(":", 1)[1] for t in tags if t.startswith("dataset:")),
                task=next((t for t in tags if t in TASKS), None),
                openness={
                    v.framework: v.result
                    for v in (found.openness.spectrum, found.openness.osi, found.openness.mof)
                }
                if found
                else {},
                findings=tuple(f.message for f in evidence.findings if f.severity != "info")
                if evidence
                else (),
            )
        )
    return rows
