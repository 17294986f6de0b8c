"""Exact answers to questions about the registry: why and what happened to a model, what a
person did, who acted, models by state, whether a model may be used. Each recogniser answers
or passes (returns None)."""

from __future__ import annotations

import re

from sqlalchemy.orm import Session

from governance.assistant import exact, exact_decisions, exact_lists, listings
from governance.assistant.exact import ExactAnswer
from governance.assistant.exact_events import APPROVALS
from governance.assistant.exact_license_questions import UNDER_LICENSE
from governance.assistant.exact_lineage import add_derivative_coverage
from governance.assistant.exact_reading import Asked, Routed, one_model
from governance.assistant.intents import Intent
from governance.registry.models import TrackedModel

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
_PAST_EXPIRY = re.compile(
    r"\b(expired|lapsed|ran out|has run out|have run out|past (their|its|the) expiry)\b", re.I
)


def recognise_why(session: Session, asked: Asked) -> Routed | None:
    """Why one named model stands where it does (its decisions and reasons), or None."""
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


def recognise_history(session: Session, asked: Asked) -> Routed | None:
    """What happened to one named model, in order, or None."""
    if not asked.extra.history or not asked.names_model:
        return None
    return one_model(
        asked, "history", lambda m: exact_decisions.history(session, m, asked.models, asked.today)
    )


def recognise_person(session: Session, asked: Asked) -> Routed | None:
    """What a person requested or decided (or that the registry has no one by
    that name), or None."""
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


def recognise_untracked(session: Session, asked: Asked) -> Routed | None:
    """Why / what happened / who decided about a repo id nobody tracks: that it is not tracked;
    or None."""
    extra = asked.extra
    if not asked.untracked or asked.names_model:
        return None
    if not (extra.why or extra.history or extra.actions or extra.openness or extra.conditions):
        return None
    return Routed("not_tracked", listings.not_tracked(asked.untracked[0]))


def recognise_who(session: Session, asked: Asked) -> Routed | None:
    """Who rejected X, was X ever revoked: the events of that action on X, or None."""
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


def recognise_by_state(session: Session, asked: Asked) -> Routed | None:
    """The models in one state (approved, rejected, expiring, ...), or None."""
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


def recognise_may_use(session: Session, asked: Asked) -> Routed | None:
    """Is X ok for commercial use, may we use X internally (and why not), tell me about X:
    where X stands, per use, and why when it cannot be used; or None."""
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
        and UNDER_LICENSE.search(asked.fixed)
    ):
        return None  # "can I use a model under Llama 2 commercially": the license's terms
    if asked.cues.use is None and not re.search(r"\bwhy not\b", asked.fixed, re.I):
        return None

    return one_model(asked, Intent.APPROVAL_STATUS.value, lambda m: _status(session, asked, m))


def _status(session: Session, asked: Asked, model: TrackedModel) -> ExactAnswer:
    result = exact.approval_status(model, asked.cues.use, asked.today)
    add_derivative_coverage(session, model, asked.cues.use, asked.today, result)
    exact_decisions.explain_states(session, model, asked.models, asked.cues.use, result)
    return result
