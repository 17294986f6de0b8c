"""Which exact answer a question gets: read it once, then try each recogniser in order.

The question is read once (``exact_reading``); each recogniser answers or passes, then the
first wave's intents (``exact_basic``) get their turn. A question that matches no
recogniser returns None and goes to the free-form path, unless it is plainly outside the
domain (no model, license, person or domain word): then it is declined here.
"""

from __future__ import annotations

import functools
import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from governance.assistant import exact, exact_decisions, exact_licenses, exact_lists, listings
from governance.assistant.exact import ExactAnswer
from governance.assistant.exact_basic import basic
from governance.assistant.exact_events import APPROVALS
from governance.assistant.exact_reading import (
    Asked,
    Recogniser,
    Routed,
    clarify,
    one_model,
    read_question,
)
from governance.assistant.intents import Intent
from governance.assistant.resolve import (
    licenses_named,
    name_tokens,
)
from governance.assistant.retrieval import tokenize
from governance.assistant.sources import kb_passages, latest_snapshot, license_of
from governance.licenses.concepts import concept_asked, load_concepts
from governance.licenses.knowledge import LicenseTerms, load_knowledge_base
from governance.registry.models import Approval, TrackedModel

_WAITING = re.compile(
    r"\b(pending|awaiting|waiting|backlog|outstanding|undecided|open requests?|not (yet )?"
    r"decided|unanswered|review queue)\b",
    re.IGNORECASE,
)
_WHO = re.compile(
    r"\bwho\b|\bby whom\b|\bwhose\b|\bwhich (person|people|user|member|colleague|"
    r"teammate|approver|one of us|of us)\b|\bname of the (person|requester|approver)\b",
    re.IGNORECASE,
)
_MAY_USE = re.compile(
    r"\b(ok|okay|fine|allowed|permitted|cleared|good to (go|use)|may (we|i)|can (we|i)|"
    r"could (we|i)|are we allowed|why not|usable|can'?t (we|i)|cannot (we|i))\b",
    re.IGNORECASE,
)
_LICENSE_WORDS = re.compile(r"\b(licen[cs]\w*|terms|legal\w*)\b", re.IGNORECASE)
_EVER = re.compile(r"\bever\b|^\W*(was|were|did|has|have)\b", re.IGNORECASE)
_ABOUT = re.compile(
    r"\b(tell me about|what about|info(rmation)? (on|about)|details (on|of|about)|overview of|"
    r"what do (we|you) know about|summar\w* (of|for)|status of|state of)\b",
    re.IGNORECASE,
)
_YES_NO = re.compile(r"\W*(is|are|can|may|does|do|has|have|was|were|did)\b", re.IGNORECASE)
_USE_VERB = re.compile(
    r"\b(can|may|could|should) (i|we|you|the team) (still )?use\b|"
    r"\b(allowed|ok|okay|fine|permitted) to use\b",
    re.IGNORECASE,
)
_PERSON_SLOT = re.compile(
    r"\b(?:did|has|have|does)\s+([a-z][\w.-]*)\s+(?:\w+\s+)?(?:decid|approv|request|reject|"
    r"revok|ask|sign|okay|turn|withdr|pull)\w*|\b([a-z][\w.-]*)'s\s+(?:requests?|decisions?|"
    r"approvals?|rejections?)\b|\b(?:requests?|decisions?) (?:by|from|of)\s+([a-z][\w.-]*)",
    re.IGNORECASE,
)
_NOT_NAMES = frozenset(
    """i we you they he she it anyone someone somebody anybody everyone everybody nobody the
    team our my your this that model models approvers approver people who which what us them
    a an any all one""".split()  # noqa: SIM905
)
_OPEN_QUESTION = re.compile(r"\W*(where|how|what|which|when|why|who)\b", re.IGNORECASE)
_FAMILY_PLURAL = re.compile(r"\b(models|any|every|all|an? \w+ model)\b", re.IGNORECASE)
_OUR_USE = re.compile(r"\b(we|our|us|why not)\b", re.IGNORECASE)
_UNDER_LICENSE = re.compile(r"\b(under|a model|models|licensed|released)\b", re.IGNORECASE)
_PAST_EXPIRY = re.compile(
    r"\b(expired|lapsed|ran out|has run out|have run out|past (their|its|the) expiry)\b", re.I
)


