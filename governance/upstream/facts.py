"""Snapshot facts as plain values: built from Hub answers or from a stored row, then compared.

Keeping the comparison on plain values (not ORM rows) lets change detection be a pure function.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from governance.core.fingerprints import fingerprint
from governance.upstream.hub import RepoFiles, RepoStatus
from governance.upstream.lineage import Lineage, is_repo_id, lineage_of
from governance.upstream.models import Snapshot

AVAILABLE = "available"


@dataclass(frozen=True)
class LicenseFileFact:
    """A license-like file of a snapshot: its blob, how it was read, and its text's hash."""

    path: str
    blob_id: str | None
    status: str  # fetched | gated_no_access | missing | too_large | not_text
    content_hash: str | None


@dataclass(frozen=True)
class FileFact:
    """A file of a snapshot's revision: size, git blob id and, for LFS files, their sha256."""

    path: str
    size: int | None
    blob_id: str | None
    lfs_sha256: str | None

    @property
    def identity(self) -> str | None:
        """What changes when the content changes (LFS sha256 for large files)."""
        return self.lfs_sha256 or self.blob_id


@dataclass(frozen=True)
class SnapshotFacts:
    """What the Hub said about a repo at one moment, as plain values (``availability`` is
    ``available`` or why not); ``files`` and ``license_files`` are None when not fetched."""

    repo_id: str
    availability: str = AVAILABLE
    sha: str | None = None
    last_modified: datetime | None = None
    upstream_created_at: datetime | None = None
    gated: str | None = None
    private: bool | None = None
    license: str | None = None
    license_name: str | None = None
    license_link: str | None = None
    license_tags: tuple[str, ...] = ()
    base_model: tuple[str, ...] = ()
    new_version: str | None = None
    gating_prompt: Mapping[str, Any] = field(default_factory=dict)
    tags: tuple[str, ...] = ()
    files: tuple[FileFact, ...] | None = None
    license_files: tuple[LicenseFileFact, ...] | None = None
    # The relation to ``base_model`` (stated on the card or inferred) and where it came from.
    base_model_relation: str | None = None
    lineage_source: str | None = None

    @property
    def lineage(self) -> Lineage | None:
        """The bases and relation this snapshot records; None for an original model.

        Snapshots stored before lineage was recorded get it inferred from their own tags and
        files, exactly as a new snapshot would.
        """
        bases = tuple(b for b in self.base_model if is_repo_id(b))
        if bases and self.base_model_relation and self.lineage_source:
            return Lineage(bases, self.base_model_relation, self.lineage_source)
        return lineage_of(
            base_model=self.base_model,
            relation=None,
            tags=self.tags,
            files=None if self.files is None else [f.path for f in self.files],
        )

    @property
    def license_terms(self) -> dict[str, Any]:
        """The card's license fields, tags sorted (what a license change compares)."""
        return {
            "license": self.license,
            "license_name": self.license_name,
            "license_link": self.license_link,
            "license_tags": sorted(self.license_tags),
        }

    @property
    def license_fingerprint(self) -> str:
        """A hash of everything that defines the terms: card license fields and license texts."""
        texts = sorted((f.path, f.content_hash or f.status) for f in (self.license_files or ()))
        return fingerprint({"terms": self.license_terms, "texts": texts})

    def license_file(self, path: str) -> LicenseFileFact | None:
        """The license file at ``path``, or None when the snapshot has none there."""
        return next((f for f in self.license_files or () if f.path == path), None)


