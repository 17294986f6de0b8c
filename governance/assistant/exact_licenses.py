"""Exact answers about licenses and openness: one permission, two licenses compared, a model's
openness verdicts, and the seed's concepts. Every sentence is one fact of one knowledge-base
entry (or snapshot, or concept source), cited; a term the knowledge base has not reviewed is
said to be unknown, never guessed.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from governance.assistant.exact import ExactAnswer
from governance.core.clock import format_time
from governance.licenses.concepts import Concept
from governance.licenses.knowledge import LicenseTerms
from governance.registry.models import TrackedModel
from governance.upstream.snapshot_evidence import latest_evidence

_UNKNOWN = "I don't know"


def _outputs(t: LicenseTerms) -> tuple[str, str]:
    if t.output_restriction is None:
        return _UNKNOWN, f"the knowledge base has not reviewed whether {t.name} restricts outputs."
    if t.output_restriction:
        return "No", f"{t.name} forbids using outputs to improve other models."
    return "Yes", f"{t.name} sets no restriction on using outputs to improve other models."


def _naming(t: LicenseTerms) -> tuple[str, str]:
    if t.naming_rule:
        return (
            "Only with its prefix",
            f'{t.name} requires derivative model names to begin with "{t.naming_rule}".',
        )
    if t.kind == "placeholder":
        return _UNKNOWN, f"the knowledge base has no reviewed naming rule for {t.name}."
    return "Yes", f"{t.name} sets no naming rule for derivative models."


def _attribution(t: LicenseTerms) -> tuple[str, str]:
    if t.attribution:
        shown = ", ".join(f'"{a}"' for a in t.attribution)
        return "Yes", f"{t.name} requires displaying {shown}."
    if t.kind == "placeholder":
        return _UNKNOWN, f"the knowledge base has no reviewed attribution terms for {t.name}."
    return "No", f"{t.name} requires no displayed attribution."


def _geography(t: LicenseTerms) -> tuple[str, str]:
    if t.geographic_restrictions:
        return (
            "Restricted",
            f"{t.name} has a geographic restriction: {t.geographic_restrictions[0]}",
        )
    if t.kind == "placeholder":
        return _UNKNOWN, f"the knowledge base has no reviewed geographic terms for {t.name}."
    return "Yes", f"{t.name} sets no geographic restriction."


def _threshold(t: LicenseTerms) -> tuple[str, str]:
    if t.user_threshold:
        return (
            "Only below the threshold",
            f"{t.name} needs a separate license above {t.user_threshold:,} monthly active users.",
        )
    if t.kind == "placeholder" or t.commercial_use == "unknown":
        return _UNKNOWN, f"the knowledge base has no reviewed user threshold for {t.name}."
    return "Yes", f"{t.name} sets no user threshold."


def _research(t: LicenseTerms) -> tuple[str, str]:
    if t.research_only is None:
        return _UNKNOWN, f"the knowledge base has not reviewed whether {t.name} is research-only."
    if t.research_only:
        return "Research only", f"{t.name} allows research use only."
    return "No", f"{t.name} is not limited to research use."


def _commercial(t: LicenseTerms) -> tuple[str, str]:
    said = {
        "yes": ("Yes", f"{t.name} allows commercial use."),
        "no": ("No", f"{t.name} does not allow commercial use."),
        "conditional": ("Yes, with conditions", f"{t.name} allows commercial use with conditions."),
        "unknown": (
            _UNKNOWN,
            f"the knowledge base has not reviewed commercial use under {t.name}.",
        ),
    }
    return said[t.commercial_use]


_ANSWERS = {
    "outputs": _outputs,
    "naming": _naming,
    "attribution": _attribution,
    "geography": _geography,
    "threshold": _threshold,
    "research": _research,
    "commercial": _commercial,
}
_NO_FIELD = {
    "derivatives": "modifying or fine-tuning",
    "redistribution": "redistribution",
    "military": "that kind of use",
}


def permission(licenses: Sequence[LicenseTerms], topic: str, out: ExactAnswer) -> ExactAnswer:
    """Add to ``out`` whether each license permits ``topic`` (a key of ``exact_cues.TOPICS``),
    from the knowledge base's structured fields; returns ``out``.

    A topic the knowledge base has no field for is answered "I don't know", with the entry.
    """
    for terms in licenses:
        n = out.cite_kb(terms)
        if topic not in _ANSWERS:
            what = _NO_FIELD.get(topic, "these")
            out.add(
                f"I don't know: the knowledge base does not record {what} terms for "
                f"{terms.name}; read the license itself.",
                n,
            )
            continue
        verdict, reason = _ANSWERS[topic](terms)
        out.add(f"{_UNKNOWN}: {reason}" if verdict == _UNKNOWN else f"{verdict}. {reason}", n)
        if topic == "outputs" and terms.notes and verdict != _UNKNOWN:
            out.add(f"Note on {terms.name}: {terms.notes}", n)
        if topic == "attribution" and terms.notice:
            out.add(f"{terms.name} also requires, with copies: {terms.notice}", n)
        if topic == "commercial" and terms.commercial_condition:
            out.add(f"Condition of {terms.name}: {terms.commercial_condition}", n)
    return out


def compare(licenses: Sequence[LicenseTerms]) -> ExactAnswer:
    """Licenses side by side: commercial use, user thresholds, attribution, field of use."""
    out = ExactAnswer()
    numbers = {t.id: out.cite_kb(t) for t in licenses}
    for terms in licenses:
        out.add(_sentence(_commercial(terms)), numbers[terms.id])
        if terms.commercial_condition and terms.commercial_use == "conditional":
            out.add(f"Condition of {terms.name}: {terms.commercial_condition}", numbers[terms.id])
    for terms in licenses:
        out.add(_sentence(_threshold(terms)), numbers[terms.id])
    for terms in licenses:
        out.add(_sentence(_attribution(terms)), numbers[terms.id])
    for terms in licenses:
        for line in _field_of_use(terms):
            out.add(line, numbers[terms.id])
    return out


def _sentence(answer: tuple[str, str]) -> str:
    verdict, reason = answer
    return f"{_UNKNOWN}: {reason}" if verdict == _UNKNOWN else reason


def _field_of_use(t: LicenseTerms) -> list[str]:
    lines = []
    if t.research_only:
        lines.append(f"{t.name} allows research use only.")
    if t.use_policy_url:
        lines.append(f"{t.name} incorporates a use policy by reference: {t.use_policy_url}")
    if t.flow_down:
        lines.append(f"{t.name} requires passing its use restrictions on to downstream users.")
    if t.output_restriction:
        lines.append(f"{t.name} forbids using outputs to improve other models.")
    lines += [f"{t.name} has a geographic restriction: {g}" for g in t.geographic_restrictions]
    unknown = [
        name
        for name, value in (
            ("research-only use", t.research_only),
            ("flow-down of restrictions", t.flow_down),
            ("output restrictions", t.output_restriction),
        )
        if value is None
    ]
    if unknown:
        lines.append(f"{_UNKNOWN}: {t.name}'s {', '.join(unknown)} are not reviewed.")
    if not lines:
        lines.append(f"{t.name} sets no field-of-use restriction.")
    return lines


def openness(session: Session, model: TrackedModel, *, hub: str) -> ExactAnswer:
    """``model``'s openness from its latest snapshot: seed spectrum, OSAID 1.0, MOF, components."""
    out = ExactAnswer()
    found = latest_evidence(session, model)
    if found is None or found.evidence.snapshot_id is None:
        out.add(
            f"{model.repo_id} has not been checked upstream yet, so its openness is not known; "
            f"run `/models check {model.repo_id}`."
        )
        return out
    evidence, assessment, repo = found.evidence, found.openness, model.repo_id
    taken = format_time(evidence.taken_at)
    n = out.cite(
        f"Openness of {repo} from its upstream snapshot ({taken})",
        f"/models openness {repo}",
        f"snapshot:{evidence.snapshot_id}",
    )
    numbers = [n] + ([out.cite_kb(evidence.terms)] if evidence.terms is not None else [])
    spectrum, osi, mof = assessment.spectrum, assessment.osi, assessment.mof
    out.add(f"On the seed's openness spectrum, {repo} is {spectrum.result}.", *numbers)
    out.add(f"Why: {spectrum.explanation}", *numbers)
    out.add(f"Under the OSI Open Source AI Definition 1.0, {repo} is {osi.result}.", *numbers)
    if osi.missing:
        out.add(f"For OSAID 1.0, {repo} lacks: {', '.join(osi.missing)}.", *numbers)
    out.add(f"{repo}'s Model Openness Framework class is {mof.result}.", *numbers)
    out.add(f"MOF: {mof.explanation}", *numbers)
    for component in assessment.components:
        name = component.component.replace("_", " ")
        out.add(f"{repo}'s {name}: {component.status}.", n)
    return out


def concept(found: Concept) -> ExactAnswer:
    """A concept explainer: its facts, each cited to its source."""
    out = ExactAnswer()
    for fact in found.facts:
        n = out.cite(fact.source.title, fact.source.ref, f"concept:{fact.source.id}")
        out.add(fact.text, n)
    return out
