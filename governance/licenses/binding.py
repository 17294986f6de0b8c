"""Whose terms bind a derivative: its base's, or its own. Pure over license evidence.

A quantized copy or an adapter is the base model's weights (or works only with them), so the
base's license binds it, whatever its card says. A fine-tune or a merge is bound by its base's
license too, unless that license lets derivatives carry other terms (``relicensing`` in the
knowledge base: Apache-2.0, MIT, CC-BY do; Llama, Gemma, the RAIL family, GPL, CC-BY-SA and
CC-BY-NC do not). When the knowledge base does not record it, the base is taken to bind: a
wrong "its own license binds" would let terms go unread.

The findings say where the derivative disagrees with what binds it: a card license or LICENSE
text other than the base's, and license-like files of the base (LICENSE, USE_POLICY, NOTICE)
that it dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from governance.licenses.evidence import LicenseEvidence
from governance.licenses.identify import Finding
from governance.licenses.knowledge import KnowledgeBase, LicenseTerms, load_knowledge_base

ALWAYS_BOUND = frozenset({"quantized", "adapter"})
_NOUN = {
    "quantized": "a quantized copy",
    "adapter": "an adapter",
    "finetune": "a fine-tune",
    "merge": "a merge",
}
_FILE_KINDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("LICENSE", ("LICENSE", "LICENCE")),
    ("USE_POLICY", ("USE_POLICY",)),
    ("NOTICE", ("NOTICE",)),
)


@dataclass(frozen=True)
class BaseEvidence:
    """One base of a derivative and its license evidence (None: not tracked or not checked)."""

    repo_id: str
    evidence: LicenseEvidence | None


@dataclass(frozen=True)
class BaseBinding:
    """What one base contributes: its governing license and whether it binds the derivative
    (None: not known yet, the base was never checked or its license is not identified)."""

    repo_id: str
    terms: LicenseTerms | None
    binds: bool | None
    why: str


@dataclass(frozen=True)
class Binding:
    """Whose terms bind a derivative, per base, and what disagrees with them."""

    repo_id: str
    relation: str
    bases: tuple[BaseBinding, ...]
    findings: tuple[Finding, ...]

    @property
    def binding_terms(self) -> tuple[LicenseTerms, ...]:
        """The licenses of the bases that bind, in card order (empty: its own terms bind)."""
        return tuple(b.terms for b in self.bases if b.binds and b.terms is not None)

    @property
    def own_terms_bind(self) -> bool:
        """True when no base binds and every base is known (the derivative's own license)."""
        return all(b.binds is False for b in self.bases)

    def summary(self) -> str:
        """One line: which license binds, and why."""
        parts = [f"{b.repo_id}: {b.why}" for b in self.bases]
        return "; ".join(parts)


def _declared(evidence: LicenseEvidence) -> str | None:
    return evidence.metadata.declared or evidence.metadata.license_id


def _file_kinds(evidence: LicenseEvidence) -> dict[str, str]:
    """The license-like file kinds ``evidence`` has (LICENSE, USE_POLICY, NOTICE) -> a path."""
    found: dict[str, str] = {}
    for item in sorted(evidence.files, key=lambda f: (f.path.count("/"), len(f.path))):
        name = item.path.rsplit("/", 1)[-1].upper()
        for kind, prefixes in _FILE_KINDS:
            if name.startswith(prefixes):
                found.setdefault(kind, item.path)
    return found


def _binds(relation: str, terms: LicenseTerms) -> tuple[bool, str]:
    noun = _NOUN.get(relation, "a derivative")
    if relation in ALWAYS_BOUND:
        return True, f"{terms.name} binds it ({noun} of it cannot take other terms)"
    if terms.relicensing is True:
        return False, (
            f"under {terms.name}, which lets {noun} carry terms of its own: its own license "
            "binds, with the base's notices kept"
        )
    if terms.relicensing is False:
        return True, f"{terms.name} binds it ({noun} stays under the base's terms)"
    return True, (
        f"{terms.name} is taken to bind it (the knowledge base does not record whether it lets "
        f"{noun} carry other terms)"
    )


def derivative_binding(
    evidence: LicenseEvidence,
    relation: str,
    bases: Sequence[BaseEvidence],
    *,
    kb: KnowledgeBase | None = None,
) -> Binding:
    """Whose terms bind the derivative ``evidence`` describes (``relation`` to ``bases``), and
    the findings where it disagrees with them. Never raises for missing evidence: a base not
    checked yet is a warning, and "not known" is never read as "its own terms bind"."""
    kb = kb or load_knowledge_base()
    repo = evidence.repo_id
    results: list[BaseBinding] = []
    findings: list[Finding] = []
    mine = _file_kinds(evidence)
    for base in bases:
        found = base.evidence
        if found is None or found.availability != "available":
            why = "not checked upstream yet, so whose terms bind is not known"
            results.append(BaseBinding(base.repo_id, None, None, why))
            findings.append(
                Finding(
                    "base_not_checked",
                    "warning",
                    f"Its base {base.repo_id} has not been checked upstream yet; whose terms "
                    "bind it is not known until the watcher has read the base.",
                )
            )
            continue
        terms = found.terms
        if terms is None or terms.id in ("other", "unknown"):
            why = "the base's license is not identified, so whose terms bind is not known"
            results.append(BaseBinding(base.repo_id, terms, None, why))
            findings.append(
                Finding(
                    "base_license_unidentified",
                    "warning",
                    f"The license of its base {base.repo_id} is not identified; a human must "
                    "read it to know the terms that bind this derivative.",
                )
            )
            continue
        binds, why = _binds(relation, terms)
        results.append(BaseBinding(base.repo_id, terms, binds, why))
        findings.extend(_disagreements(evidence, relation, base.repo_id, terms, binds, kb=kb))
        if binds or terms.notice:
            findings.extend(_dropped(repo, mine, base.repo_id, found, terms, evidence))
    return Binding(repo, relation, tuple(results), tuple(findings))


def _disagreements(
    evidence: LicenseEvidence,
    relation: str,
    base: str,
    terms: LicenseTerms,
    binds: bool,
    *,
    kb: KnowledgeBase,
) -> list[Finding]:
    repo = evidence.repo_id
    if not binds:
        return [
            Finding(
                "derivative_own_terms",
                "info",
                f"Its base {base} is {_binds(relation, terms)[1]}.",
            )
        ]
    out: list[Finding] = []
    declared = _declared(evidence)
    card = kb.find(evidence.metadata.license_id) if evidence.metadata.license_id else None
    if card is not None and card.id not in ("other", "unknown") and card.id != terms.id:
        out.append(
            Finding(
                "derivative_license_mismatch",
                "error",
                f"{repo} says {declared or card.id}; its base {base} is under the {terms.name}, "
                "which binds it.",
            )
        )
    elif card is None or card.id in ("other", "unknown"):
        said = f"says {declared}" if declared else "declares no license"
        out.append(
            Finding(
                "derivative_license_unstated",
                "warning",
                f"{repo} {said} on its card; its base {base} is under the {terms.name}, "
                "which binds it.",
            )
        )
    text = evidence.license_text
    if text is not None and text.identified and text.license_id and text.license_id != terms.id:
        shown = kb.find(text.license_id)
        out.append(
            Finding(
                "derivative_text_mismatch",
                "error",
                f"{repo}'s LICENSE is the {shown.name if shown else text.license_id}; its base "
                f"{base} is under the {terms.name}, which binds it.",
            )
        )
    if not out:
        out.append(
            Finding(
                "derivative_terms_match",
                "info",
                f"{repo} carries its base's license ({terms.name}), which binds it.",
            )
        )
    return out


def _dropped(
    repo: str,
    mine: dict[str, str],
    base: str,
    found: LicenseEvidence,
    terms: LicenseTerms,
    evidence: LicenseEvidence,
) -> list[Finding]:
    """The license-like files the base ships and the derivative does not (when its file list
    is known: a snapshot without one says nothing about dropped files)."""
    if evidence.text_state == "unknown" or found.text_state == "unknown":
        return []
    out: list[Finding] = []
    for kind, path in _file_kinds(found).items():
        if kind in mine:
            continue
        why = {
            "USE_POLICY": "its use policy flows down to every copy and derivative",
            "NOTICE": f"the {terms.name} requires: {terms.notice}" if terms.notice else "",
            "LICENSE": f"the {terms.name} requires: {terms.notice}" if terms.notice else "",
        }[kind]
        out.append(
            Finding(
                "derivative_dropped_file",
                "warning",
                f"{repo} dropped the {path} that its base {base} ships"
                + (f" ({why.rstrip('.')})." if why else "."),
            )
        )
    return out