def facts_from_hub(
    status: RepoStatus,
    files: RepoFiles | None,
    *,
    previous: SnapshotFacts | None,
) -> SnapshotFacts:
    """Facts from a status answer and, when fetched, the file list (else carried over).

    License files the client skipped as ``known`` take their hash from ``previous``.
    """
    if files is None and previous is not None:
        file_facts, license_facts = previous.files, previous.license_files
    elif files is None:
        file_facts, license_facts = None, None
    else:
        file_facts = tuple(FileFact(f.path, f.size, f.blob_id, f.lfs_sha256) for f in files.files)
        known = (
            {
                f.blob_id: f.content_hash
                for f in (previous.license_files or ())
                if previous is not None
                if f.blob_id and f.content_hash
            }
            if previous is not None
            else {}
        )
        license_facts = tuple(
            LicenseFileFact(
                lf.path,
                lf.blob_id,
                "fetched" if lf.status == "known" else lf.status,
                known.get(lf.blob_id or "") if lf.status == "known" else lf.content_hash,
            )
            for lf in files.license_files
        )
    lineage = lineage_of(
        base_model=status.base_model,
        relation=status.base_model_relation,
        tags=status.tags,
        files=None if file_facts is None else [f.path for f in file_facts],
    )
    return SnapshotFacts(
        repo_id=status.repo_id,
        sha=status.sha,
        last_modified=status.last_modified,
        upstream_created_at=status.created_at,
        gated=status.gated,
        private=status.private,
        license=status.license,
        license_name=status.license_name,
        license_link=status.license_link,
        license_tags=tuple(status.license_tags),
        base_model=tuple(status.base_model),
        new_version=status.new_version,
        gating_prompt=dict(status.gating_prompt),
        tags=tuple(status.tags),
        files=file_facts,
        license_files=license_facts,
        base_model_relation=lineage.relation if lineage else None,
        lineage_source=lineage.source if lineage else None,
    )


def unavailable_facts(repo_id: str, reason: str, previous: SnapshotFacts | None) -> SnapshotFacts:
    """Facts for a repo the Hub no longer shows us; card facts are unknown, not removed."""
    return SnapshotFacts(
        repo_id=repo_id,
        availability=reason,
        license_files=previous.license_files if previous else None,
    )


def facts_from_row(row: Snapshot) -> SnapshotFacts:
    """The facts a stored snapshot row holds."""
    return SnapshotFacts(
        repo_id=row.repo_id,
        availability=row.availability,
        sha=row.sha,
        last_modified=row.last_modified,
        upstream_created_at=row.upstream_created_at,
        gated=row.gated,
        private=row.private,
        license=row.license,
        license_name=row.license_name,
        license_link=row.license_link,
        license_tags=tuple(row.license_tags or ()),
        base_model=tuple(row.base_model or ()),
        new_version=row.new_version,
        gating_prompt=dict(row.gating_prompt or {}),
        tags=tuple(row.tags or ()),
        files=None if row.files is None else tuple(FileFact(**f) for f in row.files),
        license_files=None
        if row.license_files is None
        else tuple(LicenseFileFact(**f) for f in row.license_files),
        base_model_relation=row.base_model_relation,
        lineage_source=row.lineage_source,
    )


def row_from_facts(facts: SnapshotFacts, *, model_id: int, taken_at: datetime) -> Snapshot:
    """A new (unsaved) snapshot row for ``facts`` of model ``model_id``, taken at ``taken_at``;
    the license names and the newer version are cut to their columns' length."""
    return Snapshot(
        model_id=model_id,
        taken_at=taken_at,
        availability=facts.availability,
        repo_id=facts.repo_id,
        sha=facts.sha,
        last_modified=facts.last_modified,
        upstream_created_at=facts.upstream_created_at,
        gated=facts.gated,
        private=facts.private,
        license=_cut(facts.license, 200),
        license_name=_cut(facts.license_name, 200),
        license_link=facts.license_link,
        license_tags=list(facts.license_tags),
        base_model=list(facts.base_model),
        new_version=_cut(facts.new_version, 200),
        gating_prompt=dict(facts.gating_prompt),
        tags=list(facts.tags),
        files=None if facts.files is None else [vars(f) | {} for f in facts.files],
        license_files=None
        if facts.license_files is None
        else [vars(f) | {} for f in facts.license_files],
        license_fingerprint=facts.license_fingerprint,
        base_model_relation=facts.base_model_relation,
        lineage_source=_cut(facts.lineage_source, 300),
    )


def _cut(value: str | None, limit: int) -> str | None:
    return value if value is None or len(value) <= limit else value[:limit]


def status_differs(previous: SnapshotFacts, status: RepoStatus) -> bool:
    """Whether a status answer holds anything the previous snapshot does not (same sha)."""
    return (
        previous.availability != AVAILABLE
        or previous.sha != status.sha
        or previous.repo_id != status.repo_id
        or previous.gated != status.gated
        or previous.private != status.private
        or previous.license_terms
        != {
            "license": status.license,
            "license_name": status.license_name,
            "license_link": status.license_link,
            "license_tags": sorted(status.license_tags),
        }
        or previous.new_version != status.new_version
        or dict(previous.gating_prompt) != dict(status.gating_prompt)
        or tuple(previous.base_model) != tuple(status.base_model)
    )
