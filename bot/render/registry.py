"""Block Kit and JSON views of registry objects. Pure functions; all user text escaped."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from bot.render.blocks import Block, Reply, context, divider, escape, fit, header, section
from governance.core.clock import format_time
from governance.licenses.evidence import ModelEvidence
from governance.licenses.identify import TextIdentification
from governance.licenses.openness import Verdict
from governance.registry.audit import acted_by
from governance.registry.models import Approval, ApprovalState, AuditEvent, TrackedModel
from governance.registry.queries import ModelOverview

STATE_ICONS = {
    ApprovalState.REQUESTED: ":hourglass_flowing_sand:",
    ApprovalState.APPROVED: ":white_check_mark:",
    ApprovalState.REJECTED: ":no_entry:",
    ApprovalState.NEEDS_REVIEW: ":warning:",
    ApprovalState.REVOKED: ":x:",
    ApprovalState.EXPIRED: ":calendar:",
}


# The states the expiry job moves to expired once the expiry date has passed.
_EXPIRABLE = (ApprovalState.APPROVED, ApprovalState.NEEDS_REVIEW)


def state_label(state: ApprovalState) -> str:
    """A state as a label: ``pending``, ``in review``, ``approved`` ..."""
    return state.value.replace("_", " ")


def approval_data(approval: Approval) -> dict[str, Any]:
    """An approval as JSON-able data (CLI --json, exports)."""
    return {
        "id": approval.id,
        "repo_id": approval.model.repo_id,
        "use": approval.use.value,
        "state": approval.state.value,
        "reason": approval.reason,
        "conditions": approval.conditions,
        "expires_on": approval.expires_on.isoformat() if approval.expires_on else None,
        "revision_sha": approval.revision_sha,
        "license_fingerprint": approval.license_fingerprint,
        "requested_by": approval.requested_by,
        "requested_at": approval.requested_at.isoformat(),
        "decided_by": approval.decided_by,
        "decided_at": approval.decided_at.isoformat() if approval.decided_at else None,
        "decision_reason": approval.decision_reason,
    }


def event_data(event: AuditEvent) -> dict[str, Any]:
    """One audit event as JSON-ready data (for --json): ``actor`` is the name acted as,
    ``channel`` and ``os_user`` how it came (None on events older than those columns), ``by``
    all three as the text says it."""
    return {
        "at": event.at.isoformat(),
        "actor": event.actor,
        "channel": event.channel.value if event.channel else None,
        "os_user": event.os_user,
        "by": acted_by(event),
        "action": event.action,
        "approval_id": event.approval_id,
        "before": event.before,
        "after": event.after,
        "detail": event.detail,
    }


def approval_line(
    approval: Approval,
    *,
    with_model: bool = True,
    today: date | None = None,
    review: AuditEvent | None = None,
) -> str:
    """One mrkdwn line: number, model, use, state, who decided, conditions, expiry.

    With ``today``, the expiry says whether today is its last day in force or it has passed
    (``Approval.in_force_on``), even before the expiry job marked the approval expired.
    An approval in review says who approved it and since when it is in review; ``review``
    (the event that moved it there) adds who moved it and why, often the watcher.
    """
    parts = [f"{STATE_ICONS[approval.state]} *#{approval.id}*"]
    if with_model:
        parts.append(f"*{escape(approval.model.repo_id)}*")
    parts.append(f"{approval.use.value} use, {state_label(approval.state)}")
    line = " · ".join(parts)
    if approval.state is ApprovalState.REQUESTED:
        line += (
            f"\nrequested by {escape(approval.requested_by)} {format_time(approval.requested_at)}"
        )
    elif approval.state is ApprovalState.NEEDS_REVIEW:
        # decided_by is still the approver: the move to review is not theirs.
        if approval.decided_by:
            approved = f"{escape(approval.decided_by)} {format_time(approval.decided_at)}"
            line += f"\napproved by {approved}"
        moved = review.at if review is not None else approval.updated_at
        line += f"\nin review since {format_time(moved)}"
        if review is not None:
            line += f" (moved by {escape(acted_by(review))})"
            if review.detail:
                line += f"\n_why:_ {escape(review.detail)}"
    elif approval.decided_by:
        decider = escape(approval.decided_by)
        line += f"\n{state_label(approval.state)} by {decider} {format_time(approval.decided_at)}"
    if approval.reason:
        line += f"\n_reason:_ {escape(approval.reason)}"
    if approval.conditions:
        line += f"\n_conditions:_ {escape(approval.conditions)}"
    if approval.decision_reason and approval.state is not ApprovalState.APPROVED:
        line += f"\n_decision:_ {escape(approval.decision_reason)}"
    if approval.expires_on:
        line += f"\n_expires:_ {approval.expires_on.isoformat()}"
        if today is not None and approval.expires_on == today and approval.in_force_on(today):
            line += " (today: its last day in force)"
        elif today is not None and approval.state in _EXPIRABLE and approval.past_expiry_on(today):
            line += " (passed: no longer in force)"
    if approval.revision_sha:
        line += f"\n_pinned to:_ `{approval.revision_sha[:12]}`"
    return line


def approval_reply(approval: Approval, message: str) -> Reply:
    """The answer to a request or decision: what happened, then the approval itself."""
    return Reply(
        text=message,
        blocks=[section(escape(message)), section(approval_line(approval))],
        data=approval_data(approval),
    )


ACTION_LIST_MORE = "list_more"


@dataclass(frozen=True)
class ListPage:
    """One page of a ``list``: its number (from 1), its size, how many requests match, and
    the words that repeat the query (``approved --use research``) to ask for another page."""

    number: int
    size: int
    total: int
    query: tuple[str, ...] = ()

    @property
    def pages(self) -> int:
        """How many pages the matching requests make (1 when there are none)."""
        return max(1, -(-self.total // self.size))

    @property
    def next(self) -> int | None:
        """The next page's number, or None on the last page."""
        return self.number + 1 if self.number < self.pages else None

    def command(self, number: int) -> str:
        """The ``list`` command (without ``/models``) that shows page ``number``."""
        return " ".join(["list", *self.query, "--page", str(number)])

    def line(self) -> str:
        """``page 2 of 3 (60 requests), `list --page 3` for more.`` (plain text)."""
        line = f"page {self.number} of {self.pages} ({self.total} requests)"
        return line + (f", `{self.command(self.next)}` for more." if self.next else ".")

    def data(self) -> dict[str, Any]:
        """The page as JSON-able data: number, size, pages, total, next (None on the last)."""
        return {
            "number": self.number,
            "size": self.size,
            "pages": self.pages,
            "total": self.total,
            "next": self.next,
            "next_command": self.command(self.next) if self.next else None,
        }


