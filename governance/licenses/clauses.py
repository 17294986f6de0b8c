"""Clause-level change summaries between two license texts (or two license ids).

Approvers need "the output restriction was removed", not a wall of diff. We split each text
into keyed sections (``sections``), compare them after neutralising the product name (so
"Meta Llama 3" -> "Llama 3.1" alone is not a change), read key terms out of each text
(``stated_terms``), and put the term changes first, then sections, then the diff.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Literal

from governance.licenses.knowledge import KnowledgeBase, load_knowledge_base
from governance.licenses.normalize import comparison_form, normalize_text
from governance.licenses.sections import split_sections
from governance.licenses.stated_terms import (
    TERMS_READ_FROM_TEXT,
    TermChange,
    extract_terms,
    kb_term_changes,
    text_term_changes,
)

ChangeKind = Literal["added", "removed", "modified"]

_TITLE_WORDS = {"community", "license", "licence", "agreement", "terms", "of", "use", "research"}


@dataclass(frozen=True)
class SectionChange:
    kind: ChangeKind
    key: str
    heading: str
    old: str | None
    new: str | None

    def describe(self) -> str:
        label = f"Section {self.key}" + (f" ({self.heading})" if self.heading else "")
        return f"{label} {self.kind}."


@dataclass(frozen=True)
class ClauseDiff:
    """A change between two license versions: summary first, details after."""

    summary: tuple[str, ...]
    term_changes: tuple[TermChange, ...]
    section_changes: tuple[SectionChange, ...]
    renamed_only: tuple[str, ...]  # sections whose only change is the product name
    unified_diff: str
    old_id: str | None = None
    new_id: str | None = None


def _name_tokens(*texts: str) -> set[str]:
    """Words of the products' names, taken from each title line ("meta llama 3", "llama 3 1")."""
    tokens: set[str] = set()
    for text in texts:
        first = next((line for line in normalize_text(text).splitlines() if line.strip()), "")
        for word in comparison_form(first).split():
            if word in _TITLE_WORDS:
                break
            tokens.add(word)
    return tokens


def _neutral(key: str, names: set[str]) -> str:
    """Key the definition of the product itself the same way in both versions."""
    if key.startswith("definition "):
        words = comparison_form(key.removeprefix("definition ")).split()
        if words and set(words) <= names:
            return "definition (product name)"
    return key


def _substantive(old: str, new: str, names: set[str]) -> bool:
    a, b = comparison_form(old).split(), comparison_form(new).split()
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op != "equal" and not set(a[i1:i2] + b[j1:j2]) <= names:
            return True
    return False


def diff_texts(
    old_text: str,
    new_text: str,
    *,
    old_id: str | None = None,
    new_id: str | None = None,
    kb: KnowledgeBase | None = None,
) -> ClauseDiff:
    """Summarize what changed between two license texts, clause by clause."""
    names = _name_tokens(old_text, new_text)
    old_sections = {_neutral(s.key, names): s for s in split_sections(old_text)}
    new_sections = {_neutral(s.key, names): s for s in split_sections(new_text)}
    section_changes: list[SectionChange] = []
    renamed: list[str] = []
    for key in list(old_sections) + [k for k in new_sections if k not in old_sections]:
        a, b = old_sections.get(key), new_sections.get(key)
        if a and b:
            if comparison_form(a.text) == comparison_form(b.text):
                continue
            if not _substantive(a.text, b.text, names):
                renamed.append(key)
                continue
            section_changes.append(
                SectionChange("modified", key, b.heading or a.heading, a.text, b.text)
            )
        elif a:
            section_changes.append(SectionChange("removed", key, a.heading, a.text, None))
        elif b:
            section_changes.append(SectionChange("added", key, b.heading, None, b.text))
    term_changes = text_term_changes(extract_terms(old_text), extract_terms(new_text))
    if old_id and new_id and old_id != new_id:
        kb = kb or load_knowledge_base()
        old_terms, new_terms = kb.find(old_id), kb.find(new_id)
        if old_terms and new_terms:
            term_changes += kb_term_changes(old_terms, new_terms, TERMS_READ_FROM_TEXT)
    diff = "".join(
        difflib.unified_diff(
            normalize_text(old_text).splitlines(keepends=True),
            normalize_text(new_text).splitlines(keepends=True),
            fromfile=old_id or "old",
            tofile=new_id or "new",
        )
    )
    return ClauseDiff(
        summary=_summary(term_changes, section_changes, renamed),
        term_changes=tuple(term_changes),
        section_changes=tuple(section_changes),
        renamed_only=tuple(renamed),
        unified_diff=diff,
        old_id=old_id,
        new_id=new_id,
    )


def diff_license_ids(old_id: str, new_id: str, *, kb: KnowledgeBase | None = None) -> ClauseDiff:
    """Summarize a license change from the knowledge base alone (no texts available)."""
    kb = kb or load_knowledge_base()
    old, new = kb.get(old_id), kb.get(new_id)
    changes = kb_term_changes(old, new, frozenset())
    head = f"License changed from {old.name} to {new.name}."
    return ClauseDiff(
        summary=(head, *(c.message for c in changes)),
        term_changes=tuple(changes),
        section_changes=(),
        renamed_only=(),
        unified_diff="",
        old_id=old.id,
        new_id=new.id,
    )


def _summary(
    terms: list[TermChange], sections: list[SectionChange], renamed: list[str]
) -> tuple[str, ...]:
    lines = [c.message for c in terms]
    parts: dict[tuple[str, str], int] = {}
    for change in sections:
        part = _part(change.key)
        if part:
            parts[(part, change.kind)] = parts.get((part, change.kind), 0) + 1
            continue
        lines.append(change.describe())
    for (part, kind), count in parts.items():
        what = "acceptable use policy text" if part == "use policy" else part
        verb = {"added": "was appended", "removed": "was removed", "modified": "changed"}[kind]
        lines.append(f"The {what} included in the file {verb} ({count} sections).")
    if renamed:
        lines.append(f"{len(renamed)} sections changed only the product name.")
    return tuple(lines) or ("No substantive change.",)


def _part(key: str) -> str:
    for prefix in ("use policy", "part 2"):
        if key.startswith(prefix + " "):
            return prefix
    return ""
