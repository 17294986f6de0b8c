"""Writing and reading audit events. Writers call ``record`` inside the changing transaction.

Each event says who acted, and how we know: the surface it came through (``AuditChannel``) and,
for the console and CLI, the operating-system account that ran it. That origin belongs to the
unit of work, not to any one service call, so the frontend attaches it to the sessions it opens
(``with_origin``) and ``record`` reads it from the session every writer already receives: no
service signature carries it, and a service cannot forget to pass it on.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from governance.core.clock import Clock
from governance.registry.models import (
    USER_ID_MAX,
    Approval,
    AuditChannel,
    AuditEvent,
    TrackedModel,
)

# The actor the audit trail names for changes nobody made by hand (expiry, upstream review);
# the event's channel says which part of modelgov it was (``acted_by``).
SYSTEM_ACTOR = "modelgov"

# Key of a session's ``info`` holding its AuditOrigin.
ORIGIN_KEY = "modelgov.audit_origin"

# Actions of the approver directory's events (they belong to no model).
APPROVER_ACTIONS = ("approver_added", "approver_removed")


@dataclass(frozen=True)
class AuditOrigin:
    """Where the changes of one unit of work come from.

    ``os_user``: the operating-system account that ran the console or CLI (None elsewhere).
    ``claimed_with``: the option that named the acting user instead of the OS account
    (``--as`` / ``:as``), None when the actor is who the surface says it is.
    ``impersonation_allowed``: whether a claimed name may do what needs an approver
    (MODELGOV_CLI_IMPERSONATION); ``governance.registry.approvers`` enforces it.
    """

    channel: AuditChannel
    os_user: str | None = None
    claimed_with: str | None = None
    impersonation_allowed: bool = False

    @property
    def impersonating(self) -> bool:
        """True when the acting name was claimed and claims may not act as an approver."""
        return self.claimed_with is not None and not self.impersonation_allowed


SLACK = AuditOrigin(AuditChannel.SLACK)
WATCHER = AuditOrigin(AuditChannel.WATCHER)
SCHEDULER = AuditOrigin(AuditChannel.SCHEDULER)


def with_origin(factory: sessionmaker[Session], origin: AuditOrigin) -> sessionmaker[Session]:
    """A session factory like ``factory`` whose sessions record ``origin`` on their events."""
    info = {**factory.kw.get("info", {}), ORIGIN_KEY: origin}
    return sessionmaker(class_=factory.class_, **{**factory.kw, "info": info})


def origin_of(session: Session) -> AuditOrigin | None:
    """The origin ``session`` was opened with (``with_origin``), or None if it has none."""
    origin = session.info.get(ORIGIN_KEY)
    return origin if isinstance(origin, AuditOrigin) else None


def record(
    session: Session,
    *,
    clock: Clock,
    actor: str,
    action: str,
    model: TrackedModel | None = None,
    approval: Approval | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    detail: str | None = None,
) -> AuditEvent:
    """Add one audit event to ``session`` (committed with the change it describes).

    Its channel and OS user are the session's origin (``with_origin``); a session opened
    without one records neither (None), never a guess.
    """
    if model is None and approval is not None:
        model = approval.model
    origin = origin_of(session)
    event = AuditEvent(
        at=clock.now(),
        actor=actor,
        action=action,
        model_id=model.id if model is not None else None,
        approval_id=approval.id if approval is not None else None,
        before=before,
        after=after,
        detail=detail,
        channel=origin.channel if origin is not None else None,
        os_user=origin.os_user[:USER_ID_MAX] if origin and origin.os_user else None,
    )
    session.add(event)
    return event


_SYSTEM_NAMES = {AuditChannel.WATCHER: "the watcher", AuditChannel.SCHEDULER: "the scheduler"}


def actor_name(event: AuditEvent) -> str:
    """Who acted, as people say it: the actor, or ``the watcher`` / ``the scheduler`` for the
    changes modelgov made itself (``modelgov`` on events older than the channel column)."""
    if event.actor == SYSTEM_ACTOR and event.channel in _SYSTEM_NAMES:
        return _SYSTEM_NAMES[event.channel]
    return event.actor


def acted_by(event: AuditEvent) -> str:
    """``bob via cli (os user alice)``: the actor, the channel and the OS account, as far as
    the event recorded them (plain text; escape it for mrkdwn)."""
    name = actor_name(event)
    if event.channel is None or name in _SYSTEM_NAMES.values():
        return name
    text = f"{name} via {event.channel.value}"
    return f"{text} (os user {event.os_user})" if event.os_user else text


def events_for_model(
    session: Session, model: TrackedModel, *, limit: int = 200
) -> list[AuditEvent]:
    """The model's audit trail, oldest first (the newest ``limit`` events)."""
    rows = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.model_id == model.id)
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(limit)
    ).all()
    return list(reversed(rows))


def events_with_actions(
    session: Session, actions: Iterable[str], *, limit: int = 20
) -> list[AuditEvent]:
    """The newest ``limit`` events with one of ``actions`` (of any model or none), oldest first."""
    rows = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.action.in_(list(actions)))
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(limit)
    ).all()
    return list(reversed(rows))


def latest_events(
    session: Session, approval_ids: Iterable[int], *, action: str
) -> dict[int, AuditEvent]:
    """For each of ``approval_ids``, its newest event with ``action`` (those with one)."""
    ids = sorted(set(approval_ids))
    found: dict[int, AuditEvent] = {}
    if not ids:
        return found
    rows = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.approval_id.in_(ids), AuditEvent.action == action)
        .order_by(AuditEvent.id)
    )
    for event in rows:
        if event.approval_id is not None:
            found[event.approval_id] = event  # ascending ids: the newest one stays
    return found
