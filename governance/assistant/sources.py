"""The facts the assistant may use, as citable sources and as retrievable passages.

Everything is read from the database and the license knowledge base; nothing is written. Each
fact carries a reference a person can follow: a Hub URL pinned to a revision, the knowledge
base's source link, or the ``/models`` command that shows the registry record.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from governance.assistant.retrieval import Passage, passages_from_text
from governance.core.clock import format_time
from governance.licenses.knowledge import KnowledgeBase, LicenseTerms, load_knowledge_base
from governance.registry.models import Approval, ApprovalState, TrackedModel
from governance.upstream.models import Change, LicenseText, Snapshot, WatchState

HUB = "https://huggingface.co"
DIFF_CHARS_MAX = 6000


@dataclass(frozen=True, slots=True)
class Source:
    """One numbered source under an answer: what it is and where to check it."""

    number: int
    title: str
    ref: str
    source_id: str = ""

    def line(self) -> str:
        return f"[{self.number}] {self.title} - {self.ref}"


def approval_ref(approval: Approval) -> str:
    return f"/models info {approval.model.repo_id} (request #{approval.id})"


def change_ref(change: Change, repo_id: str) -> str:
    return f"/models changes {repo_id} (change #{change.id})"


def snapshot_ref(snapshot: Snapshot, *, hub: str = HUB) -> str:
    base = f"{hub.rstrip('/')}/{snapshot.repo_id}"
    return f"{base}/tree/{snapshot.sha}" if snapshot.sha else base


def kb_ref(terms: LicenseTerms) -> str:
    return terms.source


# ---------------------------------------------------------------------------- reading


def tracked_models(session: Session, *, with_approvals: bool = True) -> list[TrackedModel]:
    """Every tracked model with its aliases (and, by default, its approvals) loaded.

    Without approvals, a model's ``approvals`` load on first use (one query for that model).
    """
    options = [selectinload(TrackedModel.aliases)]
    if with_approvals:
        options.append(selectinload(TrackedModel.approvals))
    query = select(TrackedModel).options(*options)
    return list(session.scalars(query.order_by(TrackedModel.repo_key)))


def latest_snapshot(session: Session, model: TrackedModel) -> Snapshot | None:
    """The newest snapshot of ``model`` the watcher recorded, or None before the first check."""
    state = session.get(WatchState, model.id)
    if state is not None and state.latest_snapshot_id is not None:
        return session.get(Snapshot, state.latest_snapshot_id)
    return session.scalar(
        select(Snapshot).where(Snapshot.model_id == model.id).order_by(Snapshot.id.desc())
    )


def latest_snapshots(session: Session) -> dict[int, Snapshot]:
    """The newest snapshot of every checked model, by model id (two queries in all)."""
    pointers = dict(
        session.execute(
            select(WatchState.model_id, WatchState.latest_snapshot_id).where(
                WatchState.latest_snapshot_id.is_not(None)
            )
        ).all()
    )
    rows = session.scalars(select(Snapshot).where(Snapshot.id.in_(list(pointers.values()))))
    by_id = {row.id: row for row in rows}
    return {model_id: by_id[s] for model_id, s in pointers.items() if s in by_id}


def license_of(snapshot: Snapshot | None, kb: KnowledgeBase) -> LicenseTerms | None:
    """The knowledge-base entry for the license a snapshot's card declares (None if unknown)."""
    if snapshot is None:
        return None
    return kb.find(snapshot.license_name) or kb.find(snapshot.license)


# ---------------------------------------------------------------------------- facts as text


def _yes_no(value: bool | None, yes: str, no: str) -> str | None:
    return None if value is None else (yes if value else no)


