"""Routing alert kinds to destinations (``/models subscribe #channel [kinds…]``).

Only approvers change routing: a subscription decides where approvers learn that an approval
fell back to review, so moving it is as consequential as a decision. Anyone may list them.
"""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from governance.alerts.models import DESTINATION_MAX, Subscription
from governance.core.clock import Clock
from governance.core.errors import InvalidInput, NotFound, PermissionDenied
from governance.core.kinds import ALERT_KINDS, AlertKind
from governance.registry import audit
from governance.registry.approvers import ApproverDirectory

_DESTINATION = re.compile(r"^[#@]?[A-Za-z0-9][A-Za-z0-9._-]*$")
_SLACK_CHANNEL_LINK = re.compile(r"^<#([A-Z0-9]+)(?:\|[^>]*)?>$")


def parse_destination(value: str) -> str:
    """A channel as typed (``#name``), or as Slack sends it (``<#C123|name>`` -> ``C123``)."""
    value = value.strip()
    link = _SLACK_CHANNEL_LINK.match(value)
    if link:
        return link.group(1)
    if not value or len(value) > DESTINATION_MAX or not _DESTINATION.match(value):
        raise InvalidInput(
            f"{value[:40]!r} is not a channel; expected a channel such as #model-alerts."
        )
    return value


def parse_kinds(words: list[str]) -> list[AlertKind] | None:
    """The alert kinds named in ``words``, sorted (None: all kinds).

    Raises InvalidInput naming the first word that is not an alert kind.
    """
    if not words or words == ["all"]:
        return None
    by_value = {kind.value: kind for kind in ALERT_KINDS}
    unknown = [w for w in words if w not in by_value]
    if unknown:
        raise InvalidInput(
            f"Unknown alert kind {unknown[0][:40]!r}; expected some of: {', '.join(ALERT_KINDS)}."
        )
    return sorted({by_value[w] for w in words})


def _require_approver(session: Session, actor: str, approvers: ApproverDirectory) -> None:
    if not approvers.is_approver(session, actor):
        names = ", ".join(approvers.names(session)) or "nobody yet (set MODELGOV_APPROVERS)"
        raise PermissionDenied(
            f"Only approvers can change subscriptions; the approvers are {names}."
        )


def subscribe(
    session: Session,
    *,
    destination: str,
    kinds: list[AlertKind] | None,
    actor: str,
    clock: Clock,
    approvers: ApproverDirectory,
) -> Subscription:
    """Route ``kinds`` (None: all) to ``destination``, replacing its previous subscription."""
    _require_approver(session, actor, approvers)
    stored = None if kinds is None else [str(kind) for kind in kinds]  # as the JSON column reads
    existing = session.scalar(select(Subscription).where(Subscription.destination == destination))
    before = {"kinds": existing.kinds} if existing else None
    if existing is None:
        existing = Subscription(
            destination=destination, kinds=stored, created_by=actor, created_at=clock.now()
        )
        session.add(existing)
    else:
        existing.kinds = stored
    session.flush()
    audit.record(
        session,
        clock=clock,
        actor=actor,
        action="subscribed",
        before=before,
        after={"destination": destination, "kinds": stored},
    )
    return existing


def unsubscribe(
    session: Session, *, destination: str, actor: str, clock: Clock, approvers: ApproverDirectory
) -> None:
    """Remove the subscription of ``destination`` (approvers only); returns nothing.

    Raises PermissionDenied (not an approver) or NotFound (no subscription there)."""
    _require_approver(session, actor, approvers)
    existing = session.scalar(select(Subscription).where(Subscription.destination == destination))
    if existing is None:
        raise NotFound(f"{destination} has no subscription; `/models subscriptions` lists them.")
    audit.record(
        session,
        clock=clock,
        actor=actor,
        action="unsubscribed",
        before={"destination": destination, "kinds": existing.kinds},
    )
    session.delete(existing)


def list_subscriptions(session: Session) -> list[Subscription]:
    """Every subscription, by destination."""
    return list(session.scalars(select(Subscription).order_by(Subscription.destination)))


def destinations_for(session: Session, *, kind: AlertKind, default: str) -> list[str]:
    """Where an alert of ``kind`` goes: every subscribed destination, else ``default``."""
    routed = [
        s.destination for s in list_subscriptions(session) if s.kinds is None or kind in s.kinds
    ]
    return routed or [default]
