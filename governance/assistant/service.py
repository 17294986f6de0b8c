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
from collections.abc import Callable, Sequence
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, replace

from sqlalchemy.orm import Session, sessionmaker

from governance.assistant import exact
from governance.assistant.grounding import (
    closest_passage_sentence,
    example_exchange,
    ground,
    is_dont_know,
)
from governance.assistant.intents import Intent, read_cues
from governance.assistant.intents import classify as classify_intent
from governance.assistant.prompting import (
    DONT_KNOW,
    MESSAGE_OVERHEAD_TOKENS,
    build_grounded_messages,
    make_counter,
    prompt_budget,
)
from governance.assistant.queued import PositionCallback, QueuedRuntime
from governance.assistant.resolve import LicenseMention, ModelMatch, match_license, match_model
from governance.assistant.retrieval import Hit, Passage, Retriever, tokenize
from governance.assistant.sources import (
    Source,
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
MIN_SHARED_TERMS = 2
STRONG_COVERAGE = 0.6
# The worker notices a passed deadline between tokens; this covers the last token and the hop.
RESULT_GRACE_SECONDS = 2.0
_REPO_LIKE = re.compile(r"\b([A-Za-z0-9][\w.\-]*/[A-Za-z0-9][\w.\-]*[A-Za-z0-9])")

PartialCallback = Callable[[str], None]


@dataclass(frozen=True)
class Answer:
    """An answer. ``text`` is plain text (escape it for mrkdwn) with [n] citations.

    ``kind``: ``exact`` (from the registry, no model), ``generated`` (written by the local
    model, advisory), ``unknown`` (nothing relevant: "I don't know") or ``clarify`` (the model
    name fits several tracked models; ``candidates`` lists them).
    """

    text: str
    sources: tuple[Source, ...]
    kind: str
    intent: str
    model_name: str | None = None
    timed_out: bool = False
    advisory: str | None = None
    candidates: tuple[str, ...] = ()
    elapsed: float = 0.0

    def render(self) -> str:
        """The whole answer as plain text: body, sources, and the label of a generated one."""
        parts = [self.text]
        if self.sources:
            parts.append("Sources:\n" + "\n".join(s.line() for s in self.sources))
        if self.advisory:
            parts.append(self.advisory)
        return "\n\n".join(parts)


def advisory_label(model_name: str) -> str:
    """The label every generated answer carries."""
    return (
        f"Written by the local model {model_name}. Advisory only: check the sources; the "
        "registry, not this text, decides what is approved."
    )


def untraced_label(model_name: str) -> str:
    """The label of an answer whose model text could not be traced to any source."""
    return (
        f"The local model {model_name} wrote an answer that cites no source, so it is not "
        "shown; this is the closest source passage instead. Advisory only."
    )


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
    hits = _relevant(text, Retriever(passages).search(text, k=TOP_K))
    if not hits:
        elapsed = time.monotonic() - started
        return Answer(DONT_KNOW, (), "unknown", Intent.FREE_FORM.value, elapsed=elapsed)
    return _generate(
        text,
        [hit.passage for hit in hits],
        runtime=runtime,
        settings=settings,
        deadline=deadline,
        started=started,
        on_partial=on_partial,
        on_position=on_position,
    )


def _relevant(question: str, hits: list[Hit]) -> list[Hit]:
    """Hits that share at least two distinct terms with the question, or most of its weight.

    One shared word is not topicality: "the capital of France" shares only "France" with the
    Etalab license entry.
    """
    terms = set(tokenize(question))
    kept = []
    for hit in hits:
        shared = terms & set(tokenize(f"{hit.passage.title}\n{hit.passage.text}"))
        if len(shared) >= MIN_SHARED_TERMS or hit.coverage >= STRONG_COVERAGE:
            kept.append(hit)
    return kept


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
        reply = _exact(intent, exact.clarify(match.candidates), started, "clarify")
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
        return _exact(intent, exact.tracked(session), started)
    if intent is Intent.APPROVED_FOR_USE:
        among = [model] if model is not None else list(match.candidates)
        return _exact(intent, exact.approved_for_use(session, cues.use, among, today), started)
    if intent is Intent.PENDING:
        return _exact(intent, exact.pending(session), started)
    if needs_model and model is None and untracked:
        return _exact(intent, exact.not_tracked(untracked[0]), started)
    return None


def _numbered(
    passages: Sequence[Passage], order: Sequence[int] | None = None
) -> tuple[Source, ...]:
    picks = order if order is not None else range(len(passages))
    return tuple(
        Source(n, passages[i].title, passages[i].ref, passages[i].source_id)
        for n, i in enumerate(picks, start=1)
    )


def _generate(
    question: str,
    passages: list[Passage],
    *,
    runtime: QueuedRuntime | None,
    settings: Settings,
    deadline: float,
    started: float,
    on_partial: PartialCallback | None,
    on_position: PositionCallback | None,
) -> Answer:
    intent = Intent.FREE_FORM.value
    if runtime is None:
        text = "No language model is available to write an answer; these sources look relevant."
        elapsed = time.monotonic() - started
        return Answer(text, _numbered(passages), "unknown", intent, elapsed=elapsed)
    max_tokens = settings.model_max_tokens
    n_ctx = runtime.context_window or settings.model_n_ctx
    example = example_exchange()
    count = make_counter(runtime.count_tokens)
    example_cost = sum(count(m["content"]) + MESSAGE_OVERHEAD_TOKENS for m in example)
    prompt = build_grounded_messages(
        question,
        passages,
        budget_tokens=prompt_budget(n_ctx, max_tokens) - example_cost,
        count_tokens=runtime.count_tokens,
    )
    messages = [prompt.messages[0], *example, *prompt.messages[1:]]
    pieces: list[str] = []

    def on_token(piece: str) -> None:
        pieces.append(piece)
        if on_partial is not None:
            on_partial("".join(pieces))

    future = runtime.submit(
        messages,
        max_tokens=max_tokens,
        deadline=deadline,
        on_token=on_token,
        on_position=on_position,
    )
    wait = max(0.0, deadline - time.monotonic()) + RESULT_GRACE_SECONDS
    try:
        generation = future.result(timeout=wait)
        raw, timed_out = generation.text, generation.timed_out
    except FutureTimeout:
        future.cancel()  # still queued: it never starts; running: it stops at the deadline
        raw, timed_out = "".join(pieces), True
    elapsed = time.monotonic() - started
    if is_dont_know(raw) and not timed_out:
        return Answer(DONT_KNOW, (), "unknown", intent, model_name=runtime.name, elapsed=elapsed)
    text, used = ground(raw, prompt.sources)
    advisory = advisory_label(runtime.name)
    if not used and text:
        # Nothing in the model's text can be traced to a source: do not pass it on as an
        # answer; quote the closest source sentence instead, and say so.
        closest = closest_passage_sentence(question, prompt.sources)
        if closest is not None:
            sentence, index = closest
            text = f'The closest source says: "{sentence}" [1]'
            used = [index]
            advisory = untraced_label(runtime.name)
    # Cited sources in order of first use; if nothing could be traced, what the model was given.
    sources = _numbered(prompt.sources, used or None)
    if timed_out:
        note = (
            f"(Stopped at the {settings.answer_timeout_seconds:g}-second time budget: this "
            "answer is partial.)"
        )
        text = f"{text}\n\n{note}" if text else note
    elif not text:
        text = "The local model gave no answer from these sources."
    return Answer(
        text=text,
        sources=sources,
        kind="generated",
        intent=intent,
        model_name=runtime.name,
        timed_out=timed_out,
        advisory=advisory,
        elapsed=elapsed,
    )
