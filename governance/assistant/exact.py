"""Exact answers from the registry and the knowledge base, without the language model.

Each function reads (never writes) and returns text whose every fact is followed by the number
of the source it came from, plus those sources. The wording is fixed, so the same question over
the same registry always gets the same answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from governance.assistant import sources as src
from governance.assistant.sources import Source
from governance.core.clock import format_time
from governance.licenses.knowledge import LicenseTerms, load_knowledge_base
from governance.registry.models import (
    OPEN_STATES,
    Approval,
    ApprovalState,
    AuditEvent,
    IntendedUse,
    TrackedModel,
)
from governance.upstream.changes import TERMS_KINDS
from governance.upstream.models import Change


@dataclass
class ExactAnswer:
    """Text with [n] citations and the numbered sources they point at."""

    lines: list[str] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)

    def cite(self, title: str, ref: str, source_id: str) -> int:
        for source in self.sources:
            if source.source_id == source_id:
                return source.number
        self.sources.append(Source(len(self.sources) + 1, title, ref, source_id))
        return len(self.sources)

    def cite_approval(self, approval: Approval) -> int:
        return self.cite(
            f"Request #{approval.id} ({approval.model.repo_id}, {approval.use.value} use)",
            src.approval_ref(approval),
            f"approval:{approval.id}",
        )

    def cite_kb(self, terms: LicenseTerms) -> int:
        return self.cite(
            f"{terms.name} (license knowledge base)", src.kb_ref(terms), f"kb:{terms.id}"
        )

    def add(self, line: str, *numbers: int) -> None:
        marks = "".join(f" [{n}]" for n in dict.fromkeys(numbers))
        self.lines.append(line + marks)

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def _standing(approvals: Sequence[Approval], use: IntendedUse) -> Approval | None:
    return next((a for a in approvals if a.use is use and a.state in OPEN_STATES), None)


def _newest_first(model: TrackedModel) -> list[Approval]:
    return sorted(model.approvals, key=lambda a: a.id, reverse=True)


def _status_sentence(approval: Approval, today: date) -> str:
    repo, use = approval.model.repo_id, approval.use.value
    state = approval.state
    if state is ApprovalState.APPROVED and approval.past_expiry_on(today):
        return f"No. The approval of {repo} for {use} use expired on {approval.expires_on}."
    if state is ApprovalState.APPROVED:
        return f"Yes. {repo} is approved for {use} use."
    if state is ApprovalState.NEEDS_REVIEW:
        return (
            f"Not now. The approval of {repo} for {use} use is in review because its upstream "
            "terms changed; an approver must approve it again or revoke it."
        )
    if state is ApprovalState.REQUESTED:
        return f"Not yet. {repo} is requested for {use} use and waits for a decision."
    return f"No. {repo} is not approved for {use} use; its latest request was {state.value}."


def approval_status(model: TrackedModel, use: IntendedUse | None, today: date) -> ExactAnswer:
    """Is ``model`` approved (for ``use``): state, conditions, expiry, pinned revision."""
    out = ExactAnswer()
    approvals = _newest_first(model)
    if not approvals:
        out.add(f"No. {model.repo_id} is tracked but nobody has requested it yet.")
        return out
    if use is not None:
        chosen = _standing(approvals, use) or next((a for a in approvals if a.use is use), None)
        if chosen is None:
            out.add(f"No. {model.repo_id} has never been requested for {use.value} use.")
        else:
            n = out.cite_approval(chosen)
            out.add(_status_sentence(chosen, today), n)
            out.add(src.approval_facts(chosen, today), n)
        others = [a for a in approvals if a.use is not use and a.state in OPEN_STATES]
        for other in others:
            out.add("Other use: " + src.approval_facts(other, today), out.cite_approval(other))
        return out
    usable = [a for a in approvals if a.in_force_on(today)]
    open_ones = [a for a in approvals if a.state in OPEN_STATES]
    if usable:
        uses = ", ".join(sorted({a.use.value for a in usable}))
        out.add(
            f"Yes. {model.repo_id} is approved for {uses} use.",
            *(out.cite_approval(a) for a in sorted(usable, key=lambda a: a.use.value)),
        )
    elif open_ones:
        out.add(_status_sentence(open_ones[0], today), out.cite_approval(open_ones[0]))
    else:
        latest = approvals[0]
        out.add(
            f"No. {model.repo_id} has no standing approval; its latest request "
            f"(#{latest.id}, {latest.use.value} use) was {latest.state.value}.",
            out.cite_approval(latest),
        )
    for each_use in IntendedUse:
        chosen = _standing(approvals, each_use) or next(
            (a for a in approvals if a.use is each_use), None
        )
        if chosen is not None:
            out.add(src.approval_facts(chosen, today), out.cite_approval(chosen))
    return out


_VERBS = {
    "requested": "requested",
    "approved": "approved",
    "reapproved": "re-approved",
    "rejected": "rejected",
    "revoked": "revoked",
    "needs_review": "moved to review",
    "expired": "expired",
}


def approvers(
    session: Session, model: TrackedModel, use: IntendedUse | None, today: date | None = None
) -> ExactAnswer:
    """Who approved ``model`` and when, and every other decision, from the audit trail."""
    out = ExactAnswer()
    ids = {a.id: a for a in model.approvals if use is None or a.use is use}
    query = (
        select(AuditEvent)
        .where(AuditEvent.approval_id.in_(ids), AuditEvent.action.in_(_VERBS))
        .order_by(AuditEvent.at, AuditEvent.id)
    )
    events = list(session.scalars(query)) if ids else []
    if not any(e.action in ("approved", "reapproved") for e in events):
        scope = f" for {use.value} use" if use else ""
        out.add(f"Nobody has approved {model.repo_id}{scope} yet.")
    # Approvals first (what was asked), then the rest of the trail in time order.
    events.sort(key=lambda e: e.action not in ("approved", "reapproved"))
    for event in events:
        assert event.approval_id is not None  # the query selects events of the approvals in ids
        approval = ids[event.approval_id]
        line = (
            f"{event.actor} {_VERBS[event.action]} {model.repo_id} for {approval.use.value} use "
            f"on {format_time(event.at)} (request #{approval.id})"
        )
        if event.detail and event.action in ("approved", "reapproved"):
            line += f" with the conditions: {event.detail}"
        elif event.detail:
            line += f": {event.detail}"
        out.add(line + ".", out.cite_approval(approval))
    standing = [a for a in ids.values() if a.state in OPEN_STATES]
    for approval in sorted(standing, key=lambda a: a.id):
        out.add("Now: " + src.approval_facts(approval, today), out.cite_approval(approval))
    return out


def license_answer(
    session: Session,
    *,
    model: TrackedModel | None,
    terms: LicenseTerms | None,
    commercial_focus: bool,
    hub: str,
    out: ExactAnswer | None = None,
) -> ExactAnswer:
    """What a license requires, for a named license or for a model's current license; added
    to ``out`` when given. Returns the answer."""
    out = out if out is not None else ExactAnswer()
    if model is not None:
        snapshot = src.latest_snapshot(session, model)
        if snapshot is None:
            out.add(
                f"{model.repo_id} has not been checked upstream yet, so its current license is "
                f"not known; run `/models check {model.repo_id}`."
            )
            return out
        terms = src.license_of(snapshot, load_knowledge_base())
        snap = out.cite(
            f"Upstream snapshot of {snapshot.repo_id} ({format_time(snapshot.taken_at)})",
            src.snapshot_ref(snapshot, hub=hub),
            f"snapshot:{snapshot.id}",
        )
        declared = snapshot.license_name or snapshot.license or "no license"
        if terms is None:
            out.add(
                f"{model.repo_id}'s card declares {declared}, which is not in the license "
                "knowledge base; its terms have not been reviewed.",
                snap,
            )
            return out
        out.add(
            f"{model.repo_id}'s current license is {terms.name} ({terms.id}), as its card "
            f"declared on {format_time(snapshot.taken_at)}.",
            snap,
        )
    if terms is None:
        return out
    n = out.cite_kb(terms)
    facts = src.license_facts(terms)
    if model is None:
        out.add(f"{terms.name} ({terms.id}, {terms.spdx}):", n)
    if commercial_focus:
        facts = sorted(
            facts, key=lambda f: not f.startswith(("Commercial", "Condition", "Monthly"))
        )
    for fact in facts:
        out.add(fact, n)
    if model is not None and commercial_focus:
        standing = _standing(_newest_first(model), IntendedUse.COMMERCIAL)
        if standing is None:
            out.add(f"In the registry, {model.repo_id} is not approved for commercial use.")
        else:
            state = standing.state.value.replace("_", " ")
            out.add(
                f"In the registry, its commercial use is {state} (request #{standing.id}).",
                out.cite_approval(standing),
            )
    return out


def upstream_changes(
    session: Session,
    models: Sequence[TrackedModel],
    *,
    terms_only: bool = False,
    limit: int = 10,
) -> ExactAnswer:
    """What changed upstream for ``models`` (all models when empty) and when, newest first.

    ``terms_only`` keeps the changes that touch the terms (license, license files, gating).
    """
    out = ExactAnswer()
    repos = dict(session.execute(select(TrackedModel.id, TrackedModel.repo_id)).all())
    query = select(Change).order_by(Change.detected_at.desc(), Change.id.desc())
    if models:
        query = query.where(Change.model_id.in_([m.id for m in models]))
    if terms_only:
        query = query.where(Change.kind.in_(TERMS_KINDS))
    changes = list(session.scalars(query.limit(limit)))
    subject = ", ".join(m.repo_id for m in models) if models else "any tracked model"
    what = "license or gating changes" if terms_only else "upstream changes"
    if not changes:
        unchecked = [m for m in models if src.latest_snapshot(session, m) is None]
        if models and len(unchecked) == len(models):
            out.add(f"{subject} has not been checked upstream yet.")
        else:
            out.add(f"No {what.removesuffix('s')} of {subject} has been recorded.")
        return out
    out.add(f"{what.capitalize()} of {subject}, newest first:")
    for change in changes:
        repo_id = repos.get(change.model_id, "unknown model")
        n = out.cite(
            f"Change #{change.id} of {repo_id}",
            src.change_ref(change, repo_id),
            f"change:{change.id}",
        )
        out.add("- " + src.change_facts(change, repo_id, with_diff=True), n)
    return out
