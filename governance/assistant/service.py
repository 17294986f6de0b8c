"""The assistant: a question in, an answer with numbered sources out. It changes nothing.

Registry questions (is X approved, who approved it, what its license requires, what changed
upstream, what is approved for a use, what is pending) get exact answers straight from the
database and the knowledge base, without the model. Everything else is answered by the local
model from retrieved, numbered sources, or with "I don't know" when nothing relevant is found.
The session it reads with is never committed.
"""

from __future__ import annotations

import re
import time
from dataclasses import replace

from sqlalchemy.orm import Session, sessionmaker

from governance.assistant import exact, listings
from governance.assistant.answers import Answer
from governance.assistant.generation import PartialCallback, generate, relevant
from governance.assistant.intents import Intent, read_cues
from governance.assistant.intents import classify as classify_intent
from governance.assistant.prompting import (
    DONT_KNOW,
)
from governance.assistant.queued import PositionCallback, QueuedRuntime
from governance.assistant.resolve import LicenseMention, ModelMatch, match_license, match_model
from governance.assistant.retrieval import Retriever
from governance.assistant.sources import (
    all_passages,
    latest_snapshot,
    license_of,
    tracked_models,
)
from governance.clock import Clock
from governance.config import Settings
from governance.errors import InvalidInput
from governance.licenses.knowledge import load_knowledge_base

QUESTION_MAX = 1000
TOP_K = 4
_REPO_LIKE = re.compile(r"\b([A-Za-z0-9][\w.\-]*/[A-Za-z0-9][\w.\-]*[A-Za-z0-9])")


def _exact(
    intent: Intent, result: exact.ExactAnswer, started: float, kind: str = "exact"
) -> Answer:
    return Answer(
        text=result.text,
        sources=tuple(result.sources),
        kind=kind,
        intent=intent.value,
        elapsed=time.monotonic() - started,
    )


def answer(
    question: str,
    *,
    session_factory: sessionmaker[Session],
    clock: Clock,
    runtime: QueuedRuntime | None,
    settings: Settings,
    on_partial: PartialCallback | None = None,
    on_position: PositionCallback | None = None,
) -> Answer:
    """Answer ``question`` exactly from the registry, or with the local model from sources.

    ``on_partial(text)`` receives the whole answer so far after each generated token and
    ``on_position(ahead)`` the number of questions ahead in the model's queue; both run on the
    model's worker thread and must return quickly (see ``streaming.ThrottledPublisher``). The
    budget ``settings.answer_timeout_seconds`` counts from this call, queue time included.
    ``runtime=None`` answers exact questions and lists sources instead of generating.

    Raises:
        InvalidInput: empty or over-long question.
        ModelUnavailable, ModelServerError, PromptTooLong, RuntimeClosed: the model failed.
    """
    started = time.monotonic()
    deadline = started + settings.answer_timeout_seconds
    text = " ".join(question.split())
    if not text:
        raise InvalidInput(
            'Ask a question, e.g. "is meta-llama/Llama-3.1-8B-Instruct approved for commercial '
            'use?"'
        )
    if len(text) > QUESTION_MAX:
        raise InvalidInput(f"Keep the question under {QUESTION_MAX:,} characters.")
    session = session_factory()
    try:
        result = _answer_exact(session, text, clock=clock, settings=settings, started=started)
        if result is not None:
            return result
        passages = all_passages(session, hub=settings.hub_endpoint)
    finally:
        session.rollback()  # read-only: nothing the assistant does is ever committed
        session.close()
    hits = relevant(text, Retriever(passages).search(text, k=TOP_K))
    if not hits:
        elapsed = time.monotonic() - started
        return Answer(DONT_KNOW, (), "unknown", Intent.FREE_FORM.value, elapsed=elapsed)
    return generate(
        text,
        [hit.passage for hit in hits],
        runtime=runtime,
        settings=settings,
        deadline=deadline,
        started=started,
        on_partial=on_partial,
        on_position=on_position,
    )


def _prefer_license(
    session: Session, text: str, match: ModelMatch, mention: LicenseMention | None
) -> bool:
    """'the llama 3.1 license': the license name covers everything the model name matched,
    and the question is about terms (not approvals) of a license that is not simply the one
    model's own current license (then the model's answer, with its registry status, is better).
    """
    if mention is None or (match.model is None and not match.ambiguous):
        return False
    cues = read_cues(text)
    if not cues.license or cues.approval_word or cues.approver or cues.changes:
        return False
    if not match.matched <= mention.matched:
        return False
    if match.model is None:
        return True
    current = license_of(latest_snapshot(session, match.model), load_knowledge_base())
    return current is None or current.id != mention.terms.id


def _answer_exact(
    session: Session, text: str, *, clock: Clock, settings: Settings, started: float
) -> Answer | None:
    models = tracked_models(session)
    match = match_model(text, models)
    mention = match_license(text, load_knowledge_base())
    cues = read_cues(text)
    if _prefer_license(session, text, match, mention):
        match = ModelMatch(None)
    elif match.ambiguous and len(match.matched) <= 1 and cues.license and not cues.approval:
        match = ModelMatch(None)  # "the Built with Llama notice": a family word, not a model
    model = match.model
    untracked = [r.rstrip(".") for r in _REPO_LIKE.findall(text) if not r.startswith("http")]
    names_model = model is not None or match.ambiguous or bool(untracked)
    intent = classify_intent(cues, names_model=names_model, names_license=mention is not None)
    today = clock.now().date()
    needs_model = intent in (Intent.APPROVAL_STATUS, Intent.APPROVER, Intent.LICENSE)
    if match.ambiguous and needs_model:
        reply = _exact(intent, listings.clarify(match.candidates), started, "clarify")
        return replace(reply, candidates=tuple(m.repo_id for m in match.candidates))
    if intent is Intent.APPROVAL_STATUS and model is not None:
        return _exact(intent, exact.approval_status(model, cues.use, today), started)
    if intent is Intent.APPROVER and model is not None:
        return _exact(intent, exact.approvers(session, model, cues.use), started)
    if intent is Intent.LICENSE and (model is not None or mention is not None):
        result = exact.license_answer(
            session,
            model=model,
            terms=mention.terms if model is None and mention is not None else None,
            commercial_focus=cues.use is not None or "commercial" in text.lower(),
            hub=settings.hub_endpoint,
        )
        return _exact(intent, result, started)
    if intent is Intent.CHANGES:
        models_asked = [model] if model is not None else list(match.candidates)
        terms_only = cues.license and "licen" in text.lower()
        result = exact.upstream_changes(session, models_asked, terms_only=terms_only)
        return _exact(intent, result, started)
    if intent is Intent.TRACKED:
        return _exact(intent, listings.tracked(session), started)
    if intent is Intent.APPROVED_FOR_USE:
        among = [model] if model is not None else list(match.candidates)
        return _exact(intent, listings.approved_for_use(session, cues.use, among, today), started)
    if intent is Intent.PENDING:
        return _exact(intent, listings.pending(session), started)
    if needs_model and model is None and untracked:
        return _exact(intent, listings.not_tracked(untracked[0]), started)
    return None
