"""The first wave's exact intents (is X approved, who approved X, what X's license requires,
what changed upstream, what is tracked, approved for a use, or pending), routed as before."""

from __future__ import annotations

import re

from sqlalchemy.orm import Session

from governance.assistant import exact, exact_decisions, listings
from governance.assistant.exact_lineage import add_derivative_coverage
from governance.assistant.exact_reading import Asked, Routed
from governance.assistant.intents import Intent
from governance.assistant.intents import classify as classify_intent
from governance.assistant.resolve import ModelMatch
from governance.assistant.sources import latest_snapshot, license_of
from governance.licenses.knowledge import load_knowledge_base


def _prefer_license(session: Session, asked: Asked) -> bool:
    """'the llama 3.1 license': the license name covers everything the model name matched,
    and the question is about terms (not approvals) of a license that is not simply the one
    model's own current license (then the model's answer, with its registry status, is better).
    """
    match, mention, cues = asked.match, asked.mention, asked.cues
    if mention is None or (match.model is None and not match.ambiguous):
        return False
    if not cues.license or cues.approval_word or cues.approver or cues.changes:
        return False
    if not match.matched <= mention.matched:
        return False
    if match.model is None:
        return True
    current = license_of(latest_snapshot(session, match.model), load_knowledge_base())
    return current is None or current.id != mention.terms.id


def basic(session: Session, asked: Asked) -> Routed | None:
    """The first wave's intents: status, approver, license, changes, listings."""
    match, mention, cues, text = asked.match, asked.mention, asked.cues, asked.fixed
    if _prefer_license(session, asked):
        match = ModelMatch(None)
    elif match.ambiguous and len(match.matched) <= 1 and cues.license and not cues.approval:
        match = ModelMatch(None)  # "the Built with Llama notice": a family word, not a model
    model = match.model
    names_model = model is not None or match.ambiguous or bool(asked.untracked)
    intent = classify_intent(cues, names_model=names_model, names_license=mention is not None)
    of_approval = asked.extra.conditions and not re.search(r"licen[cs]|terms", text, re.I)
    if of_approval and names_model and intent is Intent.LICENSE:
        intent = Intent.APPROVAL_STATUS  # "the conditions of X": of its approval
    needs_model = intent in (Intent.APPROVAL_STATUS, Intent.APPROVER, Intent.LICENSE)
    if match.ambiguous and needs_model:
        return Routed(
            intent.value,
            listings.clarify(match.candidates),
            "clarify",
            tuple(m.repo_id for m in match.candidates),
        )
    if intent is Intent.APPROVAL_STATUS and model is not None:
        result = exact.approval_status(model, cues.use, asked.today)
        add_derivative_coverage(session, model, cues.use, asked.today, result)
        exact_decisions.explain_states(session, model, asked.models, cues.use, result)
        return Routed(intent.value, result)
    if intent is Intent.APPROVER and model is not None:
        return Routed(intent.value, exact.approvers(session, model, cues.use, asked.today))
    if intent is Intent.LICENSE and (model is not None or mention is not None):
        result = exact.license_answer(
            session,
            model=model,
            terms=mention.terms if model is None and mention is not None else None,
            commercial_focus=cues.use is not None or "commercial" in text.lower(),
            hub=asked.hub,
        )
        return Routed(intent.value, result)
    if intent is Intent.CHANGES:
        models_asked = [model] if model is not None else list(match.candidates)
        terms_only = cues.license and "licen" in text.lower()
        result = exact.upstream_changes(session, models_asked, terms_only=terms_only)
        return Routed(intent.value, result)
    if intent is Intent.TRACKED:
        return Routed(intent.value, listings.tracked(session))
    if intent is Intent.APPROVED_FOR_USE:
        among = [model] if model is not None else list(match.candidates)
        result = listings.approved_for_use(session, cues.use, among, asked.today)
        return Routed(intent.value, result)
    if intent is Intent.PENDING:
        return Routed(intent.value, listings.pending(session, asked.today, cues.use))
    if needs_model and model is None and asked.untracked:
        return Routed(intent.value, listings.not_tracked(asked.untracked[0]))
    return None