def license_facts(terms: LicenseTerms) -> list[str]:
    """The reviewed terms of one license as sentences (unknown terms are said to be unknown)."""
    commercial = {
        "yes": "Commercial use: allowed.",
        "no": "Commercial use: not allowed.",
        "conditional": "Commercial use: allowed with conditions.",
        "unknown": "Commercial use: not reviewed (unknown).",
    }[terms.commercial_use]
    facts = [commercial]
    if terms.commercial_condition:
        facts.append(f"Condition: {terms.commercial_condition}")
    if terms.user_threshold:
        facts.append(
            f"Monthly active user threshold: {terms.user_threshold:,} "
            "(above it a separate license is needed)."
        )
    if terms.attribution:
        shown = ", ".join(f'"{a}"' for a in terms.attribution)
        facts.append(f"Attribution required: {shown}.")
    if terms.notice:
        facts.append(f"Notice: {terms.notice}")
    if terms.naming_rule:
        facts.append(f'Derivative model names must begin with "{terms.naming_rule}".')
    if terms.use_policy_url:
        facts.append(f"Acceptable use policy (incorporated by reference): {terms.use_policy_url}")
    optional = [
        _yes_no(terms.flow_down, "Use restrictions must be passed on to downstream users.", ""),
        _yes_no(
            terms.output_restriction,
            "Outputs may not be used to improve other models.",
            "",
        ),
        _yes_no(terms.research_only, "Research use only.", ""),
        _yes_no(terms.must_update, "Users must update to the latest version when asked.", ""),
        _yes_no(terms.remote_restriction, "The licensor may restrict use remotely.", ""),
    ]
    facts += [f for f in optional if f]
    facts += [f"Geographic restriction: {g}" for g in terms.geographic_restrictions]
    osi = _yes_no(terms.osi_approved, "OSI-approved: yes.", "OSI-approved: no.")
    if osi:
        facts.append(osi)
    if terms.governing_law:
        facts.append(f"Governing law: {terms.governing_law}.")
    if terms.notes:
        facts.append(f"Note: {terms.notes}")
    return facts


def approval_facts(approval: Approval, today: date | None = None) -> str:
    """One approval in one sentence: state, who and when, conditions, expiry, pinned revision.

    With ``today``, an approved one past its expiry date reads as expired even before the expiry
    job marked it, and one whose expiry date is ``today`` says that today is its last day in force
    (``Approval.past_expiry_on``: in force through the expiry date).
    """
    state = {"needs_review": "in review", "requested": "pending"}.get(
        approval.state.value, approval.state.value
    )
    lapsed = today is not None and approval.past_expiry_on(today)
    if approval.state is ApprovalState.APPROVED and lapsed:
        state = "expired (its expiry date has passed)"
    text = (
        f"Request #{approval.id}: {approval.model.repo_id} for {approval.use.value} use is {state}"
    )
    text += f"; requested by {approval.requested_by} on {format_time(approval.requested_at)}"
    if approval.decided_by:
        text += f"; decided by {approval.decided_by} on {format_time(approval.decided_at)}"
    if approval.conditions:
        text += f"; conditions: {approval.conditions}"
    if approval.expires_on:
        text += f"; expires on {approval.expires_on.isoformat()}"
        if approval.expires_on == today and approval.state is ApprovalState.APPROVED:
            text += " (today: in force until the end of the day, UTC)"
    if approval.revision_sha:
        text += f"; pinned to revision {approval.revision_sha[:12]}"
    if approval.decision_reason:
        text += f"; decision reason: {approval.decision_reason}"
    return text + "."


def snapshot_facts(snapshot: Snapshot) -> str:
    license_shown = snapshot.license_name or snapshot.license or "none declared"
    text = (
        f"Upstream on {format_time(snapshot.taken_at)}: {snapshot.repo_id} is "
        f"{snapshot.availability.replace('_', ' ')}; license {license_shown}"
    )
    if snapshot.gated:
        text += f"; gated ({snapshot.gated})"
    if snapshot.sha:
        text += f"; revision {snapshot.sha[:12]}"
    return text + "."


DIFF_LINES_SHOWN = 6


