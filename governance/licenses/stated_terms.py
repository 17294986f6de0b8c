"""The governance-relevant terms a license states in its own words, and how they changed.

``extract_terms`` reads them from a text (release date, attribution, naming rule, output
restriction, user threshold, ...); ``text_term_changes`` compares two readings and
``kb_term_changes`` two knowledge-base entries, each change with the sentence an approver reads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from typing import Any, Literal

from governance.licenses.knowledge import LicenseTerms
from governance.licenses.normalize import comparison_form, normalize_text


@dataclass(frozen=True)
class TermChange:
    """One term that changed, with its sentence; ``source`` says whether texts or the KB told."""

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


def text_term_changes(old: TextTerms, new: TextTerms) -> list[TermChange]:
    """The terms two readings of license texts state differently, each with its sentence."""
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
TERMS_READ_FROM_TEXT = frozenset(
    {
        "user_threshold",
        "attribution",
        "naming_rule",
        "use_policy_url",
        "output_restriction",
        "research_only",
        "governing_law",
    }
)


def kb_term_changes(old: LicenseTerms, new: LicenseTerms, skip: frozenset[str]) -> list[TermChange]:
    """The knowledge-base terms that flipped between two licenses, leaving out ``skip``.

    A term unknown on either side is left out: it is not a flip we can report.
    """
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
