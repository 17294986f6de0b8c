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

from governance.flows.lineage_view import coverage
from governance.licenses.knowledge import LicenseTerms
from governance.licenses.policy_rules import load_policy
from governance.registry.models import TrackedModel
from governance.registry.standing import standing_on
from governance.upstream.lineage_queries import derivative_binding_for
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
    # Lineage: the bases the card names, the relation (stated or inferred, and where from) and
    # the licenses that bind the model through its bases (empty: its own terms bind).
    bases: tuple[str, ...] = ()
    relation: str | None = None
    relation_source: str | None = None
    binding_terms: tuple[LicenseTerms, ...] = ()

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
    inherit = load_policy(session).inherit
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
        bound = derivative_binding_for(session, model, evidence) if evidence else None
        findings = [*(evidence.findings if evidence else ()), *(bound[1].findings if bound else ())]
        covering = (
            coverage(session, model, today=today, lineage=bound[0].lineage, inherit=inherit)
            if bound and status in ("pending", "in review", "not approved")
            else []
        )
        if covering:  # approved through its base (policy derivatives: inherit)
            status, detail = "approved", "; ".join(c.describe() for c in covering)
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
                findings=tuple(f.message for f in findings if f.severity != "info"),
                bases=bound[0].lineage.bases if bound else (),
                relation=bound[0].lineage.relation if bound else None,
                relation_source=bound[0].lineage.source if bound else None,
                binding_terms=bound[1].binding_terms if bound else (),
            )
        )
    return rows
