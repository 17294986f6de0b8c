"""Acknowledging an alert: "I have seen this and will look". Approvers only; it is audited.

An acknowledgement takes the alert off the approvers' plate (its button disappears), so it is
for the people who must act on it: the approvers. The first acknowledgement stands; a second
one is told who was first.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from governance.alerts.models import Alert
from governance.alerts.notifier import OutgoingAlert
from governance.alerts.outgoing import outgoing_alert
from governance.core.clock import Clock, format_time
from governance.core.db import rows_matched
from governance.core.errors import Conflict, NotFound
from governance.registry import audit
from governance.registry.approvers import ApproverDirectory, require_approver
from governance.registry.models import TrackedModel
from governance.registry.validation import validate_user_id


def get_alert(session: Session, alert_id: int) -> Alert:
    """Alert ``alert_id``. Raises NotFound when there is none."""
    alert = session.get(Alert, alert_id)
    if alert is None:
        raise NotFound(f"There is no alert #{alert_id}.")
    return alert


def acknowledge(
    session: Session, *, alert_id: int, actor: str, clock: Clock, approvers: ApproverDirectory
) -> Alert:
    """Record that ``actor`` (an approver) acknowledged alert ``alert_id``; return the alert.

    Raises:
        PermissionDenied: ``actor`` is not an approver (the message names who may).
        NotFound: no such alert.
        Conflict: someone acknowledged it already (the message says who and when).
    """
    validate_user_id(actor)
    require_approver(session, actor, approvers, "acknowledge alerts")
    alert = get_alert(session, alert_id)
    result = session.execute(
        update(Alert)
        .where(Alert.id == alert_id, Alert.acknowledged_by.is_(None))
        .values(acknowledged_by=actor, acknowledged_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    session.refresh(alert)
    if rows_matched(result) != 1:
        raise Conflict(
            f"Alert #{alert_id} was already acknowledged by {alert.acknowledged_by} at "
            f"{format_time(alert.acknowledged_at)}."
        )
    audit.record(
        session,
        clock=clock,
        actor=actor,
        action="alert_acknowledged",
        model=session.get(TrackedModel, alert.model_id) if alert.model_id else None,
        after={"alert_id": alert_id, "kind": alert.kind},
    )
    return alert


def as_outgoing(session: Session, alert: Alert) -> OutgoingAlert:
    """The alert as its notifier rendered it (to render it again, e.g. after an acknowledgement)."""
    return outgoing_alert(session, alert)
