"""Reviewer overrides of openness components: set and clear, approvers only, audited."""

from __future__ import annotations

import re
from typing import cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from governance.core.clock import Clock
from governance.core.errors import InvalidInput, NotFound
from governance.licenses.models import OpennessOverride
from governance.licenses.openness import COMPONENTS, Override, Status
from governance.registry import audit
from governance.registry.approvers import ApproverDirectory, require_approver
from governance.registry.models import TrackedModel
from governance.registry.tracking import get_model
from governance.registry.validation import shorten

OVERRIDE_STATUSES = ("open", "partial", "closed")
URL_MAX = 500
_URL = re.compile(r"^https?://[^\s/$.?#][^\s<>|]*$", re.IGNORECASE)


def parse_component(value: str) -> str:
    """Return the component named by ``value`` (``training-code`` or ``training_code``)."""
    name = value.strip().lower().replace("-", "_")
    if name not in COMPONENTS:
        names = ", ".join(c.replace("_", "-") for c in COMPONENTS)
        raise InvalidInput(f"Unknown openness component {shorten(value)}; expected one of {names}.")
    return name


def parse_status(value: str) -> str:
    """Return ``open``, ``partial`` or ``closed``; raise InvalidInput for anything else."""
    status = value.strip().lower()
    if status not in OVERRIDE_STATUSES:
        raise InvalidInput(
            f"Unknown openness status {shorten(value)}; expected open, partial or closed."
        )
    return status


def validate_evidence_url(value: str) -> str:
    """Return ``value`` if it is an http(s) link of at most URL_MAX characters."""
    url = value.strip()
    if len(url) > URL_MAX or not _URL.match(url):
        raise InvalidInput(
            f"The evidence {shorten(url)} is not a link; give the http(s) URL that shows it "
            f"(at most {URL_MAX} characters)."
        )
    return url


def set_override(
    session: Session,
    *,
    repo_id: str,
    component: str,
    status: str,
    evidence_url: str,
    actor: str,
    approvers: ApproverDirectory,
    clock: Clock,
) -> OpennessOverride:
    """Record a reviewer's judgement of one component (replacing an earlier one); audited.

    Raises:
        InvalidInput: unknown component or status, or an evidence value that is not a link.
        PermissionDenied: ``actor`` is not an approver.
        NotFound: the model is not tracked.
    """
    component = parse_component(component)
    status = parse_status(status)
    url = validate_evidence_url(evidence_url)
    require_approver(session, actor, approvers, "override openness assessments")
    model = get_model(session, repo_id)
    row = _find(session, model.id, component)
    before = _data(row) if row else None
    if row is None:
        row = OpennessOverride(model_id=model.id, component=component)
        session.add(row)
    row.status, row.evidence_url, row.reviewer, row.created_at = status, url, actor, clock.now()
    session.flush()
    audit.record(
        session,
        clock=clock,
        actor=actor,
        action="openness_override_set",
        model=model,
        before=before,
        after=_data(row),
        detail=f"{component} {status}: {url}",
    )
    return row


def clear_override(
    session: Session,
    *,
    repo_id: str,
    component: str,
    actor: str,
    approvers: ApproverDirectory,
    clock: Clock,
) -> str:
    """Remove a reviewer override (the assessment falls back to the evidence); audited.

    Returns the component name. Raises NotFound when there is no override to clear.
    """
    component = parse_component(component)
    require_approver(session, actor, approvers, "override openness assessments")
    model = get_model(session, repo_id)
    row = _find(session, model.id, component)
    if row is None:
        raise NotFound(f"{model.repo_id} has no reviewer override for {component}.")
    before = _data(row)
    session.delete(row)
    audit.record(
        session,
        clock=clock,
        actor=actor,
        action="openness_override_cleared",
        model=model,
        before=before,
        detail=component,
    )
    return component


def _find(session: Session, model_id: int, component: str) -> OpennessOverride | None:
    return session.scalar(
        select(OpennessOverride).where(
            OpennessOverride.model_id == model_id, OpennessOverride.component == component
        )
    )


def _data(row: OpennessOverride) -> dict[str, str]:
    return {
        "component": row.component,
        "status": row.status,
        "evidence_url": row.evidence_url,
        "reviewer": row.reviewer,
    }


def overrides_for(session: Session, model: TrackedModel) -> dict[str, Override]:
    """The model's reviewer overrides, by component (empty when there are none)."""
    rows = session.scalars(select(OpennessOverride).where(OpennessOverride.model_id == model.id))
    # The column is a plain string; set_override stores only OVERRIDE_STATUSES, all a Status.
    return {r.component: Override(cast(Status, r.status), r.evidence_url, r.reviewer) for r in rows}