def change_facts(change: Change, repo_id: str, *, with_diff: bool = False) -> str:
    """One change in one line; ``with_diff`` adds the first changed lines of its text diff."""
    text = f"{format_time(change.detected_at)}: {repo_id}: {change.summary} ({change.kind})"
    if with_diff and change.diff:
        lines = [
            line
            for line in change.diff.splitlines()
            if line[:1] in "+-" and not line.startswith(("+++", "---"))
        ]
        shown = "\n    ".join(lines[:DIFF_LINES_SHOWN])
        more = len(lines) - DIFF_LINES_SHOWN
        text += f"\n    {shown}" + (f"\n    ({more} more changed lines)" if more > 0 else "")
    return text


# ---------------------------------------------------------------------------- passages


@functools.cache
def kb_passages() -> tuple[Passage, ...]:
    """One passage per knowledge-base license (read once per process)."""
    kb = load_knowledge_base()
    return tuple(
        Passage(
            f"kb:{t.id}",
            f"{t.name} (license knowledge base)",
            f"{t.name} ({t.id}, {t.spdx}). " + " ".join(license_facts(t)),
            kb_ref(t),
        )
        for t in kb.all()
    )


def _card_text(snapshot: Snapshot) -> str:
    prompt: dict[str, Any] = snapshot.gating_prompt or {}
    parts = [str(v) for v in prompt.values() if isinstance(v, str | int | float)]
    return (" Gating prompt on the card: " + " ".join(parts)) if parts else ""


def registry_passages(session: Session, *, hub: str = HUB) -> list[Passage]:
    """Passages for every tracked model, its latest snapshot and each of its approvals."""
    passages: list[Passage] = []
    for model in tracked_models(session):
        snapshot = latest_snapshot(session, model)
        text = f"{model.repo_id} is tracked since {format_time(model.added_at)}."
        if snapshot is not None:
            text += " " + snapshot_facts(snapshot) + _card_text(snapshot)
        ref = snapshot_ref(snapshot, hub=hub) if snapshot else f"/models info {model.repo_id}"
        passages.append(Passage(f"model:{model.repo_key}", model.repo_id, text, ref))
        for approval in model.approvals:
            passages.append(
                Passage(
                    f"approval:{approval.id}",
                    f"Request #{approval.id} ({model.repo_id})",
                    approval_facts(approval)
                    + (f" Reason: {approval.reason}" if approval.reason else ""),
                    approval_ref(approval),
                )
            )
    return passages


def license_text_passages(session: Session, *, hub: str = HUB) -> list[Passage]:
    """Stored license texts, chunked, titled by the model file they were read from."""
    where: dict[str, tuple[str, str, str | None]] = {}
    for snapshot in session.scalars(select(Snapshot).order_by(Snapshot.id)):
        for entry in snapshot.license_files or ():
            content_hash = entry.get("content_hash")
            if content_hash:
                where[content_hash] = (snapshot.repo_id, entry["path"], snapshot.sha)
    passages: list[Passage] = []
    for row in session.scalars(select(LicenseText)):
        repo_id, path, sha = where.get(row.content_hash, ("unknown model", "license text", None))
        ref = f"{hub.rstrip('/')}/{repo_id}/blob/{sha or 'main'}/{path}"
        passages += passages_from_text(
            f"text:{row.content_hash[:12]}", f"{path} of {repo_id}", row.text, ref
        )
    return passages


def change_passages(session: Session) -> list[Passage]:
    """Every recorded upstream change, with its diff (chunked) when it has one."""
    repos = dict(session.execute(select(TrackedModel.id, TrackedModel.repo_id)).all())
    passages: list[Passage] = []
    for change in session.scalars(select(Change).order_by(Change.id)):
        repo_id = repos.get(change.model_id, "unknown model")
        body = change_facts(change, repo_id)
        if change.diff:
            body += "\n\n" + change.diff[:DIFF_CHARS_MAX]
        passages += passages_from_text(
            f"change:{change.id}",
            f"Change #{change.id} of {repo_id}",
            body,
            change_ref(change, repo_id),
        )
    return passages


def all_passages(session: Session, *, hub: str = HUB) -> list[Passage]:
    """The whole retrievable corpus: registry, knowledge base, license texts, changes."""
    return [
        *registry_passages(session, hub=hub),
        *kb_passages(),
        *license_text_passages(session, hub=hub),
        *change_passages(session),
    ]
