"""Tables of the license domain: team policy settings and reviewer openness overrides."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from governance.core.db import Base, UTCDateTime
from governance.registry.models import USER_ID_MAX


class PolicySetting(Base):
    __tablename__ = "policy_settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)
    updated_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class OpennessOverride(Base):
    """A reviewer's judgement of one openness component of one model, with its evidence link.

    One row per model and component: setting it again replaces it (the audit trail keeps the
    earlier value); clearing it deletes the row (audited too).
    """

    __tablename__ = "openness_overrides"
    __table_args__ = (UniqueConstraint("model_id", "component"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("tracked_models.id"), index=True)
    component: Mapped[str] = mapped_column(String(30))
    status: Mapped[str] = mapped_column(String(10))
    evidence_url: Mapped[str] = mapped_column(Text)
    reviewer: Mapped[str] = mapped_column(String(USER_ID_MAX))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
