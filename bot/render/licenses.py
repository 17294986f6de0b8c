"""Block Kit views of license knowledge, identification findings, openness and clause diffs.

Pure functions. Everything from upstream (texts, card fields, reviewer links) and from the
knowledge base is escaped before it goes into mrkdwn.
"""

from __future__ import annotations

from typing import Any

from bot.render.blocks import Block, Reply, code, context, divider, escape, fit, header, section
from governance.core.clock import format_time
from governance.licenses.clauses import ClauseDiff
from governance.licenses.evidence import LicenseEvidence, ModelEvidence
from governance.licenses.knowledge import LicenseTerms
from governance.licenses.openness import OpennessAssessment
from governance.registry.models import TrackedModel

STATUS_ICONS = {"open": ":large_green_circle:", "partial": ":large_yellow_circle:"}
STATUS_ICONS |= {"closed": ":red_circle:", "unknown": ":white_circle:"}
SEVERITY_ICONS = {"info": ":information_source:", "warning": ":warning:", "error": ":no_entry:"}


def _yn(value: bool | None) -> str:
    return "unknown" if value is None else "yes" if value else "no"


def terms_data(terms: LicenseTerms) -> dict[str, Any]:
    """A knowledge-base entry as JSON-able data."""
    return {
        "id": terms.id,
        "name": terms.name,
        "kind": terms.kind,
        "spdx": terms.spdx,
        "osi_approved": terms.osi_approved,
        "commercial_use": terms.commercial_use,
        "commercial_condition": terms.commercial_condition,
        "user_threshold": terms.user_threshold,
        "attribution": list(terms.attribution),
        "notice": terms.notice,
        "naming_rule": terms.naming_rule,
        "use_policy_url": terms.use_policy_url,
        "flow_down": terms.flow_down,
        "output_restriction": terms.output_restriction,
        "geographic_restrictions": list(terms.geographic_restrictions),
        "remote_restriction": terms.remote_restriction,
        "must_update": terms.must_update,
        "research_only": terms.research_only,
        "governing_law": terms.governing_law,
        "release_date": terms.release_date.isoformat() if terms.release_date else None,
        "source": terms.source,
        "notes": terms.notes,
    }


def license_reply(terms: LicenseTerms) -> Reply:
    """``/models license <id>``: the reviewed terms of one license."""
    commercial = terms.commercial_use + (
        f": {terms.commercial_condition}" if terms.commercial_condition else ""
    )
    rows = [
        ("SPDX", terms.spdx),
        ("OSI approved", _yn(terms.osi_approved)),
        ("Commercial use", commercial),
        ("User threshold", f"{terms.user_threshold:,} monthly active users")
        if terms.user_threshold
        else None,
        ("Attribution", "; ".join(terms.attribution)) if terms.attribution else None,
        ("Notice", terms.notice) if terms.notice else None,
        ("Derivative names", terms.naming_rule) if terms.naming_rule else None,
        ("Use policy (by reference)", terms.use_policy_url) if terms.use_policy_url else None,
        ("Restrictions flow down", _yn(terms.flow_down)),
        ("Outputs may not improve other models", _yn(terms.output_restriction)),
        ("Geographic restrictions", "; ".join(terms.geographic_restrictions) or "none"),
        (
            "Remote restriction / must update",
            f"{_yn(terms.remote_restriction)} / {_yn(terms.must_update)}",
        ),
        ("Research only", _yn(terms.research_only)),
        ("Governing law", terms.governing_law) if terms.governing_law else None,
        ("Release date", terms.release_date.isoformat()) if terms.release_date else None,
    ]
    lines = [f"*{escape(k)}:* {escape(v)}" for row in rows if row for k, v in [row]]
    blocks: list[Block] = [header(f"{terms.name} ({terms.id})"), section("\n".join(lines))]
    if terms.notes:
        blocks.append(section(f"_{escape(terms.notes)}_"))
    blocks.append(context(f"Source: {escape(terms.source)} · reviewed facts, not legal advice"))
    text = f"{terms.name} ({terms.id}): " + "; ".join(
        f"{k}: {v}" for row in rows if row for k, v in [row]
    )
    return Reply(text=text, blocks=blocks, data=terms_data(terms))


def _seen(evidence: LicenseEvidence) -> str:
    sha = f"`{escape(evidence.sha[:12])}`" if evidence.sha else "unknown revision"
    return f"From the snapshot of {sha} taken {format_time(evidence.taken_at)}."


def findings_blocks(evidence: LicenseEvidence) -> list[Block]:
    """Card vs LICENSE text: what each says, then the findings for approvers."""
    meta = evidence.metadata
    lines = [f"*Card:* {escape(meta.message)}"]
    for item in evidence.files:
        what = (
            escape(item.identification.message)
            if item.identification
            else f"not read ({escape(item.status)})"
        )
        lines.append(f"*{escape(item.path)}:* {what}")
    if not evidence.files:
        lines.append("*Files:* no LICENSE or USE_POLICY file in the repository.")
    findings = [f"{SEVERITY_ICONS[f.severity]} {escape(f.message)}" for f in evidence.findings]
    return [section("\n".join(lines)), section("\n".join(findings))]


