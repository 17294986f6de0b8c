"""Views of what the watcher found: check summaries, changes, license diffs."""

from __future__ import annotations

from typing import Any

from bot.render.blocks import Block, Reply, context, escape, fit, header, section
from bot.render.licenses import clause_diff_blocks
from governance.core.clock import format_time
from governance.core.kinds import ChangeKind
from governance.flows.recheck import CycleReport
from governance.licenses.clauses import ClauseDiff
from governance.licenses.knowledge import load_knowledge_base
from governance.upstream.hub import RepoStatus
from governance.upstream.lineage import lineage_of
from governance.upstream.models import Change, Snapshot

# Keyed by kind; a stored change's kind is its plain string value, which looks up the same.
KIND_ICONS: dict[str, str] = {
    ChangeKind.LICENSE_CHANGED: ":warning:",
    ChangeKind.LICENSE_TEXT_CHANGED: ":warning:",
    ChangeKind.LICENSE_FILE_ADDED: ":warning:",
    ChangeKind.LICENSE_FILE_REMOVED: ":warning:",
    ChangeKind.GATING_CHANGED: ":lock:",
    ChangeKind.REVISION_CHANGED: ":information_source:",
    ChangeKind.RENAMED: ":label:",
    ChangeKind.UNAVAILABLE: ":x:",
    ChangeKind.DISABLED: ":x:",
    ChangeKind.SUPERSEDED: ":arrow_up:",
    ChangeKind.NEW_RELEASE_IN_FAMILY: ":new:",
    ChangeKind.BASE_TERMS_CHANGED: ":warning:",
}


def cycle_reply(report: CycleReport) -> Reply:
    """The summary of one recheck cycle: counts, then each change and failure."""
    listings = len(report.listing_failures)
    line = (
        f"Checked {report.checked}: {report.unchanged} unchanged, {report.changed} changed, "
        f"{report.first} first snapshots, {report.failed} failed"
        + (f", {listings} author listing{'s' if listings > 1 else ''} failed" if listings else "")
        + f"; {report.requests} Hub requests in {report.elapsed:.1f}s."
    )
    blocks: list[Block] = [section(escape(line))]
    for repo, kind, summary in report.changes[:30]:
        icon = KIND_ICONS.get(kind, ":bell:")
        blocks.append(section(f"{icon} *{escape(repo)}* · {escape(kind)}\n{escape(summary)}"))
    for repo, error in report.failures[:10]:
        blocks.append(
            context(f":warning: {escape(repo)}: {escape(error)} (not a change; retried next cycle)")
        )
    for author, error in report.listing_failures[:10]:
        blocks.append(
            context(
                f":warning: listing of {escape(author)} failed: {escape(error)} (its models were "
                "checked one by one; new releases are looked for next cycle)"
            )
        )
    text = line + "".join(f"\n{repo}: {summary}" for repo, _, summary in report.changes)
    data: dict[str, Any] = {
        "cycle_id": report.cycle_id,
        "checked": report.checked,
        "unchanged": report.unchanged,
        "changed": report.changed,
        "first": report.first,
        "failed": report.failed,  # models whose check failed: len(failures)
        "failed_listings": len(report.listing_failures),  # len(listing_failures)
        "requests": report.requests,
        "elapsed_seconds": round(report.elapsed, 3),
        "changes": [{"repo_id": r, "kind": k, "summary": s} for r, k, s in report.changes],
        "failures": [{"repo_id": r, "error": e} for r, e in report.failures],
        "listing_failures": [{"author": a, "error": e} for a, e in report.listing_failures],
    }
    return Reply(text=text, blocks=fit(blocks), data=data)


def change_data(change: Change, repo_id: str) -> dict[str, Any]:
    """One upstream change as JSON-ready data (for --json)."""
    return {
        "id": change.id,
        "repo_id": repo_id,
        "kind": change.kind,
        "summary": change.summary,
        "detected_at": change.detected_at.isoformat(),
        "before": change.before,
        "after": change.after,
    }


