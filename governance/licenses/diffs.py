"""Clause-level summaries of license file changes, for ``/models diff`` and alerts.

The watcher stores texts by hash; ``clause_diffs`` takes the (old text, new text) pairs of the
paths that changed and returns, per path, the clause summary (shown first) and the unified diff.
When both texts are identified as different known licenses, the knowledge base's term flips
are added (e.g. "output restriction removed").
"""

from __future__ import annotations

from collections.abc import Mapping

from governance.licenses.clauses import ClauseDiff, diff_texts
from governance.licenses.identify import identify_text
from governance.licenses.knowledge import KnowledgeBase, load_knowledge_base


def clause_diff(
    path: str,
    old_text: str,
    new_text: str,
    *,
    old_ref: str = "old",
    new_ref: str = "new",
    kb: KnowledgeBase | None = None,
) -> ClauseDiff:
    """The clause summary and unified diff of one license file between two revisions.

    ``old_ref``/``new_ref`` label the diff (e.g. short commit shas). An empty text stands for a
    file that was added or removed. Returns a ``ClauseDiff``; its ``summary`` leads with what the
    texts are when they are different known licenses.
    """
    kb = kb or load_knowledge_base()
    old_id = identify_text(old_text, kb=kb) if old_text.strip() else None
    new_id = identify_text(new_text, kb=kb) if new_text.strip() else None
    ids: tuple[str | None, str | None] = (None, None)
    if (
        old_id is not None
        and new_id is not None
        and old_id.identified
        and new_id.identified
        and old_id.license_id != new_id.license_id
    ):
        ids = (old_id.license_id, new_id.license_id)
    result = diff_texts(old_text, new_text, old_id=ids[0], new_id=ids[1], kb=kb)
    head: list[str] = []
    if not old_text.strip():
        head.append(f"{path} was added.")
    elif not new_text.strip():
        head.append(f"{path} was removed.")
    elif ids[0] and ids[1]:
        head.append(f"{path} changed from the {kb.get(ids[0]).name} to the {kb.get(ids[1]).name}.")
    elif new_id is not None and not new_id.identified:
        head.append(f"The new {path} is {new_id.message[0].lower()}{new_id.message[1:]}")
    diff = _relabel(result.unified_diff, path, old_ref, new_ref)
    return ClauseDiff(
        summary=(*head, *result.summary),
        term_changes=result.term_changes,
        section_changes=result.section_changes,
        renamed_only=result.renamed_only,
        unified_diff=diff,
        old_id=result.old_id,
        new_id=result.new_id,
    )


def clause_diffs(
    texts: Mapping[str, tuple[str, str]],
    *,
    old_ref: str = "old",
    new_ref: str = "new",
    kb: KnowledgeBase | None = None,
) -> dict[str, ClauseDiff]:
    """``clause_diff`` for each path of ``{path: (old text, new text)}``, in path order."""
    return {
        path: clause_diff(path, old, new, old_ref=old_ref, new_ref=new_ref, kb=kb)
        for path, (old, new) in sorted(texts.items())
    }


def _relabel(diff: str, path: str, old_ref: str, new_ref: str) -> str:
    lines = diff.splitlines(keepends=True)
    if len(lines) >= 2 and lines[0].startswith("--- ") and lines[1].startswith("+++ "):
        lines[0] = f"--- {path}@{old_ref}\n"
        lines[1] = f"+++ {path}@{new_ref}\n"
    return "".join(lines)
