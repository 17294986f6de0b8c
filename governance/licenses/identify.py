"""Identifying a model's license from card metadata and from the license text itself.

Text identification is deliberately conservative: a confident answer needs the document's
title line, every required version string, enough distinctive clauses and no contradicting
phrase. Anything less comes back ``unidentified`` ("needs a human"), never a best guess,
because calling a research license "Apache-2.0" is far worse than asking.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from governance.licenses.knowledge import Document, KnowledgeBase, Signature, load_knowledge_base
from governance.licenses.normalize import comparison_form, normalize_text

TextStatus = Literal["identified", "unidentified", "multiple"]
MetaStatus = Literal["identified", "unresolved", "missing", "conflict"]
Severity = Literal["info", "warning", "error"]

NEEDS_HUMAN = "unidentified: needs a human"
_BUNDLE_WORDS = 200  # unknown text this long before a title counts as another license
_HEAD_WINDOW = 300  # characters of comparison form that count as "the top of the document"


@dataclass(frozen=True)
class TextIdentification:
    """What a LICENSE or USE_POLICY text is, with the signals that decided it."""

    status: TextStatus
    license_id: str | None
    document: Document | None
    confidence: float
    method: Literal["fingerprint", "signature", "none"]
    message: str
    evidence: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()  # expected clauses not found: the text may have been edited
    candidates: tuple[str, ...] = ()
    family_hint: str | None = None

    @property
    def identified(self) -> bool:
        """True when the text was identified as one known license or policy."""
        return self.status == "identified"


@dataclass(frozen=True)
class MetadataIdentification:
    """What the model card and tags claim about the license."""

    status: MetaStatus
    license_id: str | None
    declared: str | None
    license_name: str | None
    license_link: str | None
    tag_ids: tuple[str, ...]
    message: str


@dataclass(frozen=True)
class Finding:
    """One thing an approver should know about the license evidence."""

    code: str
    severity: Severity
    message: str


# ---------------------------------------------------------------------------- text


def _has(phrase: str, form: str) -> bool:
    if phrase.startswith("re:"):
        return re.search(phrase[3:], form) is not None
    return f" {phrase} " in f" {form} "


def _head_lines(text: str) -> list[str]:
    return [line for line in (comparison_form(raw) for raw in text.splitlines()) if line]


def _starts_line(head: str, lines: Iterable[str]) -> bool:
    return any(line == head or line.startswith(head + " ") for line in lines)


@dataclass(frozen=True)
class _Match:
    signature: Signature
    found: tuple[str, ...]
    missing: tuple[str, ...]
    confidence: float


def _match(sig: Signature, form: str, lines: list[str], raw_lower: str) -> _Match | None:
    if sig.head is not None and not _starts_line(sig.head, lines):
        return None
    if not all(_has(p, form) for p in sig.requires):
        return None
    if any(_has(p, form) for p in sig.excludes):
        return None
    top = form[:_HEAD_WINDOW]
    if any(_has(p, top) for p in sig.head_excludes):
        return None
    if not all(re.search(p, raw_lower) for p in sig.raw_requires):
        return None
    if any(re.search(p, raw_lower) for p in sig.raw_excludes):
        return None
    found = tuple(m for m in sig.markers if _has(m, form))
    if len(found) < sig.min_markers:
        return None
    missing = tuple(m for m in sig.markers if m not in found)
    share = len(found) / len(sig.markers) if sig.markers else 1.0
    # A title line plus version strings is strong; markers refine. Without a title the
    # ceiling is lower because the phrases could sit inside a larger, different document.
    confidence = (0.75 if sig.head else 0.7) + (0.2 if sig.head else 0.15) * share
    return _Match(sig, found, missing, round(confidence, 2))


def _family_hint(kb: KnowledgeBase, form: str) -> str | None:
    best: tuple[int, str] | None = None
    for family in kb.families:
        hits = sum(_has(m, form) for m in family.markers)
        if hits >= family.min_markers and (best is None or hits > best[0]):
            best = (hits, family.id)
    return best[1] if best else None


def _unidentified(kb: KnowledgeBase, form: str, why: str) -> TextIdentification:
    hint = _family_hint(kb, form)
    family = next((f.name for f in kb.families if f.id == hint), None)
    resembles = (
        f" It resembles the {family} family, but no known version matched." if family else ""
    )
    return TextIdentification(
        status="unidentified",
        license_id=None,
        document=None,
        confidence=0.0,
        method="none",
        message=f"{NEEDS_HUMAN}: {why}.{resembles}",
        family_hint=hint,
    )


def identify_text(text: str, *, kb: KnowledgeBase | None = None) -> TextIdentification:
    """Identify a license or use-policy text; unknown texts come back unidentified."""
    kb = kb or load_knowledge_base()
    form = comparison_form(text)
    if len(form.split()) < 20:
        return _unidentified(kb, form, "the text is empty or too short to be a license")
    digest = hashlib.sha256(form.encode("utf-8")).hexdigest()
    for sig in kb.signatures:
        if digest in sig.fingerprints:
            name = kb.get(sig.license).name
            return TextIdentification(
                status="identified",
                license_id=sig.license,
                document=sig.document,
                confidence=1.0,
                method="fingerprint",
                message=f"Exact copy of the reviewed {name} {_doc_word(sig.document)}.",
                evidence=(f"fingerprint {digest[:12]}",),
            )
    lines = _head_lines(text)
    raw_lower = normalize_text(text).lower()
    matches = [m for sig in kb.signatures if (m := _match(sig, form, lines, raw_lower))]
    if not matches:
        return _unidentified(kb, form, "no known license matched all of its signals")
    licenses = sorted({m.signature.license for m in matches})
    if len(licenses) > 1:
        names = ", ".join(kb.get(i).name for i in licenses)
        return TextIdentification(
            status="multiple",
            license_id=None,
            document=None,
            confidence=0.0,
            method="signature",
            message=f"{NEEDS_HUMAN}: the text matches several licenses ({names}); "
            "it may bundle more than one license.",
            candidates=tuple(licenses),
        )
    # One license; a license text may carry its use policy appended, so prefer "license".
    best = max(matches, key=lambda m: (m.signature.document == "license", m.confidence))
    before = _text_before_head(text, best.signature.head)
    first = identify_text(before, kb=kb) if before.strip() else None
    if first and (first.status != "unidentified" or len(before.split()) > _BUNDLE_WORDS):
        # Another license (or a long unknown text) before the title: a bundle, e.g. MIT for
        # the code and a vendor license for the weights. Naming either alone would mislead.
        candidates = tuple(
            dict.fromkeys([*first.candidates, first.license_id or "", best.signature.license])
        )
        return TextIdentification(
            status="multiple",
            license_id=None,
            document=None,
            confidence=0.0,
            method="signature",
            message=f"{NEEDS_HUMAN}: the file contains the {kb.get(best.signature.license).name} "
            "after other license text; it may bundle more than one license.",
            candidates=tuple(c for c in candidates if c),
        )
    name = kb.get(best.signature.license).name
    edited = (
        f" Expected clauses not found: {'; '.join(best.missing)} (the text may be edited)."
        if best.missing
        else ""
    )
    return TextIdentification(
        status="identified",
        license_id=best.signature.license,
        document=best.signature.document,
        confidence=best.confidence,
        method="signature",
        message=f"{name} {_doc_word(best.signature.document)} (confidence "
        f"{best.confidence:.2f}).{edited}",
        evidence=tuple(p for p in (best.signature.head, *best.signature.requires) if p)
        + best.found,
        missing=best.missing,
    )


def _text_before_head(text: str, head: str | None) -> str:
    if head is None:
        return ""
    lines = text.splitlines()
    for index, line in enumerate(lines):
        form = comparison_form(line)
        if form == head or form.startswith(head + " "):
            return "\n".join(lines[:index])
    return ""


def _doc_word(document: Document) -> str:
    return "use policy" if document == "use_policy" else "license text"


# ---------------------------------------------------------------------------- metadata


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, Sequence):
        return [str(v) for v in value if v]
    return [str(value)]


def identify_metadata(
    card_data: Mapping[str, Any] | None,
    tags: Sequence[str] = (),
    *,
    kb: KnowledgeBase | None = None,
) -> MetadataIdentification:
    """Resolve the card's ``license`` (and ``license_name``/``license_link`` for ``other``)."""
    kb = kb or load_knowledge_base()
    card = card_data or {}
    declared_list = _as_list(card.get("license"))
    name = next(iter(_as_list(card.get("license_name"))), None)
    link = next(iter(_as_list(card.get("license_link"))), None)
    tag_ids = tuple(t.split(":", 1)[1] for t in tags if t.startswith("license:"))
    declared = declared_list[0] if declared_list else (tag_ids[0] if tag_ids else None)

    def result(status: MetaStatus, license_id: str | None, message: str) -> MetadataIdentification:
        return MetadataIdentification(status, license_id, declared, name, link, tag_ids, message)

    if len(set(declared_list)) > 1:
        return result("conflict", None, f"The card lists several licenses: {declared_list}.")
    if declared is None:
        return result("missing", None, "The card declares no license.")
    terms = kb.find(declared)
    if terms is not None and terms.id not in ("other", "unknown"):
        return result("identified", terms.id, f"The card declares {terms.name}.")
    if terms is not None and terms.id == "unknown":
        return result("unresolved", None, "The card says the license is unknown.")
    by_name = kb.find(name)
    by_link = kb.by_source(link) if link and link.startswith("http") else None
    if by_name and by_link and by_name.id != by_link.id:
        return result(
            "conflict",
            None,
            f"license_name {name!r} suggests {by_name.name} but license_link {link} "
            f"is the source of {by_link.name}.",
        )
    resolved = by_name or by_link
    if resolved is not None:
        via = f"license_name {name!r}" if by_name else f"license_link {link}"
        return result("identified", resolved.id, f"The card names {resolved.name} ({via}).")
    if terms is None:
        return result("unresolved", None, f"The card's license {declared!r} is not a known id.")
    what = f"license_name {name!r}" if name else "no license_name"
    return result("unresolved", None, f"The card says 'other' with {what}; needs a human.")


