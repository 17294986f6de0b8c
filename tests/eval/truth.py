"""The generated registry as its generator intends it: every event, every approval's state.

This record is kept apart from the database on purpose: the evaluation checks the product's
answers against what the generator meant to happen, and ``generator.verify`` checks that the
database (built through the real services) agrees with it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

DECISIONS = frozenset({"approved", "reapproved", "rejected", "revoked"})
APPROVALS = frozenset({"approved", "reapproved"})


@dataclass(frozen=True)
class Event:
    """One thing that happened to one approval: who did what, when, with which text."""

    at: datetime
    actor: str
    action: str  # requested | approved | reapproved | rejected | revoked | needs_review | expired
    approval: int
    repo_id: str
    use: str
    detail: str | None = None  # request reason, conditions, decision reason or change kind
    expires_on: date | None = None  # set on approved / reapproved


@dataclass
class ApprovalTruth:
    """One request and what became of it (the fields mirror the registry's approval row)."""

    number: int
    repo_id: str
    use: str
    requester: str
    requested_at: datetime
    reason: str
    state: str = "requested"
    conditions: str | None = None
    expires_on: date | None = None
    decided_by: str | None = None
    decided_at: datetime | None = None
    decision_reason: str | None = None
    events: list[Event] = field(default_factory=list)

    def texts(self) -> set[str]:
        """Every free text attached to this approval (reasons, conditions), lower-cased."""
        found = {self.reason, self.conditions, self.decision_reason}
        found |= {e.detail for e in self.events if e.action != "needs_review"}
        return {t.lower() for t in found if t}

    def dates(self) -> set[date]:
        """Every date on which something happened to it, and its expiry date."""
        days = {e.at.date() for e in self.events}
        return days | ({self.expires_on} if self.expires_on else set())


@dataclass(frozen=True)
class UpstreamChange:
    """A change the generator makes upstream (a recheck then records it)."""

    at: datetime
    repo_id: str
    kind: str  # gating_changed
    before: str
    after: str


@dataclass
class ModelTruth:
    repo_id: str
    license: str  # knowledge-base id of the license the card declares
    loose: tuple[str, ...]
    tracked_at: datetime
    tracked_by: str
    gated: str = "false"
    changes: list[UpstreamChange] = field(default_factory=list)

    def snapshot_times(self) -> list[datetime]:
        """When a recheck recorded a snapshot: a minute after tracking, then at each change."""
        return [self.tracked_at + timedelta(minutes=1), *(c.at for c in self.changes)]


@dataclass
class Truth:
    """The whole generated registry, as intended."""

    seed: int
    now: datetime
    approvers: tuple[str, ...]
    requesters: tuple[str, ...]
    models: dict[str, ModelTruth]
    approvals: list[ApprovalTruth]

    @property
    def people(self) -> frozenset[str]:
        return frozenset(self.approvers) | frozenset(self.requesters)

    @property
    def today(self) -> date:
        return self.now.date()

    def events(self) -> list[Event]:
        """Every event, oldest first."""
        return sorted((e for a in self.approvals for e in a.events), key=lambda e: e.at)

    def of_model(self, repo_id: str) -> list[ApprovalTruth]:
        return [a for a in self.approvals if a.repo_id == repo_id]

    def usable(self, approval: ApprovalTruth) -> bool:
        """Approved and in force today: an approval is in force through its expiry date."""
        return approval.state == "approved" and not (
            approval.expires_on is not None and approval.expires_on < self.today
        )

    def standing(self, repo_id: str, use: str) -> ApprovalTruth | None:
        """The model's open approval for ``use`` (requested, approved or in review), if any."""
        return next(
            (
                a
                for a in self.of_model(repo_id)
                if a.use == use and a.state in ("requested", "approved", "needs_review")
            ),
            None,
        )
