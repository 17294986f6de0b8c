"""Tables of the registry: tracked models, their aliases, approvals, approvers, audit events.

An approval's expiry date is the last day it is in force, like a card's "valid through": one
expiring on D allows use through the end of D (the clock's UTC date) and has expired from D+1.
``expiry_in_force_on``, ``Approval.past_expiry_on`` and ``Approval.in_force_on`` are that rule, in
Python and as SQL conditions; every surface asks them.
"""

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
    and_,
    event,
    or_,
    text,
)
from sqlalchemy.ext.hybrid import hybrid_method
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.sql.elements import ColumnElement

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


def expiry_in_force_on(expires_on: date | None, day: date) -> bool:
    """True when an approval expiring on ``expires_on`` (None: never) is still in force on ``day``.

    The expiry date itself is the last day in force.
    """
    return expires_on is None or day <= expires_on


class IntendedUse(StrEnum):
    RESEARCH = "research"
    INTERNAL = "internal"
    COMMERCIAL = "commercial"


class ApproverKind(StrEnum):
    USER = "user"
    USERGROUP = "usergroup"


class AuditChannel(StrEnum):
    """The surface an audited change came through (stored on every audit event since 0008).

    ``watcher``: the upstream recheck (scheduled, webhook-queued or run by hand) acting on what
    it found; ``scheduler``: the timed jobs (expiry, digest). Never rename a value.
    """

    SLACK = "slack"
    CONSOLE = "console"
    CLI = "cli"
    WATCHER = "watcher"
    SCHEDULER = "scheduler"


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

    # Each rule is a hybrid: on a row it answers in Python, on the class it is the same rule as a
    # SQL condition (``select(Approval).where(Approval.in_force_on(day))``). Built with
    # hybrid_method(python, sql) rather than the decorator, whose ``.expression`` mypy cannot see.

    def _past_expiry_on(self, day: date) -> bool:
        """True when ``day`` is after the expiry date (so from the day after it; never without one).

        Whatever the state: the expiry job expires approved and in-review approvals for which
        this holds, and readers treat an approved one as expired even before the job ran.
        """
        return not expiry_in_force_on(self.expires_on, day)

    @classmethod
    def _past_expiry_on_sql(cls, day: date) -> ColumnElement[bool]:
        # NULL (no expiry) never compares true, so an approval without one is never selected.
        return and_(cls.expires_on.is_not(None), cls.expires_on < day)

    past_expiry_on = hybrid_method(_past_expiry_on, _past_expiry_on_sql)

    def _in_force_on(self, day: date) -> bool:
        """True when the approval allows use of its model on ``day``.

        That is: it is approved, and ``day`` is on or before its expiry date (if it has one).
        """
        return self.state is ApprovalState.APPROVED and expiry_in_force_on(self.expires_on, day)

    @classmethod
    def _in_force_on_sql(cls, day: date) -> ColumnElement[bool]:
        return and_(
            cls.state == ApprovalState.APPROVED,
            or_(cls.expires_on.is_(None), cls.expires_on >= day),
        )

    in_force_on = hybrid_method(_in_force_on, _in_force_on_sql)

    def audited_fields(self) -> dict[str, Any]:
        """The fields an audit event records as its before/after, as JSON-able values."""
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
    # Where it was added (``/models approvers add`` in Slack, the console or the CLI); None
    # for rows older than migration 0008.
    added_via: Mapped[AuditChannel | None] = mapped_column(_enum(AuditChannel, "audit_channel"))


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
    # The surface it came through, and for the console and CLI the operating-system account
    # that ran it (``actor`` is the name acted as, which ``--as`` may have claimed). None on
    # events written before migration 0008.
    channel: Mapped[AuditChannel | None] = mapped_column(_enum(AuditChannel, "audit_channel"))
    os_user: Mapped[str | None] = mapped_column(String(USER_ID_MAX))


@event.listens_for(AuditEvent, "before_update")
@event.listens_for(AuditEvent, "before_delete")
def _audit_is_append_only(_mapper: Any, _connection: Any, target: AuditEvent) -> None:
    raise RuntimeError(f"audit event {target.id} is append-only")
