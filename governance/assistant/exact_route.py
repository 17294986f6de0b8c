"""Which exact answer a question gets: read it once, then try each recogniser in order.

The question is read once (``exact_reading``); each recogniser (``exact_license_questions``,
``exact_registry_questions``) answers or passes, then the first wave's intents
(``exact_basic``) get their turn. A question that matches no recogniser returns None and goes
to the free-form path, unless it is plainly outside the domain (no model, license, person or
domain word): then it is declined here.
"""

from __future__ import annotations

import functools

from sqlalchemy import select
from sqlalchemy.orm import Session

from governance.assistant import exact_hardware as hardware
from governance.assistant import exact_license_questions as licenses
from governance.assistant import exact_registry_questions as registry
from governance.assistant.exact import ExactAnswer
from governance.assistant.exact_basic import basic
from governance.assistant.exact_reading import Asked, Recogniser, Routed
from governance.assistant.retrieval import tokenize
from governance.assistant.sources import kb_passages
from governance.licenses.concepts import load_concepts
from governance.registry.models import Approval

RECOGNISERS: tuple[Recogniser, ...] = (
    hardware.recognise_fit,  # first: "can we run org/repo on ..." names an untracked repo
    registry.recognise_untracked,
    licenses.recognise_concept,
    licenses.recognise_compare,
    licenses.recognise_permission,
    licenses.recognise_openness,
    registry.recognise_why,
    registry.recognise_history,
    registry.recognise_person,
    registry.recognise_who,
    registry.recognise_by_state,
    registry.recognise_may_use,
)


def route(session: Session, asked: Asked) -> Routed | None:
    """The first recogniser's answer, the basic intents' answer, a decline, or None."""
    for recognise in RECOGNISERS:
        routed = recognise(session, asked)
        if routed is not None:
            return routed
    routed = basic(session, asked)
    if routed is not None:
        return routed
    if _out_of_scope(session, asked):
        return Routed("out_of_scope", ExactAnswer(), "unknown")
    return None


def _out_of_scope(session: Session, asked: Asked) -> bool:
    """No model, license, person or domain word, and no word the registry's texts or the
    knowledge base use: nothing could answer it (the free-form path is never asked)."""
    named = asked.names_model or asked.mention is not None or asked.people or asked.untracked
    if named or asked.extra.in_domain:
        return False
    terms = set(tokenize(asked.fixed))
    return not terms & _known_terms(session)


@functools.cache
def _knowledge_terms() -> frozenset[str]:
    # Cached: the knowledge base and concepts are files read once per process.
    texts = [f"{p.title} {p.text}" for p in kb_passages()]
    texts += [f.text for c in load_concepts() for f in c.facts]
    return frozenset(t for text in texts for t in tokenize(text))


def _known_terms(session: Session) -> frozenset[str]:
    rows = session.execute(select(Approval.reason, Approval.conditions, Approval.decision_reason))
    texts = [" ".join(t for t in row if t) for row in rows]
    return _knowledge_terms() | {t for text in texts for t in tokenize(text)}
