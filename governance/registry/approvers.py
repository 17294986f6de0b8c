"""Who may decide: the approver directory, the check every decision makes first, and the
approvers added and removed with ``/models approvers`` (stored in the ``approvers`` table).

An approver comes from one of three places: MODELGOV_APPROVERS (the environment), the user
group MODELGOV_APPROVER_GROUP (with Slack), or the table (added by another approver, audited).
Every approval check asks all three.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from governance.core.clock import Clock, format_time
from governance.core.db import rows_matched
from governance.core.errors import Conflict, PermissionDenied
from governance.registry import audit
from governance.registry.models import Approver, ApproverKind
from governance.registry.validation import validate_user_id

ENV_APPROVERS = "MODELGOV_APPROVERS"
ENV_GROUP = "MODELGOV_APPROVER_GROUP"
IMPERSONATION_SETTING = "MODELGOV_CLI_IMPERSONATION"


@dataclass(frozen=True)
class ApproverDirectory:
    """Who may decide: MODELGOV_APPROVERS, the approvers table, and group members if resolvable.

    ``group_members`` resolves a user group id to its members (Slack's usergroups.users.list);
    it is optional so the domain never depends on Slack.
    """

    configured: frozenset[str] = frozenset()
    groups: frozenset[str] = frozenset()  # MODELGOV_APPROVER_GROUP
    group_members: Callable[[str], Iterable[str]] | None = field(default=None, compare=False)

    def is_approver(self, session: Session, user_id: str) -> bool:
        """True when ``user_id`` is configured, in the approvers table, or in an approver group."""
        if user_id in self.configured:
            return True
        rows = session.execute(select(Approver.kind, Approver.principal)).all()
        if any(kind is ApproverKind.USER and principal == user_id for kind, principal in rows):
            return True
        if self.group_members is None:
            return False
        groups = [principal for kind, principal in rows if kind is ApproverKind.USERGROUP]
        groups += sorted(self.groups)
        return any(user_id in set(self.group_members(group)) for group in groups)

    def names(self, session: Session) -> list[str]:
        """The approvers named by user id (configured and stored), sorted; groups not expanded."""
        stored = session.scalars(select(Approver.principal).order_by(Approver.principal)).all()
        return sorted(set(self.configured) | set(stored))

    def members_of(self, group: str) -> frozenset[str] | None:
        """The members of user group ``group``, or None when they cannot be asked (no Slack)."""
        if self.group_members is None:
            return None
        return frozenset(self.group_members(group))


def require_approver(session: Session, actor: str, approvers: ApproverDirectory, verb: str) -> None:
    """Refuse ``actor`` unless they are an approver; ``verb`` says what they tried to do.

    A name claimed with ``--as`` / ``:as`` (the session's ``audit.AuditOrigin``) is refused
    here too, unless MODELGOV_CLI_IMPERSONATION allows it: anyone at a terminal could
    otherwise act as any approver.

    Raises:
        InvalidInput: ``actor`` is not a valid user id.
        PermissionDenied: ``actor`` is not an approver (the message names the approvers), or
            was claimed and impersonation is off.
    """
    validate_user_id(actor)
    origin = audit.origin_of(session)
    if origin is not None and origin.impersonating:
        raise PermissionDenied(
            f"Acting as {actor} with {origin.claimed_with} cannot {verb}, because acting as "
            f"someone else is off for this database (set {IMPERSONATION_SETTING}=1 to allow "
            f"it, or run the command as {actor})."
        )
    if not approvers.is_approver(session, actor):
        names = ", ".join(approvers.names(session)) or f"nobody yet (set {ENV_APPROVERS})"
        raise PermissionDenied(f"Only approvers can {verb}; the approvers are {names}.")


class ApproverSource(StrEnum):
    """Where an approver comes from."""

    ENVIRONMENT = "environment"  # MODELGOV_APPROVERS
    USER_GROUP = "user_group"  # MODELGOV_APPROVER_GROUP
    ADDED = "added"  # /models approvers add (the approvers table)


@dataclass(frozen=True)
class ApproverEntry:
    """One approver (a person or a user group) and where it comes from.

    ``members``: a user group's members when they could be asked (None: not resolvable here,
    for example without Slack); always None for a person.
    """

    kind: ApproverKind
    principal: str
    source: ApproverSource
    added_by: str | None = None
    added_at: datetime | None = None
    added_via: str | None = None
    members: frozenset[str] | None = None

    @classmethod
    def added(cls, row: Approver, *, members: frozenset[str] | None = None) -> ApproverEntry:
        """The entry of an approver added with ``/models approvers add`` (its table row)."""
        return cls(
            row.kind,
            row.principal,
            ApproverSource.ADDED,
            added_by=row.added_by,
            added_at=row.added_at,
            added_via=row.added_via.value if row.added_via else None,
            members=members,
        )


def list_approvers(session: Session, approvers: ApproverDirectory) -> list[ApproverEntry]:
    """Every approver: the environment's, the user group's, then those added (oldest first).

    A principal both configured and added is listed under each source (both grant it).
    """
    entries = [
        ApproverEntry(ApproverKind.USER, user, ApproverSource.ENVIRONMENT)
        for user in sorted(approvers.configured)
    ]
    entries += [
        ApproverEntry(
            ApproverKind.USERGROUP,
            group,
            ApproverSource.USER_GROUP,
            members=approvers.members_of(group),
        )
        for group in sorted(approvers.groups)
    ]
    for row in session.scalars(select(Approver).order_by(Approver.added_at, Approver.id)):
        group = row.kind is ApproverKind.USERGROUP
        entries.append(
            ApproverEntry.added(row, members=approvers.members_of(row.principal) if group else None)
        )
    return entries


def has_stored_groups(session: Session) -> bool:
    """True when a user group was added as an approver (its members must be asked of Slack)."""
    found = session.scalar(
        select(Approver.id).where(Approver.kind == ApproverKind.USERGROUP).limit(1)
    )
    return found is not None


def _label(kind: ApproverKind, principal: str) -> str:
    return f"user group {principal}" if kind is ApproverKind.USERGROUP else principal


def add_approver(
    session: Session,
    *,
    principal: str,
    kind: ApproverKind = ApproverKind.USER,
    actor: str,
    approvers: ApproverDirectory,
    clock: Clock,
) -> Approver:
    """Make ``principal`` an approver (approvers only); returns the new row, audited.

    Raises:
        InvalidInput: ``principal`` is not a valid user or group id.
        PermissionDenied: ``actor`` may not manage approvers (``require_approver``).
        Conflict: ``principal`` is an approver already (the message says through what).
    """
    require_approver(session, actor, approvers, "add approvers")
    validate_user_id(principal)
    label = _label(kind, principal)
    if kind is ApproverKind.USER and principal in approvers.configured:
        raise Conflict(f"{label} is already an approver (listed in {ENV_APPROVERS}).")
    if kind is ApproverKind.USERGROUP and principal in approvers.groups:
        raise Conflict(f"{label} is already the approver group ({ENV_GROUP}).")
    existing = _stored(session, kind, principal)
    if existing is not None:
        raise _already_added(existing)
    origin = audit.origin_of(session)
    row = Approver(
        kind=kind,
        principal=principal,
        added_by=actor,
        added_at=clock.now(),
        added_via=origin.channel if origin is not None else None,
    )
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:  # another approver added them at the same moment
        raced = _stored(session, kind, principal)
        raise (_already_added(raced) if raced else Conflict("Not saved; retry.")) from None
    audit.record(
        session,
        clock=clock,
        actor=actor,
        action="approver_added",
        after={"kind": kind.value, "principal": principal},
        detail=label,
    )
    return row


def remove_approver(
    session: Session,
    *,
    principal: str,
    kind: ApproverKind = ApproverKind.USER,
    actor: str,
    approvers: ApproverDirectory,
    clock: Clock,
) -> ApproverEntry:
    """Take ``principal`` off the approvers added in Slack (approvers only); returns what was
    removed, audited.

    Raises:
        InvalidInput: ``principal`` is not a valid id.
        PermissionDenied: ``actor`` may not manage approvers.
        Conflict: ``principal`` comes from the environment (remove it there), is not an added
            approver, or is the last approver (nobody could decide anything after).
    """
    require_approver(session, actor, approvers, "remove approvers")
    validate_user_id(principal)
    label = _label(kind, principal)
    row = _stored(session, kind, principal)
    configured = principal in (
        approvers.configured if kind is ApproverKind.USER else approvers.groups
    )
    if row is None and configured:
        setting = ENV_APPROVERS if kind is ApproverKind.USER else ENV_GROUP
        raise Conflict(
            f"{label} is an approver through {setting}; remove them from {setting} and "
            f"restart modelgov (it cannot be changed from here)."
        )
    if row is None:
        raise Conflict(f"{label} is not among the approvers added with `/models approvers add`.")
    if not _others_remain(session, approvers, row):
        raise Conflict(
            f"{label} is the last approver; add another with `/models approvers add` first, so "
            f"that someone can still decide requests."
        )
    removed = ApproverEntry.added(row)
    result = session.execute(
        delete(Approver).where(Approver.id == row.id).execution_options(synchronize_session=False)
    )
    if rows_matched(result) != 1:
        raise Conflict(f"{label} was removed by someone else meanwhile.")
    session.expunge(row)
    audit.record(
        session,
        clock=clock,
        actor=actor,
        action="approver_removed",
        before={
            "kind": kind.value,
            "principal": principal,
            "added_by": row.added_by,
            "added_at": row.added_at.isoformat(),
        },
        detail=label,
    )
    return removed


def _stored(session: Session, kind: ApproverKind, principal: str) -> Approver | None:
    return session.scalar(
        select(Approver).where(Approver.kind == kind, Approver.principal == principal)
    )


def _already_added(row: Approver) -> Conflict:
    return Conflict(
        f"{_label(row.kind, row.principal)} is already an approver "
        f"(added by {row.added_by} {format_time(row.added_at)})."
    )


def _others_remain(session: Session, approvers: ApproverDirectory, leaving: Approver) -> bool:
    """Whether an approver (a person, or a user group) is left once ``leaving`` is removed.

    A group counts when its members are known and include someone, or cannot be asked (we
    cannot tell it is empty); a group known to be empty does not.
    """
    if approvers.configured:
        return True
    others = [
        (kind, principal)
        for kind, principal in session.execute(
            select(Approver.kind, Approver.principal).where(Approver.id != leaving.id)
        ).all()
    ]
    if any(kind is ApproverKind.USER for kind, _ in others):
        return True
    groups = [p for kind, p in others if kind is ApproverKind.USERGROUP] + sorted(approvers.groups)
    for group in groups:
        members = approvers.members_of(group)
        if members is None or members:
            return True
    return False
