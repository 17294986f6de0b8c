"""Block Kit and JSON views of lineage: bases, relation, whose terms bind, derivatives and the
base approvals that cover a derivative. Pure; every id and name from upstream escaped."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from bot.render.blocks import Block, Reply, context, divider, escape, fit, section
from governance.flows.lineage_view import LineageView
from governance.licenses.binding import Binding

SEVERITY_ICONS = {"info": ":information_source:", "warning": ":warning:", "error": ":no_entry:"}
MAX_DERIVATIVES = 10


def lineage_line(view: LineageView) -> str | None:
    """One plain line for a card or the Home tab: ``quantized from X (…); base approved``."""
    if view.lineage is None:
        return None
    line = view.lineage.describe()
    if view.covered_by:
        line += "; " + view.covered_by[0].describe()
    else:
        line += "; " + "; ".join(f"base {b.repo_id}: {b.standing}" for b in view.bases)
    return line


def lineage_card_text(view: LineageView) -> str:
    """A request card's lineage section: the relation, each base's standing (or the base
    approval that covers it), whose terms bind and the worst disagreement, so the approver
    decides in one look."""
    lines = [f"*Derivative:* {escape(view.lineage.describe())}" if view.lineage else ""]
    for base in view.bases:
        lines.append(f"• base *{escape(base.repo_id)}*: {base.standing} ({escape(base.detail)})")
    for cover in view.covered_by:
        lines.append(f":white_check_mark: {escape(cover.describe())}")
    if not view.covered_by:
        lines.append(f"_Team policy derivatives: {view.policy}: it needs its own approval._")
    binding = view.binding
    if binding is not None and binding.binding_terms:
        names = ", ".join(t.name for t in binding.binding_terms)
        lines.append(f"*Binding terms:* {escape(names)} (the base's)")
    for finding in (binding.findings if binding else ())[:3]:
        if finding.severity != "info":
            lines.append(f"{SEVERITY_ICONS[finding.severity]} {escape(finding.message)}")
    return "\n".join(line for line in lines if line)[:2900]


def derivative_line(repo_id: str, view: LineageView) -> str:
    """A derivative on the Home tab: id, lineage, coverage or its bases' standing, binding
    terms, and its worst finding (mrkdwn)."""
    line = f"*{escape(repo_id)}* · {escape(lineage_line(view) or '')}"
    binding = view.binding
    if binding is not None and binding.binding_terms:
        line += f"\nbound by {escape(', '.join(t.name for t in binding.binding_terms))}"
    worst = [f for f in (binding.findings if binding else ()) if f.severity == "error"]
    worst = worst or [f for f in (binding.findings if binding else ()) if f.severity == "warning"]
    if worst:
        line += f"\n{SEVERITY_ICONS[worst[0].severity]} {escape(worst[0].message)}"
    return line


def binding_lines(binding: Binding) -> list[str]:
    """Whose terms bind, per base, then the findings (worst first), as mrkdwn lines."""
    terms = binding.binding_terms
    if terms:
        names = ", ".join(escape(t.name) for t in terms)
        lines = [f"*Binding terms:* {names} (the base's)"]
    elif binding.own_terms_bind:
        lines = ["*Binding terms:* its own license (every base allows other terms)"]
    else:
        lines = ["*Binding terms:* not known yet"]
    lines += [f"• {escape(b.repo_id)}: {escape(b.why)}" for b in binding.bases]
    order = {"error": 0, "warning": 1, "info": 2}
    for finding in sorted(binding.findings, key=lambda f: order[f.severity]):
        lines.append(f"{SEVERITY_ICONS[finding.severity]} {escape(finding.message)}")
    return lines


def lineage_blocks(view: LineageView) -> list[Block]:
    """The lineage section of ``/models info`` (nothing for an original model with no tracked
    derivatives)."""
    if view.empty:
        return []
    lines: list[str] = []
    if view.lineage is not None:
        lines.append(f"*Lineage:* {escape(view.lineage.describe())}")
        for base in view.bases:
            detail = escape(base.detail)
            lines.append(f"• base *{escape(base.repo_id)}*: {base.standing} ({detail})")
    if view.binding is not None:
        lines += binding_lines(view.binding)
    if view.lineage is not None:
        if view.covered_by:
            lines += [f":white_check_mark: {escape(c.describe())}" for c in view.covered_by]
        elif view.policy == "review" or view.lineage.relation not in ("quantized", "adapter"):
            lines.append(
                f"_Team policy derivatives: {view.policy}_: this derivative needs its own "
                "approval; its base's standing is shown above."
            )
    if view.base_of_note:
        lines.append(f"_{escape(view.base_of_note)}_")
    if view.derivatives:
        shown = ", ".join(
            f"{escape(m.repo_id)} ({escape(relation)})"
            for m, relation in view.derivatives[:MAX_DERIVATIVES]
        )
        more = len(view.derivatives) - MAX_DERIVATIVES
        lines.append(f"*Derivatives tracked:* {shown}" + (f" and {more} more" if more > 0 else ""))
    text = "\n".join(lines)
    return [
        divider(),
        section(text[:2900]),
        context("From the latest snapshot; `/models license-check` says whose terms bind."),
    ]


def with_binding(reply: Reply, view: LineageView) -> Reply:
    """``license-check``'s reply with whose terms bind a derivative and where it disagrees
    (the reply unchanged for an original model)."""
    if view.lineage is None or view.binding is None:
        return reply
    lines = [f"*Lineage:* {escape(view.lineage.describe())}", *binding_lines(view.binding)]
    blocks = list(reply.blocks)
    blocks.insert(1 if blocks else 0, section("\n".join(lines)[:2900]))
    serious = [f.message for f in view.binding.findings if f.severity != "info"]
    text = reply.text + ("\n" + "\n".join(serious) if serious else "")
    data = reply.data
    if isinstance(data, dict):
        data = {**data, "lineage": lineage_data(view)}
    return replace(reply, text=text, blocks=fit(blocks), data=data)


def lineage_data(view: LineageView) -> dict[str, Any]:
    """The lineage as JSON-ready data (``--json``, exports)."""
    binding = view.binding
    return {
        "bases": [
            {"repo_id": b.repo_id, "tracked": b.model is not None, "standing": b.standing}
            for b in view.bases
        ],
        "relation": view.lineage.relation if view.lineage else None,
        "relation_source": view.lineage.source if view.lineage else None,
        "binding_licenses": [t.id for t in binding.binding_terms] if binding else [],
        "own_terms_bind": binding.own_terms_bind if binding else None,
        "findings": [
            {"code": f.code, "severity": f.severity, "message": f.message}
            for f in (binding.findings if binding else ())
        ],
        "derivatives_policy": view.policy,
        "covered_by": [
            {"approval_id": c.approval.id, "use": c.approval.use.value, "base": c.base_repo_id}
            for c in view.covered_by
        ],
        "derivatives": [{"repo_id": m.repo_id, "relation": r} for m, r in view.derivatives],
        "tracked_read_only": view.base_of_note is not None,
    }


def with_lineage_data(reply: Reply, view: LineageView) -> Reply:
    """``reply`` with the lineage in its ``--json`` data (when the data is an object)."""
    if not isinstance(reply.data, dict) or view.empty:
        return reply
    return replace(reply, data={**reply.data, "lineage": lineage_data(view)})


def with_list_notes(reply: Reply, notes: list[str]) -> Reply:
    """``list``'s reply with its lineage notes (covered derivatives, bases) after the lines."""
    if not notes:
        return reply
    text = "*Lineage:*\n" + "\n".join(f"• {escape(n)}" for n in notes)
    blocks = [*reply.blocks, section(text[:2900])]
    data = reply.data
    if isinstance(data, dict):
        data = {**data, "lineage_notes": notes}
    plain = reply.text + "\nLineage:\n" + "\n".join(notes)
    return replace(reply, text=plain, blocks=fit(blocks), data=data)
