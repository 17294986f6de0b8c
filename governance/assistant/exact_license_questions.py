"""Exact answers to questions about licenses: compare two, explain a concept, one permission,
how open a model is. Each recogniser answers or passes (returns None)."""

from __future__ import annotations

import re

from sqlalchemy.orm import Session

from governance.assistant import exact, exact_licenses
from governance.assistant.exact import ExactAnswer
from governance.assistant.exact_reading import Asked, Routed, clarify, one_model
from governance.assistant.resolve import licenses_named, name_tokens
from governance.assistant.sources import latest_snapshot, license_of
from governance.licenses.concepts import concept_asked, load_concepts
from governance.licenses.knowledge import LicenseTerms, load_knowledge_base
from governance.registry.models import TrackedModel

_USE_VERB = re.compile(
    r"\b(can|may|could|should) (i|we|you|the team) (still )?use\b|"
    r"\b(allowed|ok|okay|fine|permitted) to use\b",
    re.IGNORECASE,
)
_OPEN_QUESTION = re.compile(r"\W*(where|how|what|which|when|why|who)\b", re.IGNORECASE)
_FAMILY_PLURAL = re.compile(r"\b(models|any|every|all|an? \w+ model)\b", re.IGNORECASE)
_OUR_USE = re.compile(r"\b(we|our|us|why not)\b", re.IGNORECASE)
# Also read by the registry questions: "a model under Llama 2" asks about the license.
UNDER_LICENSE = re.compile(r"\b(under|a model|models|licensed|released)\b", re.IGNORECASE)


def recognise_compare(session: Session, asked: Asked) -> Routed | None:
    """Two or more licenses (named, or tracked models' current ones) side by side, or None."""
    if not asked.extra.compare:
        return None
    found = _licenses_compared(session, asked)
    if len(found) < 2:
        return None
    return Routed("license_compare", exact_licenses.compare(found))


def _licenses_compared(session: Session, asked: Asked) -> list[LicenseTerms]:
    kb = load_knowledge_base()
    found = licenses_named(asked.text, kb, asked.models)
    terms: list[LicenseTerms] = []
    for item in found:
        license = (
            license_of(latest_snapshot(session, item), kb)
            if isinstance(item, TrackedModel)
            else item
        )
        if license is not None and license not in terms:
            terms.append(license)
    return terms


def recognise_concept(session: Session, asked: Asked) -> Routed | None:
    """What a license concept means ("what is a flow-down clause?"), or None."""
    if asked.names_model or asked.people or asked.mention is not None:
        return None
    found = concept_asked(asked.fixed, load_concepts())
    return Routed("concept", exact_licenses.concept(found)) if found else None


def recognise_permission(session: Session, asked: Asked) -> Routed | None:
    """One permission of a license (named, or a model's current one), from the KB's fields;
    None when the question is not a yes-or-no permission or is the registry's to answer."""
    extra = asked.extra
    topics = [t for t in extra.topics if t != "research" or len(extra.topics) == 1]
    if not topics or not extra.permission or extra.actions - {"requested"} or asked.people:
        return None
    if _OPEN_QUESTION.match(asked.fixed):
        return None  # "where must the notice go?": not a yes-or-no permission
    kb = load_knowledge_base()
    mention = asked.mention
    licensed = mention is not None and (
        not asked.names_model or asked.match.ambiguous or asked.match.matched <= mention.matched
    )
    by_family_word = len(asked.match.matched) <= 1 and bool(_FAMILY_PLURAL.search(asked.fixed))
    family = [] if licensed else _family_named(asked.fixed)
    family = family if by_family_word or not asked.names_model else []
    using_model = asked.names_model and (
        _OUR_USE.search(asked.fixed)
        or (_USE_VERB.search(asked.fixed) and not UNDER_LICENSE.search(asked.fixed))
    )
    if topics == ["commercial"] and (not (licensed or family) or using_model):
        return None  # "is X ok for commercial use?", "may we use X...": the registry's answer
    topic = next(t for t in topics if t != "commercial" or len(topics) == 1)
    out = ExactAnswer()
    if licensed and mention is not None:
        licenses = [mention.terms]
    elif family:
        licenses = family
    elif asked.model is not None:
        snapshot = latest_snapshot(session, asked.model)
        terms = license_of(snapshot, kb)
        if snapshot is None or terms is None:
            return None  # the license answer says why its license is not known
        n = out.cite(
            f"Upstream snapshot of {snapshot.repo_id}",
            f"/models license-check {snapshot.repo_id}",
            f"snapshot:{snapshot.id}",
        )
        out.add(f"{asked.model.repo_id}'s current license is {terms.name} ({terms.id}).", n)
        licenses = [terms]
    elif asked.match.ambiguous:
        return clarify(asked, "license_permission")
    else:
        return None
    exact_licenses.permission(licenses, topic, out)
    if topic == "commercial" and len(licenses) == 1:
        exact.license_answer(
            session, model=None, terms=licenses[0], commercial_focus=True, hub=asked.hub, out=out
        )
    return Routed("license_permission", out)


def _family_named(text: str) -> list[LicenseTerms]:
    """Every model license of a family named by its word alone ("a Llama model")."""
    tokens = set(name_tokens(text))
    entries = load_knowledge_base().all()
    families = {t.family for t in entries if t.family and t.kind == "model"}
    named = [f for f in families if f in tokens]
    return [t for t in entries if t.family in named and t.kind == "model"] if named else []


def recognise_openness(session: Session, asked: Asked) -> Routed | None:
    """How open one named model is (weights, code, data, license), or None."""
    if not asked.extra.openness or not asked.names_model:
        return None
    return one_model(
        asked, "openness", lambda m: exact_licenses.openness(session, m, hub=asked.hub)
    )
