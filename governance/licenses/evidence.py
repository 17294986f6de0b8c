"""What a snapshot's facts say about a model's license and openness.

Joins the watcher's facts (card license fields, tags, files, license texts stored by hash) with
identification and the openness assessment. Pure over ``RepoFacts`` plus a text lookup, so the
watcher hook, the commands and the policy evaluation all read the same evidence; reading the
facts and texts from stored snapshots is ``governance.upstream.snapshot_evidence``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from governance.licenses.identify import (
    Finding,
    MetadataIdentification,
    TextIdentification,
    identify_metadata,
    identify_text,
    reconcile,
)
from governance.licenses.knowledge import KnowledgeBase, LicenseTerms, load_knowledge_base
from governance.licenses.openness import (
    OpennessAssessment,
    OpennessFacts,
    Override,
    assess_openness,
)
from governance.registry.models import TrackedModel


# The facts are upstream's (``governance.upstream.facts.SnapshotFacts`` has these fields), and
# upstream builds on licenses: so licenses names only what it reads, as read-only protocols.
class RepoFile(Protocol):
    """A file of the repository, as listed in a snapshot."""

    @property
    def path(self) -> str: ...


class RepoLicenseFile(Protocol):
    """A license-like file of the snapshot: its fetch status and stored text's hash."""

    @property
    def path(self) -> str: ...

    @property
    def status(self) -> str: ...  # fetched | gated_no_access | missing | too_large | not_text

    @property
    def content_hash(self) -> str | None: ...


class RepoFacts(Protocol):
    """What one snapshot says about a repository, as far as its license is concerned."""

    @property
    def repo_id(self) -> str: ...

    @property
    def availability(self) -> str: ...

    @property
    def sha(self) -> str | None: ...

    @property
    def gated(self) -> str | None: ...

    @property
    def license(self) -> str | None: ...

    @property
    def license_name(self) -> str | None: ...

    @property
    def license_link(self) -> str | None: ...

    @property
    def license_tags(self) -> Sequence[str]: ...

    @property
    def tags(self) -> Sequence[str]: ...

    @property
    def files(self) -> Sequence[RepoFile] | None: ...

    @property
    def license_files(self) -> Sequence[RepoLicenseFile] | None: ...


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


def _primary(files: Sequence[RepoLicenseFile], match: Callable[[str], bool]) -> RepoLicenseFile:
    """The top-level, shortest-named file among ``files`` that ``match`` (callers ensure one)."""
    return min((f for f in files if match(f.path)), key=lambda f: (f.path.count("/"), len(f.path)))


def evidence_from_facts(
    facts: RepoFacts,
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


def _text_state(facts: RepoFacts, readable_licenses: list[RepoLicenseFile]) -> TextState:
    if facts.license_files is None:
        return "unknown"
    if readable_licenses:
        return "present"
    if any(_is_license(f.path) and f.status == "gated_no_access" for f in facts.license_files):
        return "unreadable"
    return "missing"


def openness_facts(
    facts: RepoFacts, evidence: LicenseEvidence, overrides: Mapping[str, Override]
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


@dataclass(frozen=True)
class ModelEvidence:
    """One snapshot of a model (mostly the latest available), its license evidence and openness."""

    model: TrackedModel
    facts: RepoFacts
    evidence: LicenseEvidence
    openness: OpennessAssessment


def model_evidence(
    model: TrackedModel,
    facts: RepoFacts,
    text_of: Callable[[str], str | None],
    overrides: Mapping[str, Override],
    *,
    snapshot_id: int | None = None,
    taken_at: datetime | None = None,
) -> ModelEvidence:
    """Evidence and openness of ``facts`` for ``model``, with its reviewer ``overrides``.

    ``text_of`` returns a stored license text by content hash (None when not stored).
    """
    evidence = evidence_from_facts(facts, text_of, snapshot_id=snapshot_id, taken_at=taken_at)
    openness = assess_openness(openness_facts(facts, evidence, overrides))
    return ModelEvidence(model, facts, evidence, openness)