def _more_button(page: ListPage) -> Block | None:
    if page.next is None:
        return None
    return {
        "type": "button",
        "text": {"type": "plain_text", "text": "More"},
        "action_id": ACTION_LIST_MORE,
        "value": page.command(page.next),  # the grammar runs it again: nothing to trust
    }


def list_reply(
    approvals: list[Approval],
    *,
    title: str,
    today: date,
    page: ListPage | None = None,
    reviews: Mapping[int, AuditEvent] | None = None,
) -> Reply:
    """The answer to ``list``: one line per approval (in the given order), or "nothing yet";
    with ``page``, a last line saying which page this is and how to see the next (a More
    button in Slack) when there is more than one."""
    page_data = {"page": page.data()} if page else {}
    if not approvals:
        text = f"{title}: nothing yet."
        return Reply(text=text, blocks=[section(escape(text))], data={"approvals": [], **page_data})
    blocks: list[Block] = [header(title)]
    moves = reviews or {}
    blocks += [section(approval_line(a, today=today, review=moves.get(a.id))) for a in approvals]
    lines = [f"#{a.id} {a.model.repo_id} {a.use.value} {a.state.value}" for a in approvals]
    if page is not None and page.pages > 1:
        blocks.append(section(escape(page.line()), accessory=_more_button(page)))
        lines.append(page.line())
    return Reply(
        text=f"{title}:\n" + "\n".join(lines),
        blocks=fit(blocks),
        data={"approvals": [approval_data(a) for a in approvals], **page_data},
    )


def model_heading(model: TrackedModel) -> list[Block]:
    """The heading of one model: its id, since when and by whom it is tracked, former names."""
    aliases = ", ".join(escape(a.alias) for a in model.aliases)
    facts = [f"tracked since {format_time(model.added_at)} (added by {escape(model.added_by)})"]
    if aliases:
        facts.append(f"formerly {aliases}")
    if not model.watched:
        facts.append("not watched upstream")
    return [header(model.repo_id), context(" · ".join(facts))]


def _identification_data(found: TextIdentification | None) -> dict[str, Any] | None:
    """What a license-like text was identified as, with the confidence and the signals."""
    if found is None:
        return None
    return {
        "status": found.status,
        "license_id": found.license_id,
        "document": found.document,
        "confidence": found.confidence,
        "method": found.method,
        "message": found.message,
        "missing_clauses": list(found.missing),
        "candidates": list(found.candidates),
    }


def _verdict_data(verdict: Verdict) -> dict[str, Any]:
    return {
        "framework": verdict.framework,
        "result": verdict.result,
        "passed": verdict.passed,
        "missing": list(verdict.missing),
        "explanation": verdict.explanation,
    }


