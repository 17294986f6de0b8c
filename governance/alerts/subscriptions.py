"""Routing alerts to destinations by kind and by model (``/models subscribe #chan --repo
meta-llama/* --kinds license,gating``), like GitHub's Slack app filters by repository.

A subscription routes the alerts of its kinds (or all) about models whose repo id matches one
of its glob patterns (or any model); an alert no subscription takes goes to the alerts channel.
Only approvers change routing: a subscription decides where approvers learn that an approval
fell back to review, so moving it is as consequential as a decision. Anyone may list them.
"""

from __future__ import annotations

import re
from fnmatch import fnmatchcase

from sqlalchemy import select
from sqlalchemy.orm import Session

from governance.alerts.kind_names import KIND_GROUPS
from governance.alerts.models import DESTINATION_MAX, Subscription
from governance.core.clock import Clock
from governance.core.errors import InvalidInput, NotFound, PermissionDenied
from governance.core.kinds import ALERT_KINDS, AlertKind
from governance.registry import audit
from governance.registry.approvers import ApproverDirectory

_DESTINATION = re.compile(r"^[#@]?[A-Za-z0-9][A-Za-z0-9._-]*$")
_SLACK_CHANNEL_LINK = re.compile(r"^<#([A-Z0-9]+)(?:\|[^>]*)?>$")
# A Hub id part (owner or name) with glob wildcards: letters, digits, . _ - and * ? [ ].
_PART = r"[A-Za-z0-9._\-*?\[\]]{1,96}"
_REPO_PATTERN = re.compile(rf"^{_PART}(/{_PART})?$")
MAX_REPO_PATTERNS = 20


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
    """The alert kinds named in ``words`` (kind names, or groups such as ``license`` and
    ``gating``; commas separate too), sorted; None for all kinds (nothing named, or ``all``).

    Raises InvalidInput naming the first word that is neither a kind nor a group.
    """
    names = [w.strip().lower() for word in words for w in word.split(",") if w.strip()]
    if not names or names == ["all"]:
        return None
    by_value = {kind.value: kind for kind in ALERT_KINDS}
    chosen: set[AlertKind] = set()
    for name in names:
        if name in by_value:
            chosen.add(by_value[name])
        elif name in KIND_GROUPS:
            chosen.update(by_value[k] for k in KIND_GROUPS[name])
        else:
            raise InvalidInput(
                f"Unknown alert kind {name[:40]!r}; expected groups ({', '.join(KIND_GROUPS)}) "
                f"or kinds ({', '.join(ALERT_KINDS)})."
            )
    return sorted(chosen)


def parse_repo_patterns(values: list[str]) -> list[str] | None:
    """Glob patterns on repo ids from ``--repo`` values (repeatable; commas separate too), in
    the order given without repeats; an owner alone means all its models (``meta-llama`` ->
    ``meta-llama/*``). None when none was given (every model).

    Raises InvalidInput naming the first pattern that is not ``owner/name`` with wildcards,
    or when there are more than 20.
    """
    patterns: list[str] = []
    for value in values:
        for raw in value.split(","):
            pattern = raw.strip()
            if not pattern:
                continue
            if not _REPO_PATTERN.match(pattern) or pattern.strip("*?/") == "":
                raise InvalidInput(
                    f"{pattern[:60]!r} is not a repository pattern; expected owner/name with * "
                    "or ? wildcards, such as meta-llama/* or */Llama-3*."
                )
            pattern = pattern if "/" in pattern else f"{pattern}/*"
            if pattern.lower() not in (p.lower() for p in patterns):
                patterns.append(pattern)
    if len(patterns) > MAX_REPO_PATTERNS:
        raise InvalidInput(
            f"{len(patterns)} repository patterns; a subscription takes at most "
            f"{MAX_REPO_PATTERNS} (use a wildcard such as meta-llama/*)."
        )
    return patterns or None


def covers(subscription: Subscription, *, kind: str, repo_id: str | None) -> bool:
    """Whether ``subscription`` takes an alert of ``kind`` about ``repo_id`` (None: an alert
    about no model, such as the digest, which only a subscription without patterns takes).
    Repo ids match case-insensitively, as the Hub treats them."""
    if subscription.kinds is not None and kind not in subscription.kinds:
        return False
    if not subscription.repos:
        return True
    if repo_id is None:
        return False
    return any(fnmatchcase(repo_id.lower(), p.lower()) for p in subscription.repos)


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
    repos: list[str] | None = None,
) -> Subscription:
    """Route alerts of ``kinds`` (None: all) about models matching ``repos`` (glob patterns;
    None: every model) to ``destination``, replacing its previous subscription; returns it.

    Raises PermissionDenied when ``actor`` is not an approver."""
    _require_approver(session, actor, approvers)
    stored = None if kinds is None else [str(kind) for kind in kinds]  # as the JSON column reads
    existing = session.scalar(select(Subscription).where(Subscription.destination == destination))
    before = {"kinds": existing.kinds, "repos": existing.repos} if existing else None
    if existing is None:
        existing = Subscription(
            destination=destination,
            kinds=stored,
            repos=repos,
            created_by=actor,
            created_at=clock.now(),
        )
        session.add(existing)
    else:
        existing.kinds, existing.repos = stored, repos
    session.flush()
    audit.record(
        session,
        clock=clock,
        actor=actor,
        action="subscribed",
        before=before,
        after={"destination": destination, "kinds": stored, "repos": repos},
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
        before={"destination": destination, "kinds": existing.kinds, "repos": existing.repos},
    )
    session.delete(existing)


def list_subscriptions(session: Session) -> list[Subscription]:
    """Every subscription, by destination."""
    return list(session.scalars(select(Subscription).order_by(Subscription.destination)))


def destinations_for(
    session: Session, *, kind: AlertKind, default: str, repo_id: str | None = None
) -> list[str]:
    """Where an alert of ``kind`` about ``repo_id`` goes: every subscribed destination that
    covers it, else ``default``."""
    routed = [
        s.destination for s in list_subscriptions(session) if covers(s, kind=kind, repo_id=repo_id)
    ]
    return routed or [default]