# ---------------------------------------------------------------------------- reconcile


def reconcile(
    metadata: MetadataIdentification,
    license_text: TextIdentification | None,
    use_policy_text: TextIdentification | None = None,
    *,
    kb: KnowledgeBase | None = None,
) -> tuple[Finding, ...]:
    """Compare what the card says with what the files say; return findings for approvers."""
    kb = kb or load_knowledge_base()
    findings: list[Finding] = []

    def name(license_id: str | None) -> str:
        terms = kb.find(license_id)
        return terms.name if terms else str(license_id)

    if metadata.status in ("missing", "unresolved", "conflict"):
        findings.append(Finding("card_" + metadata.status, "warning", metadata.message))
    other_tags = [
        t for t in metadata.tag_ids if kb.find(t) and kb.find(t) != kb.find(metadata.declared)
    ]
    if other_tags and metadata.declared:
        findings.append(
            Finding(
                "tag_mismatch",
                "warning",
                f"The card says {metadata.declared} but the tags say {', '.join(other_tags)}.",
            )
        )
    if license_text is None:
        findings.append(
            Finding("no_license_text", "warning", "The repository has no LICENSE text to check.")
        )
    elif not license_text.identified:
        findings.append(Finding("text_unidentified", "warning", license_text.message))
    else:
        if license_text.document == "use_policy":
            findings.append(
                Finding(
                    "license_is_policy",
                    "warning",
                    f"The LICENSE file holds the {name(license_text.license_id)} use policy, "
                    "not the license itself.",
                )
            )
        if metadata.license_id and license_text.license_id != metadata.license_id:
            findings.append(
                Finding(
                    "license_mismatch",
                    "error",
                    f"The card says {metadata.license_id} but LICENSE is the "
                    f"{name(license_text.license_id)}.",
                )
            )
        if license_text.missing:
            findings.append(
                Finding(
                    "text_modified",
                    "warning",
                    f"LICENSE resembles the {name(license_text.license_id)} but lacks expected "
                    f"clauses: {'; '.join(license_text.missing)}.",
                )
            )
    if use_policy_text is not None:
        expected = metadata.license_id or (license_text.license_id if license_text else None)
        if not use_policy_text.identified:
            findings.append(Finding("policy_unidentified", "warning", use_policy_text.message))
        elif expected and use_policy_text.license_id != expected:
            findings.append(
                Finding(
                    "policy_mismatch",
                    "error",
                    f"The use policy belongs to {name(use_policy_text.license_id)}, "
                    f"not {name(expected)}.",
                )
            )
    if not findings:
        findings.append(Finding("consistent", "info", "The card and the LICENSE text agree."))
    return tuple(findings)
