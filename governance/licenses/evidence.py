"""What the latest upstream snapshot says about a model's license and openness.

Joins the watcher's facts (card license fields, tags, files, license texts stored by hash) with
identification and the openness assessment. Pure over ``SnapshotFacts`` plus a text lookup, so
the watcher hook, the commands and the policy evaluation all read the same evidence.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from governance.licenses.identify import (
    Finding,
    MetadataIdentification,
    TextIdentification,
    identify_metadata,
    identify_text,
    reconcile,
)
from governance.licenses.knowledge import KnowledgeBase, LicenseTerms, load_knowledge_base
from governance.licenses.models import OpennessOverride
from governance.licenses.openness import (
    OpennessAssessment,
    OpennessFacts,
    Override,
    assess_openness,
)
from governance.registry.models import TrackedModel
from governance.upstream.facts import AVAILABLE, LicenseFileFact, SnapshotFacts, facts_from_row
from governance.upstream.models import LicenseText, Snapshot, WatchState

TextState = Literal["present", "unreadable", "missing", "unknown"]


@dataclass(frozen=True)
class FileIdentification:
    """One license-like file of the snapshot and what its text is (None when unread)."""

    path: str
    status: str
    identification: TextIdentification | None


@dataclass(frozen=True)
class LicenseEvidence:
    """The license picture of one snapshot, for people and for policy rules."""

    repo_id: str
    snapshot_id: int | None
    sha: str | None
    taken_at: datetime | None
    availability: str
    gated: str | None
    metadata: MetadataIdentification
    files: tuple[FileIdentification, ...]
    license_text: TextIdentification | None
    use_policy: TextIdentification | None
    findings: tuple[Finding, ...]
    license_ids: tuple[str, ...]  # every license the evidence names, the governing one first
    terms: LicenseTerms | None  # terms of the governing license (None: not identified)
    text_state: TextState

    @property
    def license_id(self) -> str | None:
        """The governing license: the LICENSE text when identified, else the card's."""
        return self.license_ids[0] if self.license_ids else None


def _is_policy(path: str) -> bool:
    return path.rsplit("/", 1)[-1].upper().startswith("USE_POLICY")


def _is_license(path: str) -> bool:
    return path.rsplit("/", 1)[-1].upper().startswith(("LICENSE", "LICENCE"))


def _primary(files: Sequence[LicenseFileFact], match: Callable[[str], bool]) -> LicenseFileFact:
    """The top-level, shortest-named file among ``files`` that ``match`` (callers ensure one)."""
    return min((f for f in files if match(f.path)), key=lambda f: (f.path.count("/"), len(f.path)))


def evidence_from_facts(
    facts: SnapshotFacts,
    text_of: Callable[[str], str | None],
    *,
    snapshot_id: int | None = None,
    taken_at: datetime | None = None,
    kb: KnowledgeBase | None = None,
) -> LicenseEvidence:
    """Identify the card's license and the license texts of ``facts``; returns the evidence.

    ``text_of`` returns a stored license text by content hash (None when not stored).
    """
    kb = kb or load_knowledge_base()
    declared = [p.strip() for p in (facts.license or "").split(",") if p.strip()]
    card = {
        "license": declared or None,
        "license_name": facts.license_name,
        "license_link": facts.license_link,
    }
    tags = list(facts.tags) + [
        f"license:{t}" for t in facts.license_tags if f"license:{t}" not in facts.tags
    ]
    metadata = identify_metadata(card, tags, kb=kb)
    files: list[FileIdentification] = []
    for item in facts.license_files or ():
        text = text_of(item.content_hash) if item.content_hash else None
        found = identify_text(text, kb=kb) if text is not None else None
        files.append(FileIdentification(item.path, item.status, found))
    by_path = {f.path: f for f in files}
    readable = [f for f in facts.license_files or () if by_path[f.path].identification]
    licenses = [f for f in readable if _is_license(f.path)]
    policies = [f for f in readable if _is_policy(f.path)]
    license_text = (
        by_path[_primary(licenses, _is_license).path].identification if licenses else None
    )
    use_policy = by_path[_primary(policies, _is_policy).path].identification if policies else None
    findings = list(reconcile(metadata, license_text, use_policy, kb=kb))
    text_state = _text_state(facts, licenses)
    if text_state == "unreadable":
        findings = [f for f in findings if f.code != "no_license_text"]
        findings.insert(
            0,
            Finding(
                "text_unreadable",
                "warning",
                "The repository has a LICENSE file but it is gated and our token cannot read it.",
            ),
        )
    elif text_state == "unknown":
        findings = [f for f in findings if f.code != "no_license_text"]
    ids: list[str] = []
    if license_text and license_text.identified and license_text.document == "license":
        ids.append(str(license_text.license_id))
    if metadata.license_id:
        ids.append(metadata.license_id)
    for tag in metadata.tag_ids:
        terms = kb.find(tag)
        if terms is not None and terms.id not in ("other", "unknown"):
            ids.append(terms.id)
    license_ids = tuple(dict.fromkeys(ids))
    return LicenseEvidence(
        repo_id=facts.repo_id,
        snapshot_id=snapshot_id,
        sha=facts.sha,
        taken_at=taken_at,
        availability=facts.availability,
        gated=facts.gated if facts.gated not in (None, "false") else None,
        metadata=metadata,
        files=tuple(files),
        license_text=license_text,
        use_policy=use_policy,
        findings=tuple(findings),
        license_ids=license_ids,
        terms=kb.find(license_ids[0]) if license_ids else None,
        text_state=text_state,
    )


