"""Clause-level change summaries between two license texts (or two license ids).

Approvers need "the output restriction was removed", not a wall of diff. We split each text
into numbered sections (1, 1.b, 1.b.v; definitions by their quoted term), compare them after
neutralising the product name (so "Meta Llama 3" -> "Llama 3.1" alone is not a change), read
key terms out of each text, and put the term changes first, then sections, then the diff.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, fields
from typing import Any, Literal

from governance.licenses.knowledge import KnowledgeBase, LicenseTerms, load_knowledge_base
from governance.licenses.normalize import comparison_form, normalize_text

ChangeKind = Literal["added", "removed", "modified"]

_ROMAN = ("i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x")
_NUMBERED = re.compile(r"^\s*(?:#+\s*)?(?:\*\*)?(\d{1,2}|[a-z]|[ivx]{1,4})[.)]\s+(.*)$")
_DEFINITION = re.compile(r'^\s*"([^"]{1,60})"')
_POLICY_TITLE = re.compile(r"(acceptable|prohibited) use policy\W*$", re.IGNORECASE)
_DATE_LINE = re.compile(r"version (?:release|effective) date", re.IGNORECASE)
_TITLE_WORDS = {"community", "license", "licence", "agreement", "terms", "of", "use", "research"}


@dataclass(frozen=True)
class Section:
    key: str
    heading: str
    text: str


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
class TermChange:
    term: str
    old: Any
    new: Any
    message: str
    source: Literal["text", "kb"]


@dataclass(frozen=True)
class TextTerms:
    """Terms read from a license text. ``None``/empty means "not stated in this text"."""

    release_date: str | None
    attribution: tuple[str, ...]
    naming_rule: str | None
    output_restriction: bool
    user_threshold: int | None
    use_policy_url: str | None
    eu_restriction: bool
    governing_law: str | None
    research_only: bool
    remote_restriction: bool
    must_update: bool


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


# ---------------------------------------------------------------------------- sections


def _heading(body: str) -> str:
    first = body.split(". ", 1)[0].strip().strip("*").rstrip(".")
    return first if 0 < len(first.split()) <= 6 and first[:1].isupper() else ""


def split_sections(text: str) -> list[Section]:
    """Split a license into keyed sections; a restart of numbering starts a new part.

    Before the first numbered section, blank-line paragraphs are keyed by the term they
    define ('"Licensee" means ...') or by their first words, so reordering does not matter.
    """
    sections: list[Section] = []
    part, top, letter, roman = "", "", "", ""
    key, heading, body = "preamble", "title", []
    headings: dict[str, str] = {}

    def flush() -> None:
        content = " ".join(" ".join(body).split())
        if not content:
            return
        parent = key.rsplit(".", 1)[0] if "." in key else ""
        # Sub-clauses rarely have their own heading; borrow the nearest ancestor's.
        label = heading or headings.get(part + parent, "") or headings.get(part + top, "")
        headings[part + key] = heading
        sections.append(Section(part + key, label, content))

    for line in normalize_text(text).splitlines():
        stripped = line.strip()
        match = _NUMBERED.match(line)
        token = match.group(1) if match else ""
        if _POLICY_TITLE.search(stripped) and len(stripped.split()) <= 8 and top:
            flush()
            part, top, letter, roman = "use policy ", "", "", ""
            key, heading, body = "title", stripped.strip("*# "), []
            continue
        if token.isdigit():
            if top and int(token) < int(top) and not part:
                part = "part 2 "
            flush()
            top, letter, roman = token, "", ""
            key, heading, body = top, _heading(match.group(2)), [match.group(2)]
        elif match and top and _is_roman(token, letter, roman):
            flush()
            roman = token
            key = f"{top}.{letter}.{roman}" if letter else f"{top}.{roman}"
            heading, body = _heading(match.group(2)), [match.group(2)]
        elif match and top and len(token) == 1 and token.isalpha():
            flush()
            letter, roman = token, ""
            key, heading, body = f"{top}.{letter}", _heading(match.group(2)), [match.group(2)]
        elif not top and not stripped:
            flush()
            key, heading, body = "", "", []
        elif not top and _DATE_LINE.search(stripped):
            flush()
            key, heading, body = "release date", "", [stripped]
        elif not top and ((not body and key != "preamble") or _DEFINITION.match(stripped)):
            flush()
            definition = _DEFINITION.match(stripped)
            if definition:
                key = f"definition {definition.group(1)}"
            else:
                key = "paragraph " + " ".join(comparison_form(stripped).split()[:3])
            heading, body = "", [stripped]
        else:
            body.append(stripped)
    flush()
    return sections


def _is_roman(token: str, letter: str, roman: str) -> bool:
    if token not in _ROMAN or not letter:
        return False
    expected = _ROMAN[_ROMAN.index(roman) + 1] if roman in _ROMAN[:-1] else "i"
    # "i" right after "h" is the next letter, not a roman numeral.
    return token == expected and not (token == "i" and letter == "h" and not roman)


# ---------------------------------------------------------------------------- terms from text


def _quoted(pattern: str, text: str) -> list[str]:
    return re.findall(pattern, text, flags=re.IGNORECASE)


def extract_terms(text: str) -> TextTerms:
    """Read the governance-relevant terms that a license states in its own words."""
    norm = normalize_text(text)
    flat = " ".join(norm.split())
    form = comparison_form(text)
    date = re.search(r"(?:release|effective) date:?\s*([A-Z][a-z]+ \d{1,2}, \d{4})", flat, re.I)
    attribution = tuple(
        dict.fromkeys(_quoted(r'"((?:Built|Improved|Powered) (?:with|using|by) [^"]{1,40})"', flat))
    )
    naming = re.search(r'include "([^"]{1,30})" at the beginning of any such', flat, re.I)
    threshold = re.search(r"(?:greater|more) than ([\d,.]+) million monthly active users", flat)
    policy = re.search(
        r"(https?://[^\s)]*(?:use-policy|use_policy|prohibited_use)[^\s)]*?)[.,]?(?:[\s)]|$)", flat
    )
    law = re.search(
        r"governed (?:and construed )?(?:by|under) the laws of (.{3,60}?)(?= without|[,.;])",
        flat,
        re.I,
    )
    eu = bool(
        re.search(
            r"european union.{0,200}not (?:being )?granted"
            r"|not (?:being )?granted.{0,300}european union",
            form,
        )
    )
    return TextTerms(
        release_date=date.group(1) if date else None,
        attribution=attribution,
        naming_rule=naming.group(1) if naming else None,
        output_restriction=bool(
            re.search(
                r"(?:outputs?|results) .{0,60}to improve any other large language model", form
            )
        ),
        user_threshold=int(float(threshold.group(1).replace(",", "")) * 1_000_000)
        if threshold
        else None,
        use_policy_url=policy.group(1) if policy else None,
        eu_restriction=eu,
        governing_law=" ".join(law.group(1).split()) if law else None,
        research_only=bool(
            re.search(
                r"non commercial purposes only|research (?:or evaluation )?purposes only", form
            )
        ),
        remote_restriction="remotely or otherwise" in form or "restrict remotely" in form,
        must_update="use the latest version" in form,
    )


_TERM_LABELS = {
    "release_date": "release date",
    "naming_rule": "naming rule",
    "user_threshold": "monthly-active-user threshold",
    "use_policy_url": "use policy link",
    "governing_law": "governing law",
}


def _flag(term: str, old: bool, new: bool) -> str:
    labels = {
        "output_restriction": "the clause forbidding the use of outputs to improve other large "
        "language models",
        "eu_restriction": "the EU restriction (rights withheld from people and firms in the EU)",
        "research_only": "the research-only / non-commercial limit",
        "remote_restriction": "the licensor's right to restrict use remotely",
        "must_update": "the duty to use the latest version",
        "flow_down": "the flow-down of use restrictions",
        "osi_approved": "OSI approval",
    }
    label = labels.get(term, term.replace("_", " "))
    return f"{label[0].upper()}{label[1:]} was {'added' if new and not old else 'removed'}."


def _term_changes(old: TextTerms, new: TextTerms) -> list[TermChange]:
    changes: list[TermChange] = []
    for item in fields(TextTerms):
        a, b = getattr(old, item.name), getattr(new, item.name)
        if a == b:
            continue
        if isinstance(a, bool):
            message = _flag(item.name, a, b)
        elif item.name == "attribution":
            message = _attribution_message(a, b)
        elif item.name == "naming_rule" and b:
            message = f'Derivative model names must now begin with "{b}"' + (
                f' (was "{a}").' if a else "."
            )
        else:
            label = _TERM_LABELS.get(item.name, item.name)
            message = f"The {label} changed from {a or 'none'} to {b or 'none'}."
        changes.append(TermChange(item.name, a, b, message, "text"))
    return changes


def _attribution_message(old: tuple[str, ...], new: tuple[str, ...]) -> str:
    quote = ", ".join
    if old and new:
        return f'Attribution changed from "{quote(old)}" to "{quote(new)}".'
    if new:
        return f'Attribution "{quote(new)}" is now required.'
    return f'The attribution requirement "{quote(old)}" was removed.'


_KB_TERMS = (
    "commercial_use",
    "user_threshold",
    "attribution",
    "naming_rule",
    "use_policy_url",
    "flow_down",
    "output_restriction",
    "geographic_restrictions",
    "remote_restriction",
    "must_update",
    "research_only",
    "governing_law",
    "osi_approved",
)
# KB terms already read from the texts themselves; the text reading wins when both exist.
_COVERED_BY_TEXT = {
    "user_threshold",
    "attribution",
    "naming_rule",
    "use_policy_url",
    "output_restriction",
    "research_only",
    "governing_law",
}


def _kb_changes(old: LicenseTerms, new: LicenseTerms, skip: set[str]) -> list[TermChange]:
    changes: list[TermChange] = []
    for term in _KB_TERMS:
        if term in skip:
            continue
        a, b = getattr(old, term), getattr(new, term)
        if a == b or a is None or b is None:
            continue  # unknown on either side is not a flip we can report
        if isinstance(a, bool):
            message = _flag(term, a, b)
        elif term == "attribution":
            message = _attribution_message(a, b)
        elif term == "geographic_restrictions":
            message = (
                f"Geographic restrictions were added: {'; '.join(b)}"
                if b and not a
                else "Geographic restrictions were removed."
                if not b
                else f"Geographic restrictions changed to: {'; '.join(b)}"
            )
        else:
            message = f"The {term.replace('_', ' ')} changed from {a} to {b}."
        changes.append(TermChange(term, a, b, message, "kb"))
    return changes


# ---------------------------------------------------------------------------- diff


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
    term_changes = _term_changes(extract_terms(old_text), extract_terms(new_text))
    if old_id and new_id and old_id != new_id:
        kb = kb or load_knowledge_base()
        old_terms, new_terms = kb.find(old_id), kb.find(new_id)
        if old_terms and new_terms:
            term_changes += _kb_changes(old_terms, new_terms, _COVERED_BY_TEXT)
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
    changes = _kb_changes(old, new, set())
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