def evidence_info_data(found: ModelEvidence | None) -> dict[str, Any]:
    """What ``info`` shows of the latest snapshot, as data: the snapshot (revision, when), the
    license (identified from the card and each LICENSE-like text, with confidence), every
    finding and the openness verdicts (snake_case keys). All None before the first check."""
    if found is None:
        return {
            "checked": False,
            "snapshot": None,
            "license": None,
            "findings": [],
            "openness": None,
        }
    evidence, assessment = found.evidence, found.openness
    card, terms = evidence.metadata, evidence.terms
    return {
        "checked": True,
        "snapshot": {
            "id": evidence.snapshot_id,
            "sha": evidence.sha,
            "taken_at": evidence.taken_at.isoformat() if evidence.taken_at else None,
            "availability": evidence.availability,
            "gated": evidence.gated,
        },
        "license": {
            "id": evidence.license_id,
            "ids": list(evidence.license_ids),
            "name": terms.name if terms else None,
            "spdx": terms.spdx if terms else None,
            "commercial_use": terms.commercial_use if terms else None,
            "card": {
                "status": card.status,
                "license_id": card.license_id,
                "declared": card.declared,
                "license_name": card.license_name,
                "license_link": card.license_link,
                "message": card.message,
            },
            "text": _identification_data(evidence.license_text),
            "use_policy": _identification_data(evidence.use_policy),
            "text_state": evidence.text_state,
            "files": [
                {
                    "path": f.path,
                    "status": f.status,
                    "identification": _identification_data(f.identification),
                }
                for f in evidence.files
            ],
        },
        "findings": [
            {"code": f.code, "severity": f.severity, "message": f.message}
            for f in evidence.findings
        ],
        "openness": {
            "spectrum": _verdict_data(assessment.spectrum),
            "osi_osaid": _verdict_data(assessment.osi),
            "mof": _verdict_data(assessment.mof),
            "components": [
                {
                    "component": c.component,
                    "status": c.status,
                    "evidence": list(c.evidence),
                    "overridden": c.overridden,
                }
                for c in assessment.components
            ],
        },
    }


def _pinned_revision(approvals: list[Approval]) -> str | None:
    """The revision the newest standing approval (approved or in review) is pinned to."""
    standing = (ApprovalState.APPROVED, ApprovalState.NEEDS_REVIEW)
    return next((a.revision_sha for a in approvals if a.state in standing and a.revision_sha), None)


def info_reply(
    overview: ModelOverview,
    *,
    today: date,
    extra_blocks: list[Block] | None = None,
    evidence: ModelEvidence | None = None,
) -> Reply:
    """The answer to ``info``: the model, its approvals, recent history and ``extra_blocks``
    (the license and openness section drawn from ``evidence``, which the data carries too)."""
    model = overview.model
    blocks = model_heading(model)
    if overview.approvals:
        blocks += [
            section(
                approval_line(a, with_model=False, today=today, review=overview.reviews.get(a.id))
            )
            for a in overview.approvals[:20]
        ]
    else:
        blocks.append(section("No requests yet."))
    blocks += extra_blocks or []
    if overview.recent_events:
        blocks.append(divider())
        blocks.append(context(*[event_line(e) for e in overview.recent_events[-5:]]))
    text = f"{model.repo_id}: " + (
        "; ".join(f"#{a.id} {a.use.value} {a.state.value}" for a in overview.approvals)
        or "no requests yet"
    )
    data = {
        "repo_id": model.repo_id,
        "tracked": True,
        "aliases": [a.alias for a in model.aliases],
        "tracked_since": model.added_at.isoformat(),
        "added_by": model.added_by,
        "watched": model.watched,
        "approvals": [approval_data(a) for a in overview.approvals],
        "pinned_revision": _pinned_revision(overview.approvals),
        **evidence_info_data(evidence),
        "history": [event_data(e) for e in overview.recent_events],
    }
    return Reply(text=text, blocks=fit(blocks), data=data)


def event_line(event: AuditEvent) -> str:
    """One audit event as a mrkdwn line: when, what, who, and the detail."""
    ref = f" #{event.approval_id}" if event.approval_id else ""
    detail = f": {escape(event.detail)}" if event.detail else ""
    who = f"{ref}{transition(event)} by {escape(acted_by(event))}"
    return f"{format_time(event.at)} · *{escape(event.action)}*{who}{detail}"


def transition(event: AuditEvent) -> str:
    """`` (requested → approved)`` when the event changed an approval's state."""
    before = (event.before or {}).get("state")
    after = (event.after or {}).get("state")
    return f" ({before} → {after})" if before and after and before != after else ""


def history_reply(model: TrackedModel, events: list[AuditEvent]) -> Reply:
    """The answer to ``history``: the audit events of ``model``, in the order given."""
    blocks: list[Block] = [header(f"History of {model.repo_id}")]
    blocks += [section(event_line(e)) for e in events]
    text = f"History of {model.repo_id}:\n" + "\n".join(
        f"{format_time(e.at)} {e.action}{transition(e)} by {acted_by(e)}"
        + (f": {e.detail}" if e.detail else "")
        for e in events
    )
    return Reply(
        text=text,
        blocks=fit(blocks),
        data={"repo_id": model.repo_id, "events": [event_data(e) for e in events]},
    )