# ---------------------------------------------------------------------------- recognisers


def _compare(session: Session, asked: Asked) -> Routed | None:
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
        if isinstance(item, TrackedModel):
            item = license_of(latest_snapshot(session, item), kb)
        if item is not None and item not in terms:
            terms.append(item)
    return terms


def _concept(session: Session, asked: Asked) -> Routed | None:
    if asked.names_model or asked.people or asked.mention is not None:
        return None
    found = concept_asked(asked.fixed, load_concepts())
    return Routed("concept", exact_licenses.concept(found)) if found else None


def _permission(session: Session, asked: Asked) -> Routed | None:
    """One permission of a license (named, or a model's current one), from the KB's fields."""
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
        or (_USE_VERB.search(asked.fixed) and not _UNDER_LICENSE.search(asked.fixed))
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


def _openness(session: Session, asked: Asked) -> Routed | None:
    if not asked.extra.openness or not asked.names_model:
        return None
    return one_model(
        asked, "openness", lambda m: exact_licenses.openness(session, m, hub=asked.hub)
    )


def _why(session: Session, asked: Asked) -> Routed | None:
    if not asked.extra.why or not asked.names_model or asked.cues.license:
        return None
    return one_model(
        asked,
        "why",
        lambda m: exact_decisions.why(
            session,
            m,
            asked.models,
            actions=asked.extra.actions,
            use=asked.cues.use,
            today=asked.today,
        ),
    )


def _history(session: Session, asked: Asked) -> Routed | None:
    if not asked.extra.history or not asked.names_model:
        return None
    return one_model(
        asked, "history", lambda m: exact_decisions.history(session, m, asked.models, asked.today)
    )


def _person(session: Session, asked: Asked) -> Routed | None:
    if asked.match.ambiguous:
        return None
    if not asked.people:
        stranger = _stranger(asked)
        if stranger is None:
            return None
        out = ExactAnswer()
        out.add(f"{stranger} has no request or decision in the registry.")
        return Routed("person", out)
    actions = asked.extra.actions
    future = "expired" in actions and not _PAST_EXPIRY.search(asked.fixed)
    result = exact_decisions.by_person(
        session,
        asked.people[0],
        asked.models,
        actions=actions,
        model=asked.model,
        use=asked.cues.use,
        window=asked.window(future=future),
        today=asked.today,
    )
    return Routed("person", result)


def _stranger(asked: Asked) -> str | None:
    """The name in "what did zed request?" when the registry knows nobody by that name."""
    if asked.names_model or asked.untracked:
        return None
    found = _PERSON_SLOT.search(asked.fixed)
    name = next((g for g in found.groups() if g), None) if found else None
    if name is None or name.lower() in _NOT_NAMES:
        return None
    return name


def _untracked(session: Session, asked: Asked) -> Routed | None:
    """Why / what happened / who decided about a repo id nobody tracks: it is not tracked."""
    extra = asked.extra
    if not asked.untracked or asked.names_model:
        return None
    if not (extra.why or extra.history or extra.actions or extra.openness or extra.conditions):
        return None
    return Routed("not_tracked", listings.not_tracked(asked.untracked[0]))


def _who(session: Session, asked: Asked) -> Routed | None:
    """Who rejected X, was X ever revoked: the events of that action on X."""
    actions = asked.extra.actions
    if not asked.names_model or not actions:
        return None
    past = _EVER.search(asked.fixed) and actions & {"requested", "rejected", "revoked"}
    if not _WHO.search(asked.fixed) and not past:
        return None
    if actions <= set(APPROVALS):  # "who approved X": the approvers and the rest of the trail
        use, today = asked.cues.use, asked.today
        return one_model(
            asked, Intent.APPROVER.value, lambda m: exact.approvers(session, m, use, today)
        )
    return one_model(
        asked,
        "who",
        lambda m: exact_decisions.who_did(
            session,
            m,
            asked.models,
            actions=actions,
            use=asked.cues.use,
            today=asked.today,
        ),
    )


