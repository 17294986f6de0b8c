"""Upstream facts: immutable snapshots, license texts by hash, checks, changes, cycles.

Snapshots are never edited: a change is computed by diffing the newest snapshot with the one
before. A check that finds nothing new writes only a check row.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column

from governance.core.db import Base, UTCDateTime
from governance.registry.models import REPO_ID_MAX


class LicenseText(Base):
    """A normalized license text, stored once per content hash."""

    __tablename__ = "license_texts"

    content_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Snapshot(Base):
    """What the Hub said about a model at one moment. ``availability`` is ``available`` or why
    not (``not_found``, ``gated_no_access``, ``disabled``)."""

    __tablename__ = "upstream_snapshots"
    __table_args__ = (Index("ix_upstream_snapshots_model_id_id", "model_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("tracked_models.id"))
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime())
    availability: Mapped[str] = mapped_column(String(20))
    repo_id: Mapped[str] = mapped_column(String(REPO_ID_MAX))
    sha: Mapped[str | None] = mapped_column(String(64))
    last_modified: Mapped[datetime | None] = mapped_column(UTCDateTime())
    upstream_created_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    gated: Mapped[str | None] = mapped_column(String(10))
    private: Mapped[bool | None] = mapped_column(Boolean)
    license: Mapped[str | None] = mapped_column(String(200))
    license_name: Mapped[str | None] = mapped_column(String(200))
    license_link: Mapped[str | None] = mapped_column(Text)
    license_tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    base_model: Mapped[list[str]] = mapped_column(JSON, default=list)
    new_version: Mapped[str | None] = mapped_column(String(200))
    gating_prompt: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    # [{path, size, blob_id, lfs_sha256}] and [{path, blob_id, status, content_hash}]
    files: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    license_files: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    license_fingerprint: Mapped[str] = mapped_column(String(64))
    # Lineage (issue 14): the relation to ``base_model`` and where it came from (the card's
    # base_model_relation, or "inferred from ..." tags and files). NULL for original models
    # and for snapshots stored before lineage was recorded.
    base_model_relation: Mapped[str | None] = mapped_column(String(20))
    lineage_source: Mapped[str | None] = mapped_column(String(300))


class SnapshotBase(Base):
    """One base model a snapshot names, indexed by its case-folded id: "which watched models
    derive from X" is one indexed join from a model's latest snapshot. Immutable like the
    snapshot it belongs to."""

    __tablename__ = "snapshot_bases"
    __table_args__ = (Index("ix_snapshot_bases_base_key", "base_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    snapshot_id: Mapped[int] = mapped_column(ForeignKey("upstream_snapshots.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)  # order on the card, from 0
    base_repo_id: Mapped[str] = mapped_column(String(REPO_ID_MAX))
    base_key: Mapped[str] = mapped_column(String(REPO_ID_MAX))
    relation: Mapped[str] = mapped_column(String(20))


class RecheckCycle(Base):
    """One pass over every watched model (scheduled or asked for)."""

    __tablename__ = "recheck_cycles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    trigger: Mapped[str] = mapped_column(String(20))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    checked: Mapped[int] = mapped_column(Integer, default=0)
    changed: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    requests: Mapped[int] = mapped_column(Integer, default=0)


class Check(Base):
    """One look at one model: ``first``, ``unchanged``, ``changed`` or ``failed`` (+ error)."""

    __tablename__ = "upstream_checks"
    __table_args__ = (Index("ix_upstream_checks_model_id_id", "model_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("tracked_models.id"))
    cycle_id: Mapped[int | None] = mapped_column(ForeignKey("recheck_cycles.id"))
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime())
    outcome: Mapped[str] = mapped_column(String(20))
    error: Mapped[str | None] = mapped_column(Text)
    requests: Mapped[int] = mapped_column(Integer, default=0)
    snapshot_id: Mapped[int | None] = mapped_column(ForeignKey("upstream_snapshots.id"))


class WatchState(Base):
    """Per model: the latest snapshot and the failure streak (for unreachable alerts)."""

    __tablename__ = "watch_states"

    model_id: Mapped[int] = mapped_column(ForeignKey("tracked_models.id"), primary_key=True)
    latest_snapshot_id: Mapped[int | None] = mapped_column(ForeignKey("upstream_snapshots.id"))
    last_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    unreachable_alerted: Mapped[bool] = mapped_column(Boolean, default=False)
    last_error: Mapped[str | None] = mapped_column(Text)


class Change(Base):
    """A difference between two snapshots (or a family release), with before and after."""

    __tablename__ = "upstream_changes"
    __table_args__ = (Index("ix_upstream_changes_model_id_id", "model_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("tracked_models.id"))
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime())
    kind: Mapped[str] = mapped_column(String(40))
    summary: Mapped[str] = mapped_column(Text)
    before: Mapped[Any] = mapped_column(JSON)
    after: Mapped[Any] = mapped_column(JSON)
    diff: Mapped[str | None] = mapped_column(Text)
    fingerprint: Mapped[str] = mapped_column(String(64))
    from_snapshot_id: Mapped[int | None] = mapped_column(ForeignKey("upstream_snapshots.id"))
    to_snapshot_id: Mapped[int | None] = mapped_column(ForeignKey("upstream_snapshots.id"))


class AuthorRepo(Base):
    """A repo seen in an author's listing; new ones after the first listing are releases."""

    __tablename__ = "author_repos"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    author: Mapped[str] = mapped_column(String(REPO_ID_MAX), index=True)
    repo_key: Mapped[str] = mapped_column(String(REPO_ID_MAX), unique=True)
    repo_id: Mapped[str] = mapped_column(String(REPO_ID_MAX))
    upstream_created_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())


@event.listens_for(Snapshot, "before_update")
@event.listens_for(SnapshotBase, "before_update")
@event.listens_for(LicenseText, "before_update")
def _upstream_facts_are_immutable(_mapper: Any, _connection: Any, target: object) -> None:
    raise RuntimeError(f"{type(target).__name__} rows are immutable; record a new snapshot")