def _text_state(facts: SnapshotFacts, readable_licenses: list[LicenseFileFact]) -> TextState:
    if facts.license_files is None:
        return "unknown"
    if readable_licenses:
        return "present"
    if any(_is_license(f.path) and f.status == "gated_no_access" for f in facts.license_files):
        return "unreadable"
    return "missing"


def openness_facts(
    facts: SnapshotFacts, evidence: LicenseEvidence, overrides: Mapping[str, Override]
) -> OpennessFacts:
    """The inputs of ``assess_openness`` for one snapshot (the card text is not stored)."""
    return OpennessFacts(
        license_id=evidence.license_id,
        terms=evidence.terms,
        tags=tuple(facts.tags),
        card_data={"license": facts.license} if facts.license else {},
        files=tuple(f.path for f in facts.files or ()),
        gated=evidence.gated or False,
        overrides=overrides,
    )


# ---------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class ModelEvidence:
    """The latest available snapshot of a model, its license evidence and openness."""

    model: TrackedModel
    facts: SnapshotFacts
    evidence: LicenseEvidence
    openness: OpennessAssessment


def stored_text(session: Session) -> Callable[[str], str | None]:
    """A ``text_of`` lookup over the ``license_texts`` table."""

    def text_of(content_hash: str) -> str | None:
        row = session.get(LicenseText, content_hash)
        return row.text if row else None

    return text_of


def overrides_for(session: Session, model: TrackedModel) -> dict[str, Override]:
    """The model's reviewer overrides, by component."""
    rows = session.scalars(select(OpennessOverride).where(OpennessOverride.model_id == model.id))
    return {
        r.component: Override(r.status, r.evidence_url, r.reviewer)  # type: ignore[arg-type]
        for r in rows
    }


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


def evidence_for_facts(
    session: Session,
    model: TrackedModel,
    facts: SnapshotFacts,
    *,
    snapshot_id: int | None = None,
    taken_at: datetime | None = None,
) -> ModelEvidence:
    """Evidence and openness of ``facts`` for ``model`` (texts and overrides from the DB)."""
    evidence = evidence_from_facts(
        facts, stored_text(session), snapshot_id=snapshot_id, taken_at=taken_at
    )
    openness = assess_openness(openness_facts(facts, evidence, overrides_for(session, model)))
    return ModelEvidence(model, facts, evidence, openness)


def latest_evidence(session: Session, model: TrackedModel) -> ModelEvidence | None:
    """Evidence from the latest available snapshot; None when the model was never seen."""
    row = latest_available_snapshot(session, model)
    if row is None:
        return None
    return evidence_for_facts(
        session, model, facts_from_row(row), snapshot_id=row.id, taken_at=row.taken_at
    )
