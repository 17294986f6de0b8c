"""Tables of the registry: tracked models, their aliases, approvals, approvers, audit events."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from governance.core.db import Base, UTCDateTime

REPO_ID_MAX = 96
USER_ID_MAX = 64


class ApprovalState(StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"
    REJECTED = "rejected"
    NEEDS_REVIEW = "needs_review"
    REVOKED = "revoked"
    EXPIRED = "expired"


# States in which an approval still stands for its model and use (a new request is refused).
OPEN_STATES = (ApprovalState.REQUESTED, ApprovalState.APPROVED, ApprovalState.NEEDS_REVIEW)


class IntendedUse(StrEnum):
    RESEARCH = "research"
    INTERNAL = "internal"
    COMMERCIAL = "commercial"


class ApproverKind(StrEnum):
    USER = "user"
    USERGROUP = "usergroup"


def _enum(kind: type[StrEnum], name: str) -> Enum:
    return Enum(
        kind,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=20,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


class TrackedModel(Base):
    """A Hub repository the team tracks. ``repo_key`` is the case-folded id the Hub matches on."""

    __tablename__ = "tracked_models"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    repo_id: Mapped[str] = mapped_column(String(REPO_ID_MAX))
    repo_key: Mapped[str] = mapped_column(String(REPO_ID_MAX), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    added_by: Mapped[str] = mapped_column(String(USER_ID_MAX))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime())
    watched: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))

    aliases: Mapped[list[ModelAlias]] = relationship(
        back_populates="model", order_by="ModelAlias.id"
    )
    approvals: Mapped[list[Approval]] = relationship(back_populates="model", order_by="Approval.id")


class ModelAlias(Base):
    """An earlier id of a tracked model (after an upstream rename), still resolvable."""

    __tablename__ = "model_aliases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("tracked_models.id"), index=True)
    alias: Mapped[str] = mapped_column(String(REPO_ID_MAX))
    alias_key: Mapped[str] = mapped_column(String(REPO_ID_MAX), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    model: Mapped[TrackedModel] = relationship(back_populates="aliases")


class Approval(Base):
    """One request to use a model for one intended use, and what was decided about it."""

    __tablename__ = "approvals"
    __table_args__ = (
        # At most one standing approval per model and use, even under racing requests.
        Index(
            "uq_approvals_open_per_use",
            "model_id",
            "use",
            unique=True,
            sqlite_where=text("state IN ('requested', 'approved', 'needs_review')"),
            postgresql_where=text("state IN ('requested', 'approved', 'needs_review')"),
        ),
        Index("ix_approvals_state", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("tracked_models.id"), index=True)
    use: Mapped[IntendedUse] = mapped_column(_enum(IntendedUse, "intended_use"))
    state: Mapped[ApprovalState] = mapped_column(_enum(ApprovalState, "approval_state"))
    reason: Mapped[str] = mapped_column(Text, default="")
    conditions: Mapped[str | None] = mapped_column(Text)
    expires_on: Mapped[date | None] = mapped_column(Date)
    revision_sha: Mapped[str | None] = mapped_column(String(64))
    license_fingerprint: Mapped[str | None] = mapped_column(String(64))
    requested_by: Mapped[str] = mapped_column(String(USER_ID_MAX))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_by: Mapped[str | None] = mapped_column(String(USER_ID_MAX))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decision_reason: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    model: Mapped[TrackedModel] = relationship(back_populates="approvals")

    def snapshot(self) -> dict[str, Any]:
        """The fields an audit event records as before/after."""
        return {
            "state": self.state.value,
            "use": self.use.value,
            "conditions": self.conditions,
            "expires_on": self.expires_on.isoformat() if self.expires_on else None,
            "revision_sha": self.revision_sha,
            "license_fingerprint": self.license_fingerprint,
            "decided_by": self.decided_by,
        }


class Approver(Base):
    """A person (or, with Slack, a user group) allowed to decide, besides MODELGOV_APPROVERS."""

    __tablename__ = "approvers"
    __table_args__ = (UniqueConstraint("kind", "principal"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[ApproverKind] = mapped_column(_enum(ApproverKind, "approver_kind"))
    principal: Mapped[str] = mapped_column(String(USER_ID_MAX))
    added_by: Mapped[str] = mapped_column(String(USER_ID_MAX))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime())


class RequestCard(Base):
    """Where a request's card was posted (e.g. a Slack channel and message ts), to update it."""

    __tablename__ = "request_cards"

    approval_id: Mapped[int] = mapped_column(ForeignKey("approvals.id"), primary_key=True)
    destination: Mapped[str] = mapped_column(String(100))
    message_ref: Mapped[str] = mapped_column(String(64))
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AuditEvent(Base):
    """Append-only record of a state change, written in the same transaction as the change."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_model_id_at", "model_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(USER_ID_MAX))
    action: Mapped[str] = mapped_column(String(40))
    model_id: Mapped[int | None] = mapped_column(ForeignKey("tracked_models.id"))
    approval_id: Mapped[int | None] = mapped_column(ForeignKey("approvals.id"), index=True)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    detail: Mapped[str | None] = mapped_column(Text)


@event.listens_for(AuditEvent, "before_update")
@event.listens_for(AuditEvent, "before_delete")
def _audit_is_append_only(_mapper: Any, _connection: Any, target: AuditEvent) -> None:
    raise RuntimeError(f"audit event {target.id} is append-only")
