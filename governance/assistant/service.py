"""The assistant: a question in, an answer with numbered sources out. It changes nothing.

Registry questions (is X approved, who approved it, what its license requires, what changed
upstream, what is approved for a use, what is pending) get exact answers straight from the
database and the knowledge base, without the model. Everything else is answered by the local
model from retrieved, numbered sources, or with "I don't know" when nothing relevant is found.
The session it reads with is never committed.
"""

from __future__ import annotations

import time
from dataclasses import replace

from sqlalchemy.orm import Session, sessionmaker

from governance.assistant import exact
from governance.assistant.answers import Answer
from governance.assistant.exact_reading import read_question
from governance.assistant.exact_route import route
from governance.assistant.generation import PartialCallback, generate, relevant
from governance.assistant.intents import Intent
from governance.assistant.prompting import (
    DONT_KNOW,
)
from governance.assistant.retrieval import Retriever
from governance.assistant.runtime.queue import PositionCallback, QueuedRuntime
from governance.assistant.sources import all_passages
from governance.core.clock import Clock
from governance.core.config import Settings
from governance.core.errors import InvalidInput
from governance.upstream.hub import HubClient

QUESTION_MAX = 1000
TOP_K = 4


def _exact(intent: str, result: exact.ExactAnswer, started: float, kind: str = "exact") -> Answer:
    return Answer(
        text=result.text,
        sources=tuple(result.sources),
        kind=kind,
        intent=intent,
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
    hub: HubClient | None = None,
) -> Answer:
    """Answer ``question`` exactly from the registry, or with the local model from sources.

    ``hub`` lets hardware-fit questions ("can we run X on a 16 GB laptop?") be answered from
    the Hub's figures (``exact_hardware``); without it they are not recognised.

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
        result = _answer_exact(
            session, text, clock=clock, settings=settings, started=started, hub=hub
        )
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


def _answer_exact(
    session: Session,
    text: str,
    *,
    clock: Clock,
    settings: Settings,
    started: float,
    hub: HubClient | None = None,
) -> Answer | None:
    """The exact answer (or ask-back, or decline) for ``text``; None: go free-form."""
    asked, _people = read_question(
        session, text, today=clock.now().date(), settings=settings, hub=hub
    )
    routed = route(session, asked)
    if routed is None:
        return None
    if routed.kind == "unknown":
        return Answer(DONT_KNOW, (), "unknown", routed.intent, elapsed=time.monotonic() - started)
    reply = _exact(routed.intent, routed.result, started, routed.kind)
    return replace(reply, candidates=routed.candidates)
