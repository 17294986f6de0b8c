"""Who may decide: the approver directory and the check every decision makes first."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from governance.core.errors import PermissionDenied
from governance.registry.models import Approver, ApproverKind
from governance.registry.validation import validate_user_id


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


def require_approver(session: Session, actor: str, approvers: ApproverDirectory, verb: str) -> None:
    """Refuse ``actor`` unless they are an approver; ``verb`` says what they tried to do.

    Raises:
        InvalidInput: ``actor`` is not a valid user id.
        PermissionDenied: ``actor`` is not an approver (the message names the approvers).
    """
    validate_user_id(actor)
    if not approvers.is_approver(session, actor):
        names = ", ".join(approvers.names(session)) or "nobody yet (set MODELGOV_APPROVERS)"
        raise PermissionDenied(f"Only approvers can {verb}; the approvers are {names}.")