def evidence_data(evidence: LicenseEvidence) -> dict[str, Any]:
    """The license evidence as JSON-ready data (for --json)."""
    return {
        "repo_id": evidence.repo_id,
        "sha": evidence.sha,
        "snapshot_id": evidence.snapshot_id,
        "license_id": evidence.license_id,
        "license_ids": list(evidence.license_ids),
        "card": {"status": evidence.metadata.status, "license_id": evidence.metadata.license_id},
        "files": [
            {
                "path": f.path,
                "status": f.status,
                "identified_as": f.identification.license_id if f.identification else None,
                "identification": f.identification.status if f.identification else None,
            }
            for f in evidence.files
        ],
        "findings": [
            {"code": f.code, "severity": f.severity, "message": f.message}
            for f in evidence.findings
        ],
    }


def not_checked_reply(model: TrackedModel, what: str) -> Reply:
    """The answer for a model whose ``what`` has not been checked upstream yet."""
    text = (
        f"{model.repo_id} has not been checked upstream yet, so there is no {what} to show; "
        "the watcher looks at it on its next cycle."
    )
    return Reply(text=text, blocks=[section(escape(text))], data={"repo_id": model.repo_id})


def license_check_reply(found: ModelEvidence) -> Reply:
    """``/models license-check <repo>``: identification and findings from the latest snapshot."""
    evidence = found.evidence
    blocks = [header(f"License check: {found.model.repo_id}"), *findings_blocks(evidence)]
    blocks.append(context(_seen(evidence)))
    text = f"{found.model.repo_id}: " + " ".join(f.message for f in evidence.findings)
    return Reply(text=text, blocks=blocks, data=evidence_data(evidence))


def openness_lines(assessment: OpennessAssessment) -> list[str]:
    """One mrkdwn line per openness component: its status and evidence."""
    lines = []
    for c in assessment.components:
        mark = " _(reviewer)_" if c.overridden else ""
        evidence = escape("; ".join(c.evidence))
        name = c.component.replace("_", " ")
        lines.append(f"{STATUS_ICONS[c.status]} *{name}*: {c.status}{mark} — {evidence}")
    return lines


def verdict_lines(assessment: OpennessAssessment) -> list[str]:
    """The openness verdicts (the spectrum, OSI OSAID, MOF) as mrkdwn lines."""
    return [
        f"*{escape(v.framework)}:* {escape(v.result)} — {escape(v.explanation)}"
        for v in (assessment.spectrum, assessment.osi, assessment.mof)
    ]


def openness_data(assessment: OpennessAssessment) -> dict[str, Any]:
    """The openness assessment as JSON-ready data (for --json)."""
    return {
        "components": [
            {
                "component": c.component,
                "status": c.status,
                "evidence": list(c.evidence),
                "overridden": c.overridden,
            }
            for c in assessment.components
        ],
        "verdicts": {
            v.framework: {"result": v.result, "passed": v.passed, "missing": list(v.missing)}
            for v in (assessment.osi, assessment.mof, assessment.spectrum)
        },
    }


def openness_reply(found: ModelEvidence) -> Reply:
    """``/models openness <repo>``: components with evidence, then the three verdicts."""
    assessment = found.openness
    blocks = [
        header(f"Openness: {found.model.repo_id}"),
        section("\n".join(verdict_lines(assessment))),
        section("\n".join(openness_lines(assessment))),
        context(
            _seen(found.evidence),
            "Reviewers: `/models openness <repo> set <component> <open|partial|closed> <url>`",
        ),
    ]
    text = f"{found.model.repo_id}: " + "; ".join(
        f"{v.framework}: {v.result}" for v in (assessment.spectrum, assessment.osi, assessment.mof)
    )
    data = {"repo_id": found.model.repo_id, **openness_data(assessment)}
    return Reply(text=text, blocks=fit(blocks), data=data)


def info_blocks(found: ModelEvidence | None) -> list[Block]:
    """The license and openness section of ``/models info``."""
    if found is None:
        return [divider(), context("License and openness: not checked upstream yet.")]
    evidence, assessment = found.evidence, found.openness
    worst = [f for f in evidence.findings if f.severity != "info"]
    shown = worst or evidence.findings
    license_line = f"*License:* {escape(evidence.license_id or 'not identified')}"
    findings = [f"{SEVERITY_ICONS[f.severity]} {escape(f.message)}" for f in shown[:4]]
    verdicts = " · ".join(
        f"{escape(v.framework)}: *{escape(v.result)}*"
        for v in (assessment.spectrum, assessment.osi, assessment.mof)
    )
    return [
        divider(),
        section("\n".join([license_line, *findings])),
        section(f"*Openness:* {verdicts}"),
        context(
            _seen(evidence),
            "`/models license-check` and `/models openness` show the details.",
        ),
    ]


def clause_diff_blocks(path: str, diff: ClauseDiff, *, diff_chars: int = 2500) -> list[Block]:
    """One changed license file: the clause summary first, then the unified diff."""
    summary = "\n".join(f"• {escape(line)}" for line in diff.summary)
    blocks = [section(f"*{escape(path)}*\n{summary}")]
    if diff.unified_diff:
        blocks.append(section(code(diff.unified_diff, limit=diff_chars)))
    return blocks