def changes_reply(changes: list[tuple[Change, str]], *, title: str) -> Reply:
    """The answer to ``changes``: one line per change, newest first as given."""
    if not changes:
        text = f"{title}: none recorded yet."
        return Reply(text=text, blocks=[section(escape(text))], data={"changes": []})
    blocks: list[Block] = [header(title)]
    for change, repo in changes:
        icon = KIND_ICONS.get(change.kind, ":bell:")
        blocks.append(
            section(
                f"{icon} *{escape(repo)}* · {escape(change.kind)} · "
                f"{format_time(change.detected_at)}\n{escape(change.summary)}"
            )
        )
    text = f"{title}:\n" + "\n".join(
        f"{format_time(c.detected_at)} {repo} {c.kind}: {c.summary}" for c, repo in changes
    )
    return Reply(
        text=text, blocks=fit(blocks), data={"changes": [change_data(c, r) for c, r in changes]}
    )


def diff_reply(repo_id: str, old: Snapshot, new: Snapshot, diffs: dict[str, ClauseDiff]) -> Reply:
    """Per changed license file: the clause summary first, then the unified diff."""
    title = f"License diff of {repo_id}: {(old.sha or '?')[:12]} → {(new.sha or '?')[:12]}"
    blocks: list[Block] = [header(title)]
    text_parts = [title]
    for path, diff in diffs.items():
        blocks += clause_diff_blocks(path, diff)
        text_parts += [path, *diff.summary, diff.unified_diff]
    files = [
        {"path": p, "summary": list(d.summary), "diff": d.unified_diff} for p, d in diffs.items()
    ]
    return Reply(
        text="\n".join(text_parts),
        blocks=fit(blocks),
        data={"repo_id": repo_id, "from": old.sha, "to": new.sha, "files": files},
    )


def untracked_info_reply(repo_id: str, status: RepoStatus) -> Reply:
    """A model nobody requested yet: what the Hub says, and how to request it."""
    terms = load_knowledge_base().find(status.license_name or status.license or "")
    shown = status.license_name or status.license or "none given"
    facts = [
        f"*License (card):* {escape(shown)}",
        f"*Gated:* {escape(status.gated)}",
        f"*Revision:* `{escape(status.sha[:12])}`",
        f"*Last modified:* {format_time(status.last_modified)}",
    ]
    if terms is not None:
        commercial = terms.commercial_use + (
            f" ({terms.commercial_condition})" if terms.commercial_condition else ""
        )
        facts.append(f"*Commercial use ({escape(terms.name)}):* {escape(commercial)}")
    if status.renamed_from:
        facts.append(f"*Renamed from:* {escape(status.renamed_from)}")
    lineage = lineage_of(
        base_model=status.base_model,
        relation=status.base_model_relation,
        tags=status.tags,
        files=None,
    )
    if lineage is not None:
        facts.append(f"*Lineage:* {escape(lineage.describe())}")
        facts.append(
            "_Its base's license may bind it: watch or request it, and `/models license-check` "
            "says whose terms bind once it is checked._"
        )
    hint = f"Not tracked yet: `/models request {status.repo_id} --use <use>` to ask for it."
    blocks: list[Block] = [header(status.repo_id), section("\n".join(facts)), context(escape(hint))]
    text = f"{status.repo_id} (not tracked): license {shown}, gated {status.gated}. {hint}"
    data = {
        "repo_id": status.repo_id,
        "tracked": False,
        "license": status.license,
        "license_name": status.license_name,
        "gated": status.gated,
        "sha": status.sha,
        "commercial_use": terms.commercial_use if terms else None,
        "lineage": {
            "bases": list(lineage.bases),
            "relation": lineage.relation,
            "relation_source": lineage.source,
        }
        if lineage
        else None,
    }
    return Reply(text=text, blocks=blocks, data=data)