def _by_state(session: Session, asked: Asked) -> Routed | None:
    terse = (  # "rejections", "revoked models?"; not "is mistral 7b approved?"
        len(asked.fixed.split()) <= 4
        and not asked.names_model
        and not asked.untracked
        and not _YES_NO.match(asked.fixed)
    )
    if asked.model is not None or not (asked.extra.listing or terse):
        return None
    actions = set(asked.extra.actions)
    waiting = bool(_WAITING.search(asked.fixed))
    if waiting:
        return None  # pending and review together: the pending listing
    future = "expired" in actions and not _PAST_EXPIRY.search(asked.fixed)
    window = asked.window(future=future)
    among = list(asked.match.candidates)
    if asked.extra.history and window is not None and not actions:
        state = "all"  # "what happened in October?"
    elif "expired" in actions:
        state = "expiring" if future else "expired"
    elif {"approved", "rejected", "revoked"} <= actions:
        state = "decided"
    elif "revoked" in actions:
        state = "revoked"
    elif "rejected" in actions:
        state = "rejected"
    elif "needs_review" in actions:
        state = "needs_review"
    elif "approved" in actions and window is None and not asked.extra.why:
        result = listings.approved_for_use(session, asked.cues.use, among, asked.today)
        return Routed(Intent.APPROVED_FOR_USE.value, result)
    elif "approved" in actions:
        state = "approved"
    elif window is not None and "requested" in actions:
        state = "requested"
    else:
        return None
    result = exact_lists.by_state(
        session,
        asked.models,
        state=state,
        use=asked.cues.use,
        window=window,
        among=among,
        today=asked.today,
    )
    return Routed(f"list_{state}", result)


def _may_use(session: Session, asked: Asked) -> Routed | None:
    """Is X ok for commercial use, may we use X internally (and why not), tell me about X:
    where X stands, per use, and why when it cannot be used."""
    if not asked.names_model:
        return None
    if _ABOUT.search(asked.fixed) and not asked.cues.license and not asked.cues.changes:
        return one_model(asked, Intent.APPROVAL_STATUS.value, lambda m: _status(session, asked, m))
    if not _MAY_USE.search(asked.fixed):
        return None
    if _LICENSE_WORDS.search(asked.fixed) or set(asked.extra.topics) - {"commercial"}:
        return None
    if (
        asked.mention is not None
        and asked.match.matched <= asked.mention.matched
        and _UNDER_LICENSE.search(asked.fixed)
    ):
        return None  # "can I use a model under Llama 2 commercially": the license's terms
    if asked.cues.use is None and not re.search(r"\bwhy not\b", asked.fixed, re.I):
        return None

    return one_model(asked, Intent.APPROVAL_STATUS.value, lambda m: _status(session, asked, m))


def _status(session: Session, asked: Asked, model: TrackedModel) -> ExactAnswer:
    result = exact.approval_status(model, asked.cues.use, asked.today)
    exact_decisions.explain_states(session, model, asked.models, asked.cues.use, result)
    return result


RECOGNISERS: tuple[Recogniser, ...] = (
    _untracked,
    _concept,
    _compare,
    _permission,
    _openness,
    _why,
    _history,
    _person,
    _who,
    _by_state,
    _may_use,
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
    texts = [f"{p.title} {p.text}" for p in kb_passages()]
    texts += [f.text for c in load_concepts() for f in c.facts]
    return frozenset(t for text in texts for t in tokenize(text))


def _known_terms(session: Session) -> frozenset[str]:
    rows = session.execute(select(Approval.reason, Approval.conditions, Approval.decision_reason))
    texts = [" ".join(t for t in row if t) for row in rows]
    return _knowledge_terms() | {t for text in texts for t in tokenize(text)}


__all__ = ["Asked", "Routed", "read_question", "route"]
